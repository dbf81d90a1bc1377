"""Command-line start-up benchmark (issue #8): ``--help`` and TAB completion must answer
in under 0.3 s, so every heavy library loads inside the command that needs it.

    .venv/bin/python tests/bench/bench_cli.py [--runs 15]

Times whole processes as a shell starts them, against two baselines measured in the same
run: a bare interpreter (the floor no command can beat) and one that only imports typer
(the command-line library itself).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_S = 0.3


def timed(command: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        times.append(time.perf_counter() - started)
    return times


def completion(words: str) -> dict[str, str]:
    return {"_GRIDGIS_COMPLETE": "complete_bash", "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ)
    gridgis = [str(BIN / "gridgis")]
    cases = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"], {}),
        ("python -c 'import typer' (baseline)", [sys.executable, "-c", "import typer"], {}),
        ("gridgis --version", [*gridgis, "--version"], {}),
        ("gridgis --help", [*gridgis, "--help"], {}),
        ("gridgis import --help", [*gridgis, "import", "--help"], {}),
        ("TAB: gridgis <TAB>", gridgis, completion("gridgis ")),
        ("TAB: gridgis import <TAB> (KIND)", gridgis, completion("gridgis import ")),
        ("TAB: gridgis backtest --unit <TAB>", gridgis, completion("gridgis backtest --unit ")),
    ]
    timed([sys.executable, "-c", "pass"], env, 3)  # warm the file cache
    floor = None
    print(f"{'':40} {'min':>7} {'median':>7} {'max':>7}  vs bare python  (target < "
          f"{TARGET_S} s, {args.runs} runs)")
    for label, command, extra in cases:
        times = timed(command, {**env, **extra}, args.runs)
        median = statistics.median(times)
        floor = floor or median
        verdict = "" if "baseline" in label else ("  ok" if median < TARGET_S else "  SLOW")
        print(f"{label:40} {min(times):7.3f} {median:7.3f} {max(times):7.3f}  "
              f"x{median / floor:5.1f}{verdict}")


if __name__ == "__main__":
    main()
