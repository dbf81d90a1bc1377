"""The road network as a graph: roads noded at every junction, a node per junction,
travel times per mode, and the time from a set of origins to any point on any street.

- **Noding.** Roads as mapped meet in the middle of each other (a side street ends on
  a vertex inside a main road's line). :func:`node_roads` splits every road wherever
  another road touches or crosses it, so that the graph has a node at each junction.
  Roads crossing without touching a shared point (bridges, tunnels) are noded too: the
  road table has no layer information to tell them apart.
- **Graph.** Nodes are edge ends (coordinates rounded to ``SNAP_M``); an edge's time is
  its length over the mode's speed. On foot every edge goes both ways and motorways
  are closed; by bicycle motorways and steps are closed and one-way streets go only in
  their drawn direction; by car footways, paths, steps, pedestrian streets and
  cycleways are closed and one-way streets go only in their drawn direction.
- **Origins** (and destinations) are joined to the nearest point of the nearest street
  of the largest connected piece of the mode's network, the straight distance walked
  (the car is parked there); from there they go along that street both ways (a one-way
  street, by bicycle or car, only forwards).

Searches are scipy's Dijkstra on a sparse matrix built from the edges, from a virtual
node joined to every origin, so that one search serves all origins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

Mode = Literal["foot", "bike", "car"]
SNAP_M = 0.01
NOT_FOR_CARS = frozenset({"footway", "path", "pedestrian", "steps", "cycleway", "bridleway",
                          "corridor", "track"})
NOT_ON_FOOT = frozenset({"motorway", "motorway_link", "trunk"})
NOT_FOR_BIKES = NOT_ON_FOOT | {"steps"}
CAR_KMH = {"motorway": 80.0, "trunk": 60.0, "primary": 40.0, "secondary": 40.0,
           "tertiary": 30.0, "residential": 25.0, "living_street": 10.0, "service": 15.0}


@dataclass(frozen=True)
class Speeds:
    foot_kmh: float = 5.0
    bike_kmh: float = 15.0
    car_kmh: dict[str, float] = field(default_factory=lambda: dict(CAR_KMH))
    car_default_kmh: float = 25.0

    def metres_per_minute(self, mode: Mode, highway: np.ndarray) -> np.ndarray:
        if mode != "car":
            steady = self.foot_kmh if mode == "foot" else self.bike_kmh
            return np.full(len(highway), steady * 1000 / 60)
        kmh = np.array([self.car_kmh.get(h, self.car_default_kmh) for h in highway])
        return kmh * 1000 / 60


def node_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The roads split at every point where another road touches or crosses them: one
    row per edge with the road's columns, ``road`` (its index in ``roads``) and the
    noded line."""
    lines = shapely.line_merge(roads.geometry.values)
    lines = np.where(shapely.get_type_id(lines) == 1, lines, roads.geometry.values)
    left, right = shapely.STRtree(lines).query(lines, predicate="intersects")
    pairs = left != right
    left, right = left[pairs], right[pairs]
    meet = shapely.intersection(lines[left], lines[right])
    points, owner = shapely.get_parts(meet, return_index=True)
    # A shared stretch (two roads drawn over each other) meets in its end points.
    ends = shapely.get_type_id(points) != 0
    stretch_ends = shapely.boundary(points[ends])
    extra, extra_owner = shapely.get_parts(stretch_ends, return_index=True)
    points = np.concatenate([points[~ends], extra])
    road = np.concatenate([left[owner][~ends], left[owner][ends][extra_owner]])
    where = shapely.line_locate_point(lines[road], points)
    cuts = pd.DataFrame({"road": road, "at": where})
    cuts = cuts[(cuts["at"] > SNAP_M) & (cuts["at"] < shapely.length(lines[road]) - SNAP_M)]
    by_road = cuts.sort_values(["road", "at"]).groupby("road")["at"].unique()
    pieces, piece_road = [], []
    for i, line in enumerate(lines):
        at = by_road.get(i)
        if at is None or not len(at):
            pieces.append(line)
            piece_road.append(i)
            continue
        bounds = np.concatenate([[0.0], at, [shapely.length(line)]])
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            if end - start > SNAP_M:
                pieces.append(shapely.ops.substring(line, start, end))
                piece_road.append(i)
    index = np.asarray(piece_road, dtype=int)
    edges = roads.drop(columns=roads.geometry.name).iloc[index].reset_index(drop=True)
    edges["road"] = index
    return gpd.GeoDataFrame(edges, geometry=np.asarray(pieces, dtype=object), crs=roads.crs)


