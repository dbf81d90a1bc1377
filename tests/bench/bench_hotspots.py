"""Hotspot benchmarks (issue #5).

    .venv/bin/python tests/bench/bench_hotspots.py [--side 100] [--bins 24]

(a) Gi* with 999 permutations on side² units (queen contiguity on a lattice, Poisson
    counts with a few clusters): gridgis's gi_star against esda.G_Local in the same run
    (the faster of esda's n_jobs=1 and n_jobs=-1), target ratio <= 1.0, with the largest
    z-score difference (target < 1e-9);
(b) a full emerging-hotspot run on side² units × ``bins`` time bins, target < 60 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from esda import G_Local
from libpysal.weights import lat2W

from gridgis.gis.hotspots.emerging import emerging_hotspots
from gridgis.gis.hotspots.gistar import gi_star


def counts(side: int, bins: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rate = np.full((side, side), 2.0)
    for cx, cy in rng.integers(5, side - 5, (6, 2)):
        rate[cx - 3:cx + 4, cy - 3:cy + 4] += rng.uniform(3, 8)
    growth = np.linspace(0.7, 1.3, bins)
    return rng.poisson(rate.ravel()[:, None] * growth[None, :]).astype(float)


def best_of(runs: int, function) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=100)
    parser.add_argument("--bins", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    w = lat2W(args.side, args.side, rook=False)
    cube = counts(args.side, args.bins, 7)
    y = cube.sum(axis=1)
    n = len(y)

    ours, result = best_of(args.runs, lambda: gi_star(y, w, permutations=999, seed=1))
    esda_times = {}
    for jobs in (1, -1):
        esda_times[jobs], reference = best_of(args.runs, lambda j=jobs: G_Local(
            y, w, transform="B", permutations=999, star=True, seed=1, n_jobs=j,
            keep_simulations=False))
    baseline = min(esda_times.values())
    gap = np.abs(result.z - reference.Zs).max()
    agree = np.abs(result.p_sim - np.minimum(1, 2 * reference.p_sim)).max()
    print(f"(a) Gi*, 999 permutations, {n:,} units")
    print(f"    gridgis gi_star       {ours:6.2f} s")
    print(f"    esda.G_Local          {esda_times[1]:6.2f} s (n_jobs=1), "
          f"{esda_times[-1]:.2f} s (n_jobs=-1)")
    print(f"    ratio gridgis / esda  {ours / baseline:6.2f}   (target <= 1.0)")
    print(f"    max |z - z_esda|      {gap:.1e}   (target < 1e-9); "
          f"max |p_sim - p_sim_esda| {agree:.3f} (different random draws)")

    started = time.perf_counter()
    patterns = emerging_hotspots(cube, w)
    elapsed = time.perf_counter() - started
    print(f"(b) emerging hot spots, {n:,} units x {args.bins} bins: {elapsed:.1f} s "
          f"(target < 60 s)")
    print("    " + ", ".join(f"{k}: {v}" for k, v in
                             patterns["pattern"].value_counts().items()))


if __name__ == "__main__":
    main()
