"""Overload benchmark (issue #16): light requests keep their latency while analyses are
hammered, and a stopping service exits promptly.

    .venv/bin/python tests/bench/bench_overload.py [--seconds 15] [--hammers 32]

Builds the demo district in a throw-away embedded cluster and runs `gridgis serve` on it
as its own process (as the README starts it). Then:
  1. baseline: 4 clients ask /grids/at at random places in the district;
  2. the same while ``--hammers`` clients ask for analyses no cache holds (Gi* with ever
     new permutation counts, forecasts, near repeats): /grids/at's p50 and p99 against
     the baseline (target: p99 within 2x), and what the hammers were answered;
  3. SIGTERM to the service while analyses compute: seconds until it has exited
     (target < 10 s).
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import numpy as np

from gridgis.gis.demo import build_demo
from tests.bench.scratch import bench_token, scratch_database
from tests.browser import free_port

LIGHT_CLIENTS = 4


def light_load(base: str, stop: threading.Event, latencies: list[float],
               headers: dict[str, str]) -> None:
    rng = np.random.default_rng(threading.get_ident() % 1000)
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        while not stop.is_set():
            lon, lat = 24.93 + rng.uniform(-0.01, 0.01), 60.165 + rng.uniform(-0.006, 0.006)
            started = time.perf_counter()
            response = client.get("/grids/at", params={"lon": lon, "lat": lat})
            latencies.append(time.perf_counter() - started)
            assert response.status_code in (200, 404), response.text


def hammer(base: str, stop: threading.Event, counter, answers: dict[int, int],
           lock: threading.Lock, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
        while not stop.is_set():
            n = next(counter)
            path, params = [
                ("/hotspots/gi", {"permutations": 19 + n % 900, "seed": n}),
                ("/hotspots/forecast", {"horizon_days": 1 + n % 365}),
                ("/hotspots/near-repeat", {"permutations": 19 + n % 900, "seed": n}),
            ][n % 3]
            try:
                status = client.get(path, params=params).status_code
            except httpx.HTTPError:
                status = 0
            with lock:
                answers[status] = answers.get(status, 0) + 1


def measure(base: str, seconds: float, hammers: int, headers: dict[str, str]
            ) -> tuple[list[float], dict[int, int]]:
    stop, lock = threading.Event(), threading.Lock()
    latencies: list[float] = []
    answers: dict[int, int] = {}
    counter = itertools.count()
    threads = [threading.Thread(target=light_load, args=(base, stop, latencies, headers))
               for _ in range(LIGHT_CLIENTS)]
    threads += [threading.Thread(target=hammer, args=(base, stop, counter, answers, lock, headers))
                for _ in range(hammers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(180)
    return latencies, answers


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--hammers", type=int, default=32)
    args = parser.parse_args()
    with scratch_database() as (cluster, db, work):
        build_demo(db)
        headers = {"Authorization": f"Bearer {bench_token(db, 'police')}"}
        port = free_port()
        env = {**os.environ, "GRIDGIS_DATABASE_URL": cluster.url()}
        server = subprocess.Popen([sys.executable, "-m", "gridgis", "serve", "--port",
                                   str(port)], env=env, cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    httpx.get(base + "/", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.5)
            time.sleep(3)  # the start-up warm-up, as a running service has had
            alone, _ = measure(base, args.seconds, 0, headers)
            loaded, answers = measure(base, args.seconds, args.hammers, headers)
            p50a, p99a = percentiles(alone)
            p50b, p99b = percentiles(loaded)
            print(f"/grids/at alone:            {len(alone):6} requests, p50 {p50a:7.1f} ms, "
                  f"p99 {p99a:7.1f} ms")
            print(f"/grids/at with {args.hammers} hammers: {len(loaded):6} requests, p50 "
                  f"{p50b:7.1f} ms, p99 {p99b:7.1f} ms   p99 ratio {p99b / p99a:4.2f} "
                  "(target <= 2)")
            print(f"the hammers' analyses were answered: {dict(sorted(answers.items()))}")
            stop = threading.Event()
            busy = [threading.Thread(target=hammer, args=(base, stop, itertools.count(10_000),
                                                          {}, threading.Lock(),
                                                          headers))
                    for _ in range(8)]
            for thread in busy:
                thread.start()
            time.sleep(3)
            started = time.perf_counter()
            server.send_signal(signal.SIGTERM)
            server.wait(120)
            print(f"SIGTERM while analyses compute: exited in "
                  f"{time.perf_counter() - started:4.1f} s (target < 10 s), code "
                  f"{server.returncode}")
            stop.set()
            for thread in busy:
                thread.join(60)
        finally:
            server.kill()


if __name__ == "__main__":
    main()
