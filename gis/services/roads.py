"""The road network service: the roads read from PostGIS, noded and kept as a graph
per version of the registry data (a road import or edit starts a new one), shortest
paths between places given in WGS84, and a summary of the network's pieces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import shapely

from ..errors import InvalidInput
from ..network.graph import Mode, RoadGraph, Speeds, node_roads
from ..network.paths import Path, shortest_path, travel_minutes
from ..replica import Connects
from ..settings import DataSettings
from . import blindspot_inputs as inputs
from .cache import ResultCache


@dataclass
class NetworkSummary:
    roads: int
    edges: int
    junctions: int
    pieces: int  # connected pieces (on foot)
    largest_share: float  # of the edges, in the largest piece


def configured_speeds() -> Speeds:
    """Walking, cycling and driving speeds: the defaults, or ``GRIDGIS_FOOT_KMH``,
    ``GRIDGIS_BIKE_KMH`` and ``GRIDGIS_CAR_KMH`` (by highway class, JSON)."""
    settings = DataSettings()
    base = Speeds()
    return Speeds(foot_kmh=settings.foot_kmh, bike_kmh=settings.bike_kmh,
                  car_kmh={**base.car_kmh, **settings.car_kmh},
                  car_default_kmh=base.car_default_kmh)


def read_network(engine: Connects, srid: int) -> RoadGraph:
    """The noded road network (empty without roads)."""
    with engine.connect() as conn:
        roads = inputs.roads(conn, srid)
    if roads.empty:
        empty = roads.rename_geometry("geometry")
        none = np.zeros(0, dtype=np.int64)
        return RoadGraph(empty.assign(length_m=np.zeros(0), source=none, target=none),
                         np.zeros((0, 2)))
    return RoadGraph.from_edges(node_roads(roads))


def cached_network(cache: ResultCache, engine: Connects, srid: int,
                   registry_version: int) -> RoadGraph:
    """The network from ``cache`` (one entry per registry version, shared by routing and
    the blind-spot audit), read and noded on a miss."""
    return cache.get_or_compute(("road-network", registry_version),
                                lambda: read_network(engine, srid))


class RoadService:
    def __init__(self, engine: Connects, srid: int, cache: ResultCache | None = None
                 ) -> None:
        self.engine = engine
        self.srid = srid
        self.cache = cache if cache is not None else ResultCache()
        self._to_metric = pyproj.Transformer.from_crs(4326, srid, always_xy=True)
        self._to_wgs84 = pyproj.Transformer.from_crs(srid, 4326, always_xy=True)

    def graph(self) -> RoadGraph:
        with self.engine.connect() as conn:
            version = inputs.registry_version(conn)
        return cached_network(self.cache, self.engine, self.srid, version)

    def summary(self) -> NetworkSummary:
        graph = self.graph()
        pieces = graph.components() if len(graph.edges) else np.zeros(0, int)
        return NetworkSummary(
            roads=int(graph.edges["road"].nunique()) if len(graph.edges) else 0,
            edges=len(graph.edges), junctions=len(graph.nodes),
            pieces=int(pieces.max() + 1) if len(pieces) else 0,
            largest_share=float((pieces == 0).mean()) if len(pieces) else 0.0)

    def route(self, start: tuple[float, float], end: tuple[float, float], mode: Mode
              ) -> tuple[Path, shapely.Geometry | None]:
        """The shortest path between two WGS84 points: the path (metric) and its line
        in WGS84."""
        graph = self.graph()
        if not len(graph.edges):
            raise InvalidInput("there are no roads to route over: import some with "
                               "`gridgis import roads`", field="from")
        path = shortest_path(graph, self._metric(start), self._metric(end), mode,
                             configured_speeds())
        if path.geometry is None:
            return path, None
        return path, shapely.transform(path.geometry, lambda x, y: self._to_wgs84.transform(
            x, y), interleaved=False)

    def matrix(self, points: list[tuple[float, float]], mode: Mode) -> np.ndarray:
        """Minutes from every WGS84 point to every other (inf: no way)."""
        graph = self.graph()
        if not len(graph.edges):
            raise InvalidInput("there are no roads to route over: import some with "
                               "`gridgis import roads`", field="points")
        x, y = self._to_metric.transform([p[0] for p in points], [p[1] for p in points])
        return travel_minutes(graph, np.column_stack([x, y]), mode, configured_speeds())

    def _metric(self, lonlat: tuple[float, float]) -> tuple[float, float]:
        x, y = self._to_metric.transform(*lonlat)
        return float(x), float(y)


def summary_dict(summary: NetworkSummary) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(summary)