@dataclass
class RoadGraph:
    """The noded edges with their end nodes: ``source``/``target`` index ``nodes``."""

    edges: gpd.GeoDataFrame  # highway, oneway, length_m, source, target, geometry
    nodes: np.ndarray  # (n, 2) coordinates
    # Built once and kept (a graph is immutable): per mode, the open edges, the largest
    # piece's edges and their search tree; per mode and speeds, the sparse matrix.
    _pieces: dict = field(default_factory=dict, repr=False, compare=False)
    _trees: dict = field(default_factory=dict, repr=False, compare=False)
    _matrices: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_edges(cls, edges: gpd.GeoDataFrame) -> RoadGraph:
        first = shapely.get_point(edges.geometry.values, 0)
        last = shapely.get_point(edges.geometry.values, -1)
        ends = np.vstack([shapely.get_coordinates(first), shapely.get_coordinates(last)])
        keys = np.round(ends / SNAP_M).astype(np.int64)
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        n = len(edges)
        frame = edges.assign(length_m=shapely.length(edges.geometry.values),
                             source=inverse[:n].ravel(), target=inverse[n:].ravel())
        return cls(frame.reset_index(drop=True), unique * SNAP_M)

    def components(self) -> np.ndarray:
        """The connected piece (on foot) each edge belongs to; 0 is the largest."""
        from scipy.sparse.csgraph import connected_components

        matrix = self._matrix(np.ones(len(self.edges)), np.ones(len(self.edges), bool),
                              np.zeros(len(self.edges), bool))
        _, label = connected_components(matrix, directed=False)
        rank = pd.Series(label).value_counts().rank(method="first", ascending=False) - 1
        return rank.astype(int).reindex(label[self.edges["source"]]).to_numpy()

    def _matrix(self, minutes: np.ndarray, open_: np.ndarray, one_way: np.ndarray,
                extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                extra_nodes: int = 0) -> csr_array:
        """The graph as a sparse matrix; with ``extra`` (rows, columns, minutes), more
        edges from ``extra_nodes`` virtual nodes numbered after the real ones."""
        s = self.edges["source"].to_numpy()[open_]
        t = self.edges["target"].to_numpy()[open_]
        w = minutes[open_]
        back = ~one_way[open_]
        rows = np.concatenate([s, t[back]])
        cols = np.concatenate([t, s[back]])
        weights = np.concatenate([w, w[back]])
        size = len(self.nodes) + extra_nodes
        if extra is not None:
            rows = np.concatenate([rows, extra[0]])
            cols = np.concatenate([cols, extra[1]])
            weights = np.concatenate([weights, extra[2]])
        # + 1e-9: explicit zeros would vanish from the sparse matrix; duplicates: the
        # shortest of parallel edges counts, so they are reduced to their minimum first.
        order = np.lexsort((weights, cols, rows))
        rows, cols, weights = rows[order], cols[order], weights[order]
        first = np.ones(len(rows), bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        return csr_array((weights[first] + 1e-9, (rows[first], cols[first])),
                         shape=(size, size))

    def with_sources(self, mode: Mode, speeds: Speeds,
                     links: tuple[np.ndarray, np.ndarray, np.ndarray], extra_nodes: int
                     ) -> csr_array:
        """The mode's network matrix (built once per mode and speeds) with
        ``extra_nodes`` virtual nodes after the real ones, joined by ``links`` (rows,
        columns, minutes) to real nodes: only their rows are new, so they are appended
        to the cached matrix instead of building it again."""
        key = (mode, speeds.foot_kmh, speeds.bike_kmh, speeds.car_default_kmh,
               tuple(sorted(speeds.car_kmh.items())))
        if key not in self._matrices:
            minutes, one_way = self.edge_minutes(mode, speeds)
            self._matrices[key] = self._matrix(minutes, self.open_for(mode), one_way)
        base = self._matrices[key]
        n = len(self.nodes)
        rows, cols, weights = links
        order = np.lexsort((weights, cols, rows))
        rows, cols, weights = rows[order], cols[order], weights[order]
        first = np.ones(len(rows), bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, weights = rows[first], cols[first], weights[first]
        counts = np.bincount(rows - n, minlength=extra_nodes)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)])
        return csr_array((np.concatenate([base.data, weights + 1e-9]),
                          np.concatenate([base.indices, cols]), indptr),
                         shape=(n + extra_nodes, n + extra_nodes))

    def edge_minutes(self, mode: Mode, speeds: Speeds = Speeds()
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Minutes along each edge by ``mode``, and which edges go one way for it."""
        speed = speeds.metres_per_minute(mode, self.edges["highway"].astype(str).to_numpy())
        one_way = self.edges["oneway"].astype(bool).to_numpy() if mode != "foot" \
            else np.zeros(len(self.edges), bool)
        return self.edges["length_m"].to_numpy() / speed, one_way

    def origin_links(self, origins: np.ndarray, mode: Mode, speeds: Speeds, minutes,
                     one_way, first_virtual: int, shared: bool):
        """Each origin joined to its street: edges from a virtual node (one for all
        origins when ``shared``, else one per origin from ``first_virtual``) to the ends
        of the origin's edge (the walk to it, then along it; a one-way street only
        forwards). Returns the join and the links (rows, columns, minutes)."""
        on_edge, along, access = self.join(origins, mode, speeds)
        src = self.edges["source"].to_numpy()
        dst = self.edges["target"].to_numpy()
        back = ~one_way[on_edge]
        virtual = np.full(len(origins), first_virtual) if shared \
            else first_virtual + np.arange(len(origins))
        links = (np.concatenate([virtual, virtual[back]]),
                 np.concatenate([dst[on_edge], src[on_edge][back]]),
                 np.concatenate([access + minutes[on_edge] * (1 - along),
                                 (access + minutes[on_edge] * along)[back]]))
        return (on_edge, along, access), links

    def _largest_piece(self, mode: Mode) -> np.ndarray:
        """The edges of the largest connected piece of the network open to ``mode``
        (computed once per mode: every search and join needs it)."""
        from scipy.sparse.csgraph import connected_components

        if mode not in self._pieces:
            open_ = self.open_for(mode)
            ones = np.ones(len(open_))
            _, label = connected_components(
                self._matrix(ones, open_, np.zeros(len(open_), bool)), directed=False)
            source_label = label[self.edges["source"].to_numpy()]
            biggest = np.bincount(source_label[open_]).argmax()
            self._pieces[mode] = np.flatnonzero(open_ & (source_label == biggest))
        return self._pieces[mode]

    def join(self, points: np.ndarray, mode: Mode, speeds: Speeds = Speeds()
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each point's nearest edge of the largest connected piece of the network open
        to ``mode`` (a post beside a footway island joins the street network, not the
        island), the fraction along it, and the minutes walked to it."""
        candidates = self._largest_piece(mode)
        if mode not in self._trees:
            self._trees[mode] = shapely.STRtree(self.edges.geometry.values[candidates])
        points = shapely.points(points)
        on_edge = candidates[self._trees[mode].nearest(points)]
        along = shapely.line_locate_point(self.edges.geometry.values[on_edge], points,
                                          normalized=True)
        walked = shapely.distance(self.edges.geometry.values[on_edge], points)
        return on_edge, along, walked / (speeds.foot_kmh * 1000 / 60)

    def open_for(self, mode: Mode) -> np.ndarray:
        if ("open", mode) not in self._pieces:
            highway = self.edges["highway"].astype(str).to_numpy()
            closed = {"foot": NOT_ON_FOOT, "bike": NOT_FOR_BIKES, "car": NOT_FOR_CARS}[mode]
            self._pieces[("open", mode)] = ~np.isin(highway, list(closed))
        return self._pieces[("open", mode)]

    def search(self, origins: np.ndarray, mode: Mode, speeds: Speeds = Speeds(),
               limit_min: float = np.inf, predecessors: bool = False) -> Search:
        """One Dijkstra search from the nearest of ``origins`` (``(k, 2)``
        coordinates) by ``mode``: minutes to every node (and, with ``predecessors``,
        the node each is reached from; -9999 for the origins' own joins)."""
        open_ = self.open_for(mode)
        minutes, one_way = self.edge_minutes(mode, speeds)
        empty = np.zeros(0, dtype=int)
        if not open_.any() or not len(origins):
            return Search(np.full(len(self.nodes), np.inf), None, empty, np.zeros(0),
                          np.zeros(0), minutes, one_way, open_)
        # A virtual node joined to every origin's street: the nearest origin wins.
        (on_edge, along, access), links = self.origin_links(
            origins, mode, speeds, minutes, one_way, len(self.nodes), shared=True)
        matrix = self.with_sources(mode, speeds, links, extra_nodes=1)
        found = dijkstra(matrix, directed=True, indices=len(self.nodes), limit=limit_min,
                         return_predecessors=predecessors)
        at_node, previous = (found[0][:-1], found[1][:-1]) if predecessors \
            else (found[:-1], None)
        return Search(at_node, previous, on_edge, along, access, minutes, one_way, open_)

    def street_minutes(self, origins: np.ndarray, mode: Mode, speeds: Speeds = Speeds(),
                       limit_min: float = np.inf,
                       at: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Minutes from the nearest origin (``(k, 2)`` coordinates) by ``mode`` to the
        middle of each edge, or with ``at`` (edge indices, fractions along them) to
        those points; ``inf`` where unreachable, closed to the mode, or beyond
        ``limit_min``."""
        found = self.search(origins, mode, speeds, limit_min)
        edge, fraction = at if at is not None else (np.arange(len(self.edges)),
                                                    np.full(len(self.edges), 0.5))
        result = self._arrival(found, edge, fraction)
        if np.isfinite(limit_min):
            result[result > limit_min] = np.inf
        return result

    def _arrival(self, found: Search, edge: np.ndarray, fraction: np.ndarray) -> np.ndarray:
        """Minutes to the points at ``fraction`` along ``edge`` after a search."""
        minutes, one_way = found.minutes, found.one_way
        s = self.edges["source"].to_numpy(dtype=np.int64)[edge]
        t = self.edges["target"].to_numpy(dtype=np.int64)[edge]
        through_start = found.at_node[s] + minutes[edge] * fraction
        through_end = np.where(one_way[edge], np.inf,
                               found.at_node[t] + minutes[edge] * (1 - fraction))
        result = np.minimum(through_start, through_end)
        for e, f, a in zip(found.on_edge, found.along, found.access, strict=True):
            same = edge == e  # on an origin's own edge: straight along it
            ahead = (fraction[same] - f) * minutes[e]
            direct = np.where(ahead >= 0, ahead, np.inf if one_way[e] else -ahead)
            result[same] = np.minimum(result[same], a + direct)
        return np.where(found.open_[edge], result, np.inf)


@dataclass
class Search:
    """What one search found, and the network it ran on."""

    at_node: np.ndarray  # minutes to every node
    previous: np.ndarray | None  # predecessor of every node (with predecessors)
    on_edge: np.ndarray  # each origin's edge
    along: np.ndarray  # and the fraction along it
    access: np.ndarray  # minutes walked from the origin to it
    minutes: np.ndarray  # minutes per edge for the mode
    one_way: np.ndarray  # edges that go one way for the mode
    open_: np.ndarray  # edges open to the mode
