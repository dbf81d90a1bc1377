"""Shortest paths and travel-time matrices over the road network.

A path starts with the straight walk from the start to the nearest point of its street,
runs along the streets (one-way streets bind cars), and ends with the walk from the
destination's street to the destination. Its minutes are the graph's (walking speed for
the walks), its metres the length of the line drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely import ops

from .graph import Mode, RoadGraph, Search, Speeds

WALK_AND_DRIVE = Speeds()  # the default speeds


@dataclass
class Path:
    minutes: float  # inf: no path
    metres: float
    geometry: shapely.LineString | None


def shortest_path(graph: RoadGraph, start: tuple[float, float], end: tuple[float, float],
                  mode: Mode, speeds: Speeds = WALK_AND_DRIVE) -> Path:
    found = graph.search(np.array([start]), mode, speeds, predecessors=True)
    if not len(found.on_edge):
        return Path(np.inf, np.inf, None)
    edge, fraction, walk_off = graph.join(np.array([end]), mode, speeds)
    e, g = int(edge[0]), float(fraction[0])
    src, dst = graph.edges["source"].to_numpy(), graph.edges["target"].to_numpy()
    m = found.minutes
    options = [(found.at_node[src[e]] + m[e] * g, "source"),
               (np.inf if found.one_way[e] else found.at_node[dst[e]] + m[e] * (1 - g),
                "target")]
    s_edge, f = int(found.on_edge[0]), float(found.along[0])
    if s_edge == e and (g >= f or not found.one_way[e]):
        options.append((found.access[0] + abs(g - f) * m[e], "direct"))
    minutes, via = min(options, key=lambda o: o[0])
    if not np.isfinite(minutes):
        return Path(np.inf, np.inf, None)
    lines = graph.edges.geometry.values
    start_on = shapely.line_interpolate_point(lines[s_edge], f, normalized=True)
    end_on = shapely.line_interpolate_point(lines[e], g, normalized=True)
    if via == "direct":
        pieces = [_along(lines[e], f, g)]
    else:
        node = src[e] if via == "source" else dst[e]
        pieces = _from_origin(graph, found, node) + [
            _along(lines[e], 0.0 if via == "source" else 1.0, g)]
    coords = [start, *_coords([shapely.LineString([start, start_on]), *pieces,
                                shapely.LineString([end_on, end])]), end]
    line = shapely.LineString(_dedupe(coords))
    return Path(float(minutes + walk_off[0]), float(line.length), line)


def travel_minutes(graph: RoadGraph, points: np.ndarray, mode: Mode,
                   speeds: Speeds = WALK_AND_DRIVE, limit_min: float = np.inf,
                   batch: int = 64) -> np.ndarray:
    """Minutes from every point (``(k, 2)``) to every other by ``mode`` (inf: none, or
    beyond ``limit_min``).

    One sparse matrix holds the network and a virtual node per point joined to its
    street; the searches from those nodes run ``batch`` at a time (scipy's Dijkstra),
    and each destination is reached through either end of its street, or straight
    along it from an origin on the same street.
    """
    k = len(points)
    result = np.full((k, k), np.inf)
    open_ = graph.open_for(mode)
    if not k or not open_.any():
        return result
    minutes, one_way = graph.edge_minutes(mode, speeds)
    n = len(graph.nodes)
    (edge, fraction, walk), links = graph.origin_links(
        points, mode, speeds, minutes, one_way, n, shared=False)
    matrix = graph.with_sources(mode, speeds, links, extra_nodes=k)
    start = graph.edges["source"].to_numpy()[edge]
    end = graph.edges["target"].to_numpy()[edge]
    length = minutes[edge]
    ends_open = ~one_way[edge]
    for first in range(0, k, batch):
        rows = np.arange(first, min(first + batch, k))
        at_node = dijkstra(matrix, directed=True, indices=n + rows, limit=limit_min)
        via_start = at_node[:, start] + length * fraction
        via_end = np.where(ends_open, at_node[:, end] + length * (1 - fraction), np.inf)
        arrive = np.minimum(via_start, via_end)
        ahead = (fraction[None, :] - fraction[rows][:, None]) * length[None, :]
        direct = np.where(ahead >= 0, ahead, np.where(ends_open, -ahead, np.inf))
        same = edge[rows][:, None] == edge[None, :]
        arrive = np.where(same, np.minimum(arrive, walk[rows][:, None] + direct), arrive)
        result[rows] = arrive + walk[None, :]
    result[np.arange(k), np.arange(k)] = 0.0
    if np.isfinite(limit_min):
        result[result > limit_min] = np.inf
    return result


def _from_origin(graph: RoadGraph, found: Search, node: int) -> list:
    """The pieces of line from the origin's street to ``node``, in travel order."""
    assert found.previous is not None
    src, dst = graph.edges["source"].to_numpy(), graph.edges["target"].to_numpy()
    lines = graph.edges.geometry.values
    chain = [int(node)]
    virtual = len(graph.nodes)  # the search's start, joined to the origin's street
    while 0 <= found.previous[chain[-1]] < virtual:
        chain.append(int(found.previous[chain[-1]]))
    chain.reverse()
    first = chain[0]  # the end of the origin's street the search left from
    s_edge, f = int(found.on_edge[0]), float(found.along[0])
    pieces = [_along(lines[s_edge], f, 0.0 if first == src[s_edge] else 1.0)]
    for u, v in zip(chain[:-1], chain[1:], strict=True):
        pieces.append(_edge_between(graph, found, u, v, src, dst, lines))
    return pieces


def _edge_between(graph, found: Search, u: int, v: int, src, dst, lines):
    """The fastest open edge from node u to node v, drawn from u to v."""
    forward = np.flatnonzero((src == u) & (dst == v) & found.open_)
    backward = np.flatnonzero((src == v) & (dst == u) & found.open_ & ~found.one_way)
    candidates = [(found.minutes[i], i, False) for i in forward] + \
        [(found.minutes[i], i, True) for i in backward]
    _, i, reverse = min(candidates)
    return lines[i].reverse() if reverse else lines[i]


def _along(line: shapely.LineString, start: float, end: float) -> shapely.LineString:
    """The part of ``line`` from fraction ``start`` to ``end`` (reversed when end <
    start)."""
    piece = ops.substring(line, min(start, end), max(start, end), normalized=True)
    if piece.geom_type == "Point":
        return shapely.LineString([piece, piece])
    return piece.reverse() if end < start else piece


def _coords(pieces: list) -> list[tuple[float, float]]:
    return [tuple(c) for piece in pieces for c in shapely.get_coordinates(piece)]


def _dedupe(coords: list) -> list:
    out = [coords[0]]
    for c in coords[1:]:
        if np.hypot(c[0] - out[-1][0], c[1] - out[-1][1]) > 1e-6:
            out.append(c)
    return out if len(out) > 1 else out * 2
