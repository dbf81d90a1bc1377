"""Province batch benchmark (issue #14): lattice Gi*, emerging hot spots and forecast
backtests for every city of a province on a local Dask cluster of 1, 2 and 4 worker
processes, against one process computing the cities one after the other (the
baseline, measured in the same run); every cluster's result must equal the baseline's.

    .venv/bin/python tests/bench/bench_province.py [--cities 8] [--incidents 100000]
        [--analyses gi,emerging,backtest]

Each city is synthetic (a 12 km square district over three years: incidents in hot
clusters, some of them appearing or growing, over a uniform background, its own seed)
and is generated where its task runs, as a city read from its own database would be:
nothing but the city's name and seed is sent to a worker. On a machine of C cores, more
than C workers cannot help.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd
import psutil
import shapely

from gridgis.gis.hotspots.province import (
    City,
    city_backtest,
    city_emerging,
    city_gi,
    for_each_city,
)

SIDE_M, CRS = 12_000.0, "EPSG:32635"
FIRST, LAST = pd.Timestamp("2023-07-01", tz="UTC"), pd.Timestamp("2026-07-01", tz="UTC")
SPAN_S = (LAST - FIRST).total_seconds()


@dataclass(frozen=True)
class SyntheticCity:
    name: str
    seed: int
    incidents: int

    def load(self) -> City:
        rng = np.random.default_rng(self.seed)
        x0, y0 = 380_000.0 + 20_000 * self.seed, 6_665_000.0
        hot = rng.uniform(1_000, SIDE_M - 1_000, (12, 2))
        onset = np.where(np.arange(12) < 4, rng.uniform(0.3, 0.8, 12), 0.0)  # 4 emerge
        clustered = int(self.incidents * 0.4)
        which = rng.integers(0, len(hot), clustered)
        share = onset[which] + (1 - onset[which]) * np.sqrt(rng.uniform(0, 1, clustered))
        points = np.vstack([hot[which] + rng.normal(0, 250, (clustered, 2)),
                            rng.uniform(0, SIDE_M, (self.incidents - clustered, 2))])
        shares = np.concatenate([share, rng.uniform(0, 1, self.incidents - clustered)])
        inside = (points >= 0).all(axis=1) & (points <= SIDE_M).all(axis=1)
        when = FIRST + pd.to_timedelta(np.sort(shares[inside] * SPAN_S).round(), unit="s")
        order = np.argsort(shares[inside], kind="stable")
        return City(self.name, shapely.box(x0, y0, x0 + SIDE_M, y0 + SIDE_M),
                    points[inside][order] + [x0, y0], CRS, pd.DatetimeIndex(when))


def analyses(cell_m: float) -> dict[str, tuple]:
    return {
        "gi": (city_gi, {"cell_m": cell_m}),
        "emerging": (city_emerging, {"start": LAST - pd.DateOffset(months=24), "end": LAST,
                                     "bin": "month", "cell_m": cell_m}),
        "backtest": (city_backtest, {"train_start": FIRST,
                                     "train_end": LAST - pd.DateOffset(months=6),
                                     "test_end": LAST, "cell_m": cell_m}),
    }


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser()
    parser.add_argument("--cities", type=int, default=8)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--cell", type=float, default=150.0)
    parser.add_argument("--analyses", default="gi,emerging,backtest")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    cities = [SyntheticCity(f"city-{k:02d}", k, args.incidents) for k in range(args.cities)]
    known = analyses(args.cell)
    unknown = set(args.analyses.split(",")) - set(known)
    if unknown:
        parser.error(f"--analyses names {', '.join(sorted(unknown))}; known: "
                     + ", ".join(known))
    chosen = {name: task for name, task in known.items() if name in args.analyses.split(",")}

    rows = []
    baselines = {}
    for name, (task, kwargs) in chosen.items():
        started = time.perf_counter()
        baselines[name] = for_each_city(task, cities, **kwargs)
        rows.append((name, "one process, no Dask", time.perf_counter() - started, True,
                     None))
    for workers in map(int, args.workers.split(",")):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, memory_limit=0) as cluster, \
                Client(cluster) as client:
            client.run(lambda: None)  # workers up before the clock starts
            for name, (task, kwargs) in chosen.items():
                started = time.perf_counter()
                result = for_each_city(task, cities, client, **kwargs)
                seconds = time.perf_counter() - started
                peak = max(client.run(lambda: psutil.Process().memory_info().rss).values())
                equal = result.equals(baselines[name])
                rows.append((name, f"Dask, {workers} worker{'s' if workers > 1 else ''}",
                             seconds, equal, peak))
                if not equal:
                    pd.testing.assert_frame_equal(result, baselines[name])  # says where
    cells = len(baselines.get("gi", next(iter(baselines.values()))))
    print(f"{args.cities} cities of {SIDE_M / 1000:.0f} km x {SIDE_M / 1000:.0f} km, "
          f"{args.incidents:,} incidents each over {FIRST:%Y-%m} to {LAST:%Y-%m}, "
          f"{args.cell:.0f} m hexagons ({cells:,} rows); {os.cpu_count()} cores")
    print(f"{'analysis':9} {'run':24} {'seconds':>8} {'speed-up':>9} {'equal':>6} "
          f"{'worker RSS MB':>14}")  # resident after the run
    alone = {name: seconds for name, run, seconds, _, peak in rows if peak is None}
    for name, run, seconds, equal, peak in sorted(rows, key=lambda r: list(chosen).index(
            r[0])):
        print(f"{name:9} {run:24} {seconds:8.1f} {alone[name] / seconds:8.2f}x "
              f"{str(equal):>6} {'' if peak is None else f'{peak / 2**20:14.0f}'}")
    if "emerging" in baselines:
        patterns = baselines["emerging"]["pattern"].value_counts()
        print("emerging patterns, all cities:", ", ".join(f"{k} {v:,}"
                                                         for k, v in patterns.items()))
    if "backtest" in baselines:
        table = baselines["backtest"]
        at = table[table["coverage"] == 0.05].groupby("method")["pai"].mean()
        print("backtest, mean PAI at 5 % over the cities:",
              ", ".join(f"{k} {v:.2f}" for k, v in at.sort_values().items()))


if __name__ == "__main__":
    main()
