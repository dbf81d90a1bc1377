"""From a request and the data to a patrol plan: the targets placed on the streets, the
travel-time matrix, the solver's plan beside the naive one and a longer solve, and each
unit's route along the roads. Reads nothing from the database: the service hands the
inputs in, so that no connection is held while this computes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from ..errors import InvalidInput
from ..network.graph import RoadGraph, Speeds
from ..network.paths import shortest_path, travel_minutes
from ..patrol import solver
from ..patrol.problem import Break, PatrolProblem, PlanResult, Target
from ..times import zone
from .patrol_options import PatrolRequest

BREAK_FROM_H = 6.0  # shifts longer than this get a break, in their middle fifth
MAX_OFF_STREET_M = 300.0  # a target farther from every street is reported, not planned


@dataclass
class PlanInputs:
    graph: RoadGraph
    post_name: str
    post: tuple[float, float]  # metric
    candidates: gpd.GeoDataFrame  # name, risk, cell, geometry (metric points)
    speeds: Speeds = field(default_factory=Speeds)


@dataclass
class UnitLine:
    unit: int
    name: str
    minutes: float
    metres: float
    risk: float
    line: shapely.LineString | None  # metric
    stop_along: list[float] = field(default_factory=list)  # metres along it to each stop


@dataclass
class BuiltPlan:
    result: dict[str, Any]  # JSON: units, stops, targets, comparison, solver
    lines: list[UnitLine]


def unit_name(unit: int) -> str:
    return f"巡逻组 {unit + 1} / Unit {unit + 1}"


def build_plan(request: PatrolRequest, data: PlanInputs, srid: int) -> BuiltPlan:
    graph, mode = data.graph, request.mode
    if not len(graph.edges) or not graph.open_for(mode).any():
        raise InvalidInput(f"there are no roads open to {mode} to plan over: import roads "
                           "first (gridgis import roads FILE)", field="mode")
    chosen = data.candidates.reset_index(drop=True)
    if chosen.empty:
        raise InvalidInput("there are no targets: no forecast risk or hot spot in the area, "
                           "and no targets were given", field="source")
    xy, off_street = _on_streets(graph, shapely.get_coordinates(chosen.geometry.values),
                                 mode)
    points = np.vstack([np.array([data.post]), xy])
    travel = travel_minutes(graph, points, mode, data.speeds)
    reachable = np.isfinite(travel[0, 1:]) & np.isfinite(travel[1:, 0]) \
        & (off_street <= MAX_OFF_STREET_M)
    unreachable = chosen.loc[~reachable, "name"].tolist()
    keep = np.flatnonzero(reachable)
    chosen, xy = chosen.iloc[keep].reset_index(drop=True), xy[keep]
    travel = travel[np.ix_(np.r_[0, keep + 1], np.r_[0, keep + 1])]
    if chosen.empty:
        raise InvalidInput(f"no target can be reached from post {data.post_name!r} by "
                           f"{mode}", field="post")
    problem = _problem(request, chosen, xy, data.post, travel)
    ours = solver.plan(problem, solver.SolveOptions(
        request.seed, request.time_limit_s, request.work, request.restarts, request.tolerance))
    naive = solver.naive(problem)
    longer = solver.search_longer(problem, request.compare_s) \
        if request.compare_s > 0 else None
    to_wgs84 = pyproj.Transformer.from_crs(srid, 4326, always_xy=True)
    lines = [_unit_line(graph, problem, route, mode, data.speeds) for route in ours.routes]
    result = {
        "units": [_unit_json(request, problem, route, line, xy, to_wgs84)
                  for route, line in zip(ours.routes, lines, strict=True)],
        "targets": _targets_json(problem, chosen, xy, to_wgs84),
        "shift": {"start": _local(request, 0), "end": _local(request, request.shift_min),
                  "timezone": request.timezone},
        "post": {"name": data.post_name,
                 **dict(zip(("lon", "lat"), to_wgs84.transform(*data.post), strict=True))},
        "totals": _summary(problem, ours),
        "comparison": {"naive": _summary(problem, naive),
                       "longer": None if longer is None else
                       {**_summary(problem, longer), "seconds": round(longer.solve_s, 1)}},
        "unreachable": unreachable,
        "dropped_mandatory": [problem.targets[t].name for t in ours.dropped_mandatory],
        "solver": {"seed": request.seed, "work": request.work, "restarts": request.restarts,
                   "tolerance": request.tolerance, "seconds": round(ours.solve_s, 2),
                   "solves": ours.solves, "reproducible": not ours.capped},
    }
    return BuiltPlan(result, lines)


def _on_streets(graph: RoadGraph, xy: np.ndarray, mode) -> tuple[np.ndarray, np.ndarray]:
    """Each point moved to the nearest point of a street the mode may use (where the
    unit will stand), and how far that is."""
    edge, along, _ = graph.join(xy, mode)
    on = shapely.get_coordinates(shapely.line_interpolate_point(
        graph.edges.geometry.values[edge], along, normalized=True))
    return on, np.hypot(*(on - xy).T)


def _problem(request: PatrolRequest, chosen: gpd.GeoDataFrame, xy: np.ndarray,
             post: tuple[float, float], travel: np.ndarray) -> PatrolProblem:
    risk = chosen["risk"].to_numpy(dtype=float)
    revisit_count = int(np.floor(request.revisit_top * len(chosen)))
    revisit = np.zeros(len(chosen), bool)
    if revisit_count:
        revisit[np.argsort(-risk, kind="stable")[:revisit_count]] = True
    targets = []
    for i, row in enumerate(chosen.itertuples(index=False)):
        window = None
        if isinstance(row.window, tuple):
            window = request.window_minutes(row.window, str(row.name))
        dwell = row.dwell_min if row.dwell_min and np.isfinite(row.dwell_min) \
            else request.dwell_min
        targets.append(Target(str(row.name), float(xy[i, 0]), float(xy[i, 1]), float(risk[i]),
                              float(dwell), window, bool(row.mandatory),
                              1 if window else (3 if revisit[i] else 2),
                              None if row.cell is None else str(row.cell)))
    shift = request.shift_min
    rest = None
    if request.break_min > 0 and shift > BREAK_FROM_H * 60:
        rest = Break(request.break_min, 0.4 * shift, 0.6 * shift)
    return PatrolProblem(tuple(targets), post, request.units, shift, travel,
                         min_gap_min=request.min_gap_min, unit_break=rest)


def _summary(problem: PatrolProblem, plan: PlanResult) -> dict[str, Any]:
    return {"value": round(plan.value, 4), "risk_share": round(plan.risk_share(problem), 4),
            "targets_visited": len(plan.targets_covered()),
            "visits": sum(len(r.stops) for r in plan.routes)}


def _unit_line(graph: RoadGraph, problem: PatrolProblem, route, mode, speeds: Speeds
               ) -> UnitLine:
    places = [problem.post] + [(problem.targets[s.target].x, problem.targets[s.target].y)
                               for s in route.stops] + [problem.post]
    coords: list = []
    metres = 0.0
    along = []
    for a, b in zip(places[:-1], places[1:], strict=True):
        if a != b:
            leg = shortest_path(graph, a, b, mode, speeds)
            if leg.geometry is not None:
                metres += leg.metres
                part = shapely.get_coordinates(leg.geometry).tolist()
                coords += part if not coords else part[1:]
        along.append(metres)
    line = shapely.LineString(coords) if len(coords) >= 2 else None
    risk = sum(problem.targets[s.target].risk for s in route.stops if s.visit == 1)
    return UnitLine(route.unit, unit_name(route.unit), route.return_min, metres, risk, line,
                    along[:-1])


def _local(request: PatrolRequest, minutes: float) -> str:
    """The local wall-clock time ``minutes`` into the shift (ISO 8601 with offset)."""
    start = request.shift_start.astimezone(UTC)  # minutes are real minutes
    return (start + timedelta(minutes=minutes)).astimezone(zone(request.timezone)) \
        .isoformat(timespec="minutes")


def _unit_json(request, problem, route, line: UnitLine, xy, to_wgs84) -> dict[str, Any]:
    def at(minutes: float) -> str:
        return _local(request, minutes)

    stops = []
    for order, stop in enumerate(route.stops, start=1):
        target = problem.targets[stop.target]
        lon, lat = to_wgs84.transform(target.x, target.y)
        stops.append({"order": order, "target": stop.target, "name": target.name,
                      "along_m": round(line.stop_along[order - 1], 1),
                      "visit": stop.visit, "lon": round(lon, 7), "lat": round(lat, 7),
                      "arrive": at(stop.arrive_min), "depart": at(stop.depart_min),
                      "arrive_min": round(stop.arrive_min, 2),
                      "depart_min": round(stop.depart_min, 2),
                      "risk": round(stop.value, 4), "cell": target.cell,
                      "mandatory": target.mandatory})
    total = problem.total_risk
    return {"unit": route.unit, "name": line.name, "stops": stops,
            "back": at(route.return_min), "minutes": round(route.return_min, 2),
            "travel_minutes": round(route.travel_min, 2), "metres": round(line.metres, 1),
            "risk": round(line.risk, 4), "value": round(route.value, 4),
            "risk_share": round(line.risk / total, 4) if total else 0.0,
            "break_start": None if route.break_start_min is None
            else at(route.break_start_min)}


def _targets_json(problem, chosen, xy, to_wgs84) -> list[dict[str, Any]]:
    out = []
    for i, target in enumerate(problem.targets):
        lon, lat = to_wgs84.transform(target.x, target.y)
        out.append({"index": i, "name": target.name, "risk": round(target.risk, 6),
                    "dwell_min": target.dwell_min, "visits": target.visits,
                    "mandatory": target.mandatory, "cell": target.cell,
                    "window_min": None if target.window is None else list(target.window),
                    "lon": round(lon, 7), "lat": round(lat, 7)})
    return out
