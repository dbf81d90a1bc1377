"""Contiguous regions of units (street blocks) whose weight (households) lies between a
floor AND a ceiling.

PySAL's max-p (``spopt``) makes as many contiguous regions as it can with at least a
floor each, but has no ceiling. Here regions start either from max-p, from a recursive
bisection of the whole area into k = round(total / middle) parts, or from an existing
plan (so that as few people as possible change grid), and are then repaired until every
region is within bounds:

- a region over the ceiling is cut in ceil(w / ceiling) parts by recursive bisection:
  a part grows from the unit furthest along the region's long axis, always adding the
  neighbouring unit furthest that way, until it holds its share of the weight; the rest
  stays connected (pieces cut off join the grown part);
- a region under the floor joins the lightest neighbouring region that stays under the
  ceiling, or else the lightest neighbour, and the union is bisected in two halves.

Regions are sets of whole units, so the bounds can only be met to the weight of one
unit: heavy units must be split first (``blocks.split_heavy``), and a ceiling below
twice the floor may leave a region the repair cannot bring within bounds; such regions
are reported, never hidden.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

MAX_ROUNDS = 200


@dataclass
class Regions:
    labels: np.ndarray  # a region number per unit, 0..k-1
    weights: np.ndarray  # per region
    under: list[int]  # regions under the floor the repair could not fix
    over: list[int]


def neighbours_of(units: gpd.GeoDataFrame) -> list[list[int]]:
    """Rook contiguity (a shared edge); a unit with none is tied to its nearest unit."""
    from libpysal.weights import KNN, Rook
    from libpysal.weights.util import attach_islands

    frame = units[["geometry"]].reset_index(drop=True)
    if len(frame) == 1:
        return [[]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(frame, use_index=False, silence_warnings=True)
        if w.islands:
            w = attach_islands(w, KNN.from_dataframe(frame, k=1, use_index=False))
    return [sorted(int(j) for j in w.neighbors[i]) for i in range(len(frame))]


def balanced_regions(units: gpd.GeoDataFrame, weight: str, floor: float, ceiling: float,
                     *, method: str = "bisect", initial: np.ndarray | None = None,
                     seed: int = 0, neighbours: list[list[int]] | None = None) -> Regions:
    """Regions of ``units`` with ``floor`` <= weight <= ``ceiling`` each.

    ``initial``: a starting region per unit (e.g. the unit's current grid; -1 for none),
    kept wherever it is within bounds. ``method`` without ``initial``: ``bisect`` or
    ``maxp`` (spopt's max-p with the floor, then the ceiling repaired)."""
    if not 0 <= floor <= ceiling:
        raise ValueError("need 0 <= floor <= ceiling")
    weights = units[weight].to_numpy(dtype=float)
    nbrs = neighbours if neighbours is not None else neighbours_of(units)
    centre = units.geometry.representative_point()
    xy = np.column_stack([centre.x.to_numpy(), centre.y.to_numpy()])
    if initial is not None:
        labels = _connected(_filled(np.asarray(initial, dtype=int), nbrs), nbrs)
    elif method == "maxp":
        labels = _connected(_filled(_maxp(units, weight, floor, seed, xy), nbrs), nbrs)
    elif method == "bisect":
        total = weights.sum()
        k = max(1, round(total / ((floor + ceiling) / 2))) if total > 0 else 1
        labels = np.zeros(len(units), dtype=int)
        for n, part in enumerate(_split(list(range(len(units))), k, weights, xy, nbrs)):
            labels[part] = n
    else:
        raise ValueError(f"unknown method {method!r}: bisect or maxp")
    labels = _repair(labels, weights, xy, nbrs, floor, ceiling)
    labels = _numbered(labels, xy)
    region_weights = np.bincount(labels, weights=weights)
    return Regions(labels, region_weights,
                   under=[int(r) for r in np.flatnonzero(region_weights < floor)],
                   over=[int(r) for r in np.flatnonzero(region_weights > ceiling)])


def maxp_labels(units: gpd.GeoDataFrame, weight: str, floor: float, seed: int) -> np.ndarray:
    """Max-p regions (floor only) of ``units``, contiguous, numbered north-west to
    south-east: what a hierarchy of areas with a minimum size each needs."""
    centre = units.geometry.representative_point()
    xy = np.column_stack([centre.x.to_numpy(), centre.y.to_numpy()])
    nbrs = neighbours_of(units)
    return _numbered(_filled(_maxp(units, weight, floor, seed, xy), nbrs), xy)


def _repair(labels: np.ndarray, weights: np.ndarray, xy: np.ndarray,
            nbrs: list[list[int]], floor: float, ceiling: float) -> np.ndarray:
    labels = labels.copy()
    stuck: set[int] = set()
    for _ in range(MAX_ROUNDS):
        totals = _totals(labels, weights)
        heavy = [r for r, w in totals.items() if w > ceiling and r not in stuck]
        light = [r for r, w in sorted(totals.items(), key=lambda t: t[1])
                 if w < floor and r not in stuck]
        if not heavy and not light:
            break
        if heavy:
            for region in heavy:
                members = np.flatnonzero(labels == region).tolist()
                parts = _split(members, math.ceil(totals[region] / ceiling), weights, xy, nbrs)
                if len(parts) == 1:
                    stuck.add(region)  # one unit over the ceiling: nothing to cut
                for part in parts[1:]:
                    labels[part] = labels.max() + 1
            continue
        region = light[0]
        if _take_from_neighbours(region, labels, weights, nbrs, floor, ceiling):
            continue
        totals = _totals(labels, weights)  # some units may have moved all the same
        members = np.flatnonzero(labels == region).tolist()
        around = {int(labels[j]) for i in members for j in nbrs[i]} - {region}
        if not around:
            stuck.add(region)  # an island with too few: reported
            continue
        if _give_to_neighbours(region, labels, weights, nbrs, ceiling):
            continue
        fits = [r for r in around if totals[r] + totals[region] <= ceiling]
        partner = min(fits or around, key=lambda r: totals[r])
        labels[members] = partner
        if totals[partner] + totals[region] > ceiling:
            union = np.flatnonzero(labels == partner).tolist()
            halves = _split(union, 2, weights, xy, nbrs)
            if min(weights[h].sum() for h in halves) < floor:
                labels[members] = region  # the halves would be too light again
                stuck.add(region)
                continue
            labels[halves[1]] = labels.max() + 1
    return labels


def _take_from_neighbours(region: int, labels: np.ndarray, weights: np.ndarray,
                          nbrs: list[list[int]], floor: float, ceiling: float) -> bool:
    """Move units bordering a light region into it from neighbouring regions that stay
    within bounds and connected, heaviest that fits first, until it reaches the floor.
    True when it did."""
    total = weights[labels == region].sum()
    while total < floor:
        members = set(np.flatnonzero(labels == region).tolist())
        border = {j for i in members for j in nbrs[i] if labels[j] != region}
        moves = []
        for j in border:
            donor = int(labels[j])
            donor_total = weights[labels == donor].sum()
            if donor_total - weights[j] < floor or total + weights[j] > ceiling:
                continue
            moves.append((-weights[j], j, donor))
        done = False
        for _, j, donor in sorted(moves):
            rest = [i for i in np.flatnonzero(labels == donor).tolist() if i != j]
            if rest and len(_components(rest, nbrs)) == 1:
                labels[j] = region
                total += weights[j]
                done = True
                break
        if not done:
            return False
    return True


def _give_to_neighbours(region: int, labels: np.ndarray, weights: np.ndarray,
                        nbrs: list[list[int]], ceiling: float) -> bool:
    """Dissolve a light region: each of its units joins a neighbouring region with room,
    as long as one does. True when the whole region found homes."""
    members = list(np.flatnonzero(labels == region))
    trial = labels.copy()
    totals = {int(r): float(weights[trial == r].sum()) for r in np.unique(trial)}
    pending = list(members)
    while pending:
        placed = False
        for i in list(pending):
            options = {int(trial[j]) for j in nbrs[i]} - {region}
            options = {r for r in options if totals[r] + weights[i] <= ceiling}
            if options:
                target = min(options, key=lambda r: totals[r])
                trial[i] = target
                totals[target] += weights[i]
                pending.remove(i)
                placed = True
        if not placed:
            return False
    labels[:] = trial
    return True


def _split(members: list[int], k: int, weights: np.ndarray, xy: np.ndarray,
           nbrs: list[list[int]]) -> list[list[int]]:
    """``members`` (connected) cut in ``k`` connected parts of about equal weight."""
    if k <= 1 or len(members) <= 1:
        return [members]
    first = k // 2
    target = weights[members].sum() * first / k
    best: tuple[float, set[int], list[int]] | None = None
    for direction in range(4):  # from either end of the long and the short axis
        grown = _grow(members, target, weights, xy, nbrs, direction)
        rest = [i for i in members if i not in grown]
        if not rest:
            continue
        pieces = sorted(_components(rest, nbrs), key=len, reverse=True)
        for piece in pieces[1:]:  # cut off by the grown part: they border it
            grown |= set(piece)
        error = abs(weights[sorted(grown)].sum() - target)
        if best is None or error < best[0]:
            best = (error, grown, pieces[0])
    if best is None:
        return [members]
    _, grown, rest = best
    return _split(sorted(grown), first, weights, xy, nbrs) + \
        _split(sorted(rest), k - first, weights, xy, nbrs)


def _grow(members: list[int], target: float, weights: np.ndarray, xy: np.ndarray,
          nbrs: list[list[int]], direction: int = 0) -> set[int]:
    """A connected part of ``members`` of about ``target`` weight, swept from one end
    of an axis of the members' positions (``direction`` 0, 1: the long axis, either
    way; 2, 3: the short one)."""
    points = xy[members]
    centred = points - points.mean(axis=0)
    if len(members) > 1 and np.ptp(centred, axis=0).any():
        axes = np.linalg.svd(centred, full_matrices=False)[2]
    else:
        axes = np.eye(2)
    axis = axes[min(direction // 2, len(axes) - 1)] * (1 if direction % 2 == 0 else -1)
    position = dict(zip(members, centred @ axis, strict=True))
    inside = set(members)
    start = min(members, key=lambda i: (position[i], i))
    grown, total = {start}, weights[start]
    frontier = {j for j in nbrs[start] if j in inside}
    while frontier and total < target:
        best = min(frontier, key=lambda i: (position[i], i))
        if total + weights[best] - target > target - total:  # overshoots more than not
            break
        frontier.discard(best)
        grown.add(best)
        total += weights[best]
        frontier |= {j for j in nbrs[best] if j in inside and j not in grown}
    return grown


def _components(members: list[int], nbrs: list[list[int]]) -> list[list[int]]:
    inside, seen, parts = set(members), set(), []
    for start in members:
        if start in seen:
            continue
        part, queue = [], deque([start])
        seen.add(start)
        while queue:
            i = queue.popleft()
            part.append(i)
            for j in nbrs[i]:
                if j in inside and j not in seen:
                    seen.add(j)
                    queue.append(j)
        parts.append(part)
    return parts


def _connected(labels: np.ndarray, nbrs: list[list[int]]) -> np.ndarray:
    """Each disconnected piece of a region becomes a region of its own."""
    labels = labels.copy()
    for region in np.unique(labels):
        pieces = _components(list(np.flatnonzero(labels == region)), nbrs)
        for piece in sorted(pieces, key=len, reverse=True)[1:]:
            labels[piece] = labels.max() + 1
    return labels


def _filled(labels: np.ndarray, nbrs: list[list[int]]) -> np.ndarray:
    """Units without a region (-1) join a neighbouring region; isolated ones get their
    own."""
    labels = labels.copy()
    while (labels < 0).any():
        changed = False
        for i in np.flatnonzero(labels < 0).tolist():
            around = [int(labels[j]) for j in nbrs[i] if labels[j] >= 0]
            if around:
                labels[i] = max(set(around), key=around.count)
                changed = True
        if not changed:
            i = int(np.flatnonzero(labels < 0)[0])
            labels[i] = labels.max() + 1
    return labels


def _totals(labels: np.ndarray, weights: np.ndarray) -> dict[int, float]:
    sums = np.bincount(labels, weights=weights)
    return {int(r): float(sums[r]) for r in np.unique(labels)}


def _numbered(labels: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Regions numbered 0..k-1 north to south, then west to east (400 m bands)."""
    regions = np.unique(labels)
    cx = np.array([xy[labels == r, 0].mean() for r in regions])
    cy = np.array([xy[labels == r, 1].mean() for r in regions])
    order = np.lexsort((cx, (-cy // 400).astype(int)))
    mapping = np.empty(labels.max() + 1, dtype=int)
    mapping[regions[order]] = np.arange(len(regions))
    return mapping[labels]


def _maxp(units: gpd.GeoDataFrame, weight: str, floor: float, seed: int,
          xy: np.ndarray) -> np.ndarray:
    from libpysal.weights import KNN, Rook
    from libpysal.weights.util import attach_islands
    from spopt.region import MaxPHeuristic

    if len(units) == 1 or units[weight].sum() < 2 * floor:
        return np.zeros(len(units), dtype=int)
    frame = units[[weight, "geometry"]].reset_index(drop=True).copy()
    frame["cx"], frame["cy"] = xy[:, 0], xy[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(frame, use_index=False, silence_warnings=True)
        if w.islands:
            w = attach_islands(w, KNN.from_dataframe(frame, k=1, use_index=False))
        np.random.seed(seed)  # spopt draws from numpy's global generator
        model = MaxPHeuristic(frame, w, attrs_name=["cx", "cy"], threshold_name=weight,
                              threshold=floor, top_n=2, max_iterations_construction=8,
                              max_iterations_sa=2)
        model.solve()
    labels = np.asarray(model.labels_, dtype=int)
    return np.where(labels <= 0, -1, labels)
