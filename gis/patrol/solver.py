"""The planner: a team orienteering problem with time windows, solved with OR-Tools'
routing solver, and the naive plan it is compared with.

**Model.** A node per visit (a target with ``visits = 2`` has two nodes). Every unit
leaves the post at minute 0 and is back by the end of the shift (the time dimension's
capacity); a visit's transit is its dwell plus the travel to the next place, and waiting
is allowed (slack) so that a time window can be met. Each visit is optional, dropped at
the price of its risk (a disjunction penalty), so minimising cost maximises the risk
collected; travel time is the arc cost, a tie-breaker worth far less than any risk. A
mandatory target's penalty is larger than all risks together. A target visited up to
``n`` times gets a possible visit in each ``n``-th of the shift, at least
``min_gap_min`` apart; the earlier parts' visits are worth more to the solver, and the
plan values the visits in the order they happen. A unit's break is
an interval of the time dimension that no visit or travel may overlap.

**Reproducible, near-optimal randomisation.** Each solve stops after a number of
solutions (``work``), not after a time, so the same problem, seed and work give the same
plan on any machine (the wall-clock cap is a safety net). A plan is the best of a few
restarts: the plain problem, then problems whose travel costs (±50 %) and risks
(± ``tolerance``) the seed perturbs, all valued at the true risks; the seed then picks
one of those within ``tolerance`` of the best. Restarts also lift the result: guided
local search from one start stalls in a local optimum. Two shifts with different seeds
get different routes of near-equal value.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from .problem import PatrolProblem, PlanResult, Stop, UnitRoute

SECONDS = 60  # the solver counts whole seconds
RISK_SCALE = 10_000_000  # the largest risk's penalty, in travel seconds
DEFAULT_WORK = 100  # solutions explored per solve
DEFAULT_RESTARTS = 10


@dataclass(frozen=True)
class SolveOptions:
    seed: int = 0
    time_limit_s: float = 10.0  # the wall-clock cap of the whole plan
    work: int = DEFAULT_WORK  # solutions per solve (the reproducible limit)
    restarts: int = DEFAULT_RESTARTS  # solves: the plain one, then on perturbed costs
    tolerance: float = 0.02  # a varied plan may collect this much less than the best
    randomise: bool = True


def plan(problem: PatrolProblem, options: SolveOptions = SolveOptions()) -> PlanResult:
    """The plan for ``problem``: ``restarts`` solves (the plain one, then seeded
    perturbations), then, with ``randomise``, a seeded pick among those within
    ``tolerance`` of the best (else the best)."""
    started = time.perf_counter()
    found: list[PlanResult] = []
    capped = False
    for attempt in range(max(1, options.restarts) if problem.targets else 1):
        left = options.time_limit_s - (time.perf_counter() - started)
        if found and left < 0.1:
            capped = True  # the wall-clock cap: the plan is then not reproducible
            break
        noise = np.random.default_rng([options.seed, attempt]) if attempt else None
        found.append(solve(problem, options.work, max(left, 0.1), noise=noise,
                           spread=options.tolerance))
        capped = capped or found[-1].solve_s >= 0.95 * max(left, 0.1)
    best = max(found, key=lambda p: (-len(p.dropped_mandatory), p.value))
    chosen = best
    if options.randomise:
        near = [p for p in found if p.value >= (1 - options.tolerance) * best.value
                and len(p.dropped_mandatory) <= len(best.dropped_mandatory)]
        chosen = near[int(np.random.default_rng(options.seed).integers(len(near)))]
    chosen.seed = options.seed if options.randomise else None
    chosen.solves, chosen.capped = len(found), capped
    chosen.solve_s = time.perf_counter() - started
    chosen.method = "solver"
    return chosen


def search_longer(problem: PatrolProblem, seconds: float, work: int = 4 * DEFAULT_WORK
                  ) -> PlanResult:
    """The best plan found in ``seconds``: the unperturbed solve, then restarts on
    perturbed costs (seeds 1, 2, ...), each with four times the default work, valued
    at the true risks: the yardstick a plan is compared with."""
    started = time.perf_counter()
    best: PlanResult | None = None
    for seed in itertools.count():
        left = seconds - (time.perf_counter() - started)
        if left <= 0.05 and best is not None:
            break
        found = solve(problem, work, max(left, 0.1),
                      noise=np.random.default_rng(seed) if seed else None)
        if best is None or found.value > best.value:
            best = found
    assert best is not None
    best.solve_s = time.perf_counter() - started
    best.method = "longer"
    return best


def solve(problem: PatrolProblem, work: int = DEFAULT_WORK, time_limit_s: float = 10.0,
          noise: np.random.Generator | None = None, spread: float = 0.03) -> PlanResult:
    """One run of the routing solver (guided local search from a cheapest-insertion start);
    with ``noise``, on perturbed costs and risks (the result is valued at the true
    ones)."""
    started = time.perf_counter()
    windows = _visit_windows(problem)  # node - 1 -> (target, part, earliest, latest)
    visits = [(t, v) for t, v, _, _ in windows]  # node 0 is the post
    n = len(visits) + 1
    target_of = np.array([-1] + [t for t, _ in visits])
    places = target_of + 1  # rows of the travel matrix: 0 the post
    travel = np.round(problem.travel[np.ix_(places, places)] * SECONDS)
    unreachable = ~np.isfinite(travel)
    horizon = int(problem.shift_min * SECONDS)
    travel = np.where(unreachable, horizon + 1, travel).astype(np.int64)
    dwell = np.array([0] + [round(problem.targets[t].dwell_min * SECONDS)
                            for t, _ in visits], dtype=np.int64)
    worth = np.array([0.0] + [_worth(problem, t, v) for t, v in visits])
    cost, prize = travel, worth
    if noise is not None:
        cost = np.round(travel * noise.uniform(0.5, 1.5, travel.shape)).astype(np.int64)
        prize = worth * noise.uniform(1 - spread, 1 + spread, len(worth))

    manager = pywrapcp.RoutingIndexManager(n, problem.units, 0)
    model = pywrapcp.RoutingModel(manager)
    transit = model.RegisterTransitMatrix((travel + dwell[:, None]).tolist())
    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(cost.tolist()))
    model.AddDimension(transit, horizon, horizon, True, "time")
    clock = model.GetDimensionOrDie("time")
    top = max(float(prize.max()) if len(prize) else 1.0, 1e-12)
    must = RISK_SCALE * (len(visits) + 1) * 10
    for node in range(1, n):
        index = manager.NodeToIndex(node)
        target = problem.targets[target_of[node]]
        first = visits[node - 1][1] == 1
        if target.mandatory and first:
            penalty = must
        else:
            penalty = max(1, int(prize[node] / top * RISK_SCALE))
        model.AddDisjunction([index], penalty)
        earliest, latest = windows[node - 1][2:]
        clock.CumulVar(index).SetRange(int(np.ceil(earliest * SECONDS)),
                                       int(latest * SECONDS))
    _order_visits(problem, model, manager, clock, visits, dwell)
    if problem.unit_break is not None:
        _add_breaks(problem, model, manager, clock, dwell, horizon)

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = \
        routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    parameters.local_search_metaheuristic = \
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.solution_limit = max(1, work)
    parameters.time_limit.FromMilliseconds(max(50, int(time_limit_s * 1000)))
    solution = model.SolveWithParameters(parameters)
    if solution is None:
        raise ValueError("no plan meets the shift, the time windows and the breaks; "
                         "loosen the windows or lengthen the shift")
    result = _read(problem, model, manager, clock, solution, visits, worth)
    result.solve_s = time.perf_counter() - started
    return result


def _visit_windows(problem: PatrolProblem) -> list[tuple[int, int, float, float]]:
    """(target, part, earliest, latest arrival in minutes) per possible visit: a target
    with a window gets one visit in it; a target visited up to ``n`` times one in each
    ``n``-th of the shift, ``min_gap_min`` apart. Every visit must leave time to get
    back to the post; a visit that cannot fit is left out (a mandatory one is then
    reported as not reached)."""
    shift, gap = problem.shift_min, problem.min_gap_min
    out = []
    for t, target in enumerate(problem.targets):
        back = problem.travel[t + 1, 0]
        latest = shift - target.dwell_min - (back if np.isfinite(back) else shift)
        if target.window is not None:
            parts = [(1, max(0.0, target.window[0]), min(target.window[1], latest))]
        else:
            count = max(1, target.visits)
            part = shift / count
            parts = [(1, 0.0, latest)] + [
                (v, (v - 1) * part + gap / 2, latest) for v in range(2, count + 1)]
        out += [(t, v, low, high) for v, low, high in parts if 0 <= low <= high]
    return out


def _worth(problem: PatrolProblem, target: int, visit: int) -> float:
    return problem.targets[target].risk * problem.revisit_value ** (visit - 1)


def _order_visits(problem, model, manager, clock, visits, dwell) -> None:
    solver = model.solver()
    gap = int(round(problem.min_gap_min * SECONDS))
    node_of = {visit: node for node, visit in enumerate(visits, start=1)}
    for (target, number), node in node_of.items():
        if number == 1:
            continue
        before = node_of.get((target, number - 1))
        if before is None:
            continue
        this, prior = manager.NodeToIndex(node), manager.NodeToIndex(before)
        solver.Add(model.ActiveVar(this) <= model.ActiveVar(prior))
        solver.Add(clock.CumulVar(this) >= clock.CumulVar(prior)
                   + (int(dwell[before]) + gap) * model.ActiveVar(this))


def _add_breaks(problem, model, manager, clock, dwell, horizon) -> None:
    rest = problem.unit_break
    duration = int(round(rest.duration_min * SECONDS))
    earliest = int(round(rest.earliest_min * SECONDS))
    latest = min(int(round(rest.latest_min * SECONDS)), horizon - duration)
    if latest < earliest:
        return  # a shift too short for the break window has none
    solver = model.solver()
    service = [int(dwell[manager.IndexToNode(index)]) for index in range(model.Size())]
    for vehicle in range(problem.units):
        interval = solver.FixedDurationIntervalVar(earliest, latest, duration, False,
                                                   f"break {vehicle}")
        clock.SetBreakIntervalsOfVehicle([interval], vehicle, service)


def _read(problem, model, manager, clock, solution, visits, worth) -> PlanResult:
    routes = []
    for vehicle in range(problem.units):
        index = model.Start(vehicle)
        stops: list[Stop] = []
        travel_s = 0.0
        previous_place = 0
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            if node:
                target, number = visits[node - 1]
                arrive = solution.Min(clock.CumulVar(index)) / SECONDS
                stops.append(Stop(target, number, arrive,
                                  arrive + problem.targets[target].dwell_min,
                                  float(worth[node])))
                travel_s += problem.travel[previous_place, target + 1]
                previous_place = target + 1
            index = solution.Value(model.NextVar(index))
        travel_s += problem.travel[previous_place, 0]
        back = solution.Min(clock.CumulVar(index)) / SECONDS
        rest = None
        if problem.unit_break is not None:
            breaks = solution.IntervalVarContainer()
            for b in range(breaks.Size()):
                element = breaks.Element(b)
                if element.Var().Name() == f"break {vehicle}" and element.PerformedValue():
                    rest = element.StartValue() / SECONDS
        routes.append(UnitRoute(vehicle, stops, back, float(travel_s), rest))
    _number_visits(problem, routes)
    visited = {(s.target, s.visit) for r in routes for s in r.stops}
    dropped = [t for t, target in enumerate(problem.targets)
               if target.mandatory and (t, 1) not in visited]
    return PlanResult(routes, "solver", dropped_mandatory=dropped)


def _number_visits(problem: PatrolProblem, routes: list[UnitRoute]) -> None:
    """Each target's visits numbered by arrival, the first worth its risk, each later one
    ``revisit_value`` times the one before."""
    by_target: dict[int, list[Stop]] = {}
    for route in routes:
        for stop in route.stops:
            by_target.setdefault(stop.target, []).append(stop)
    for target, stops in by_target.items():
        for number, stop in enumerate(sorted(stops, key=lambda s: s.arrive_min), start=1):
            stop.visit = number
            stop.value = _worth(problem, target, number)


def naive(problem: PatrolProblem) -> PlanResult:
    """The plan a leader might draw without the solver, under the same rules: each unit
    in turn walks to the nearest target nobody has visited yet, and when none is left to
    the nearest it may visit again (in the same parts of the shift the solver allows,
    ``min_gap_min`` apart), as long as it can stay and still get back in time; it takes
    its break as soon as the break may start."""
    windows: dict[int, list[tuple[float, float]]] = {}
    for t, _, low, high in _visit_windows(problem):
        windows.setdefault(t, []).append((low, high))
    visits: dict[int, list[tuple[float, float]]] = {}
    rest = problem.unit_break
    routes = []
    for unit in range(problem.units):
        place, clock, stops, travel = 0, 0.0, [], 0.0
        break_start = None
        while True:
            if rest is not None and break_start is None and clock >= rest.earliest_min:
                break_start = min(max(clock, rest.earliest_min), rest.latest_min)
                clock = break_start + rest.duration_min
            fresh: list[tuple[float, int, float, float]] = []
            again: list[tuple[float, int, float, float]] = []
            for t, target in enumerate(problem.targets):
                done = visits.get(t, [])
                if len(done) >= len(windows.get(t, [])):
                    continue
                low, high = windows[t][len(done)]
                arrive = max(clock + problem.travel[place, t + 1], low)
                depart = arrive + target.dwell_min
                if arrive > high or any(arrive < b + problem.min_gap_min
                                        and a < depart + problem.min_gap_min
                                        for a, b in done):
                    continue
                if rest is not None and break_start is None and \
                        depart > rest.latest_min:
                    continue  # the break comes first
                (again if done else fresh).append(
                    (problem.travel[place, t + 1], t, arrive, depart))
            options = fresh or again
            if not options:
                if rest is not None and break_start is None and clock < rest.latest_min:
                    clock = rest.earliest_min  # wait for the break, then go on
                    continue
                break
            step, t, arrive, depart = min(options)
            travel += step
            stops.append(Stop(t, 1, arrive, depart, problem.targets[t].risk))
            visits.setdefault(t, []).append((arrive, depart))
            place, clock = t + 1, depart
        travel += problem.travel[place, 0]
        routes.append(UnitRoute(unit, stops, clock + problem.travel[place, 0], travel,
                                break_start))
    _number_visits(problem, routes)
    dropped = [t for t, target in enumerate(problem.targets)
               if target.mandatory and t not in visits]
    return PlanResult(routes, "naive", dropped_mandatory=dropped)


def violations(problem: PatrolProblem, result: PlanResult) -> list[str]:
    """What in ``result`` breaks the problem's rules (empty when it keeps them all):
    travel too short for the route, windows, the shift's end, gaps between visits,
    overlap with the unit's break."""
    found = []
    for route in result.routes:
        place, clock = 0, 0.0
        for stop in route.stops:
            target = problem.targets[stop.target]
            earliest = clock + problem.travel[place, stop.target + 1]
            if stop.arrive_min < earliest - 0.05:
                found.append(f"unit {route.unit} reaches {target.name} before it can")
            if target.window is not None and stop.visit == 1 and not (
                    target.window[0] - 0.05 <= stop.arrive_min <= target.window[1] + 0.05):
                found.append(f"unit {route.unit} misses {target.name}'s window")
            if route.break_start_min is not None and problem.unit_break is not None:
                rest_end = route.break_start_min + problem.unit_break.duration_min
                if stop.arrive_min < rest_end - 0.05 and stop.depart_min > \
                        route.break_start_min + 0.05:
                    found.append(f"unit {route.unit} is at {target.name} during its break")
            place, clock = stop.target + 1, stop.depart_min
        back = max(clock + problem.travel[place, 0], route.return_min)
        if back > problem.shift_min + 0.05:
            found.append(f"unit {route.unit} is back after the shift ends")
    by_target: dict[int, list] = {}
    for route in result.routes:
        for stop in route.stops:
            by_target.setdefault(stop.target, []).append(stop)
    for t, stops in by_target.items():
        stops.sort(key=lambda s: s.arrive_min)
        for before, after in zip(stops[:-1], stops[1:], strict=True):
            if after.arrive_min < before.depart_min + problem.min_gap_min - 0.05:
                found.append(f"{problem.targets[t].name} is revisited too soon")
    return found
