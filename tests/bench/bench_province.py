"""Province batch benchmark (issue #14): lattice Gi* for every city of a province on a
local Dask cluster of 1, 2 and 4 worker processes, against one process computing the
cities one after the other (the baseline, measured in the same run); every cluster's
result must equal the baseline's.

    .venv/bin/python tests/bench/bench_province.py [--cities 8] [--incidents 100000]

Each city is synthetic (a 12 km square district, incidents in hot clusters over a
uniform background, its own seed) and is generated where its task runs, as a city read
from its own database would be: nothing but the city's name and seed is sent to a
worker. On a machine of C cores, more than C workers cannot help.
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

from gridgis.gis.hotspots.province import City, province_gi

SIDE_M, CRS = 12_000.0, "EPSG:32635"


@dataclass(frozen=True)
class SyntheticCity:
    name: str
    seed: int
    incidents: int

    def load(self) -> City:
        rng = np.random.default_rng(self.seed)
        x0, y0 = 380_000.0 + 20_000 * self.seed, 6_665_000.0
        hot = rng.uniform(1_000, SIDE_M - 1_000, (12, 2))
        clustered = int(self.incidents * 0.4)
        points = np.vstack([
            hot[rng.integers(0, len(hot), clustered)] + rng.normal(0, 250, (clustered, 2)),
            rng.uniform(0, SIDE_M, (self.incidents - clustered, 2))])
        points = points[(points >= 0).all(axis=1) & (points <= SIDE_M).all(axis=1)]
        return City(self.name, shapely.box(x0, y0, x0 + SIDE_M, y0 + SIDE_M),
                    points + [x0, y0], CRS)


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser()
    parser.add_argument("--cities", type=int, default=8)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--cell", type=float, default=150.0)
    args = parser.parse_args()
    cities = [SyntheticCity(f"city-{k:02d}", k, args.incidents) for k in range(args.cities)]

    started = time.perf_counter()
    baseline = province_gi(cities, cell_m=args.cell)
    alone_s = time.perf_counter() - started
    rows = [("one process, no Dask", alone_s, True, None)]
    for workers in (1, 2, 4):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, memory_limit=0) as cluster, \
                Client(cluster) as client:
            client.run(lambda: None)  # workers up before the clock starts
            started = time.perf_counter()
            result = province_gi(cities, cell_m=args.cell, client=client)
            seconds = time.perf_counter() - started
            peak = max(client.run(lambda: psutil.Process().memory_info().rss).values())
        equal = result.equals(baseline)
        rows.append((f"Dask, {workers} worker{'s' if workers > 1 else ''}", seconds, equal,
                     peak))
        if not equal:
            pd.testing.assert_frame_equal(result, baseline)  # says where they differ
    cells = len(baseline)
    print(f"{args.cities} cities of {SIDE_M / 1000:.0f} km x {SIDE_M / 1000:.0f} km, "
          f"{args.incidents:,} incidents each, {args.cell:.0f} m hexagons ({cells:,} cells "
          f"in all); {os.cpu_count()} cores")
    print(f"{'run':24} {'seconds':>8} {'speed-up':>9} {'equal':>6} {'worker RSS MB':>14}")
    for name, seconds, equal, peak in rows:
        print(f"{name:24} {seconds:8.1f} {alone_s / seconds:8.2f}x {str(equal):>6} "
              f"{'' if peak is None else f'{peak / 2**20:14.0f}'}")


if __name__ == "__main__":
    main()
