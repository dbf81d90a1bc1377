"""Feeding the hotspot analytics from PostGIS: units, incidents, weights, and a cache.

The analytics themselves are pure functions in this package; this module reads their
inputs (in the deployment's metric CRS) and memoises results per parameter set and data
version, so that repeated map and API requests do not recompute.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from gis.errors import InvalidInput, NotFound
from gis.hotspots.lattice import count_points, lattice

Unit = Literal["lattice", "grids"]
MAX_PERMUTATIONS = 999
MAX_BINS = 60
MAX_KNOX_INCIDENTS = 20_000


@dataclass(frozen=True)
class Selection:
    """Which incidents and units an analysis uses; part of every cache key."""

    unit: Unit = "lattice"
    cell_m: float = 150.0
    categories: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if not 50 <= self.cell_m <= 2000:
            raise InvalidInput("cell size must be between 50 and 2,000 m", field="cell")


class ResultCache:
    """A small LRU of computed results keyed by (analysis, parameters, data version)."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


CACHE = ResultCache()


def data_version(conn: sa.Connection) -> tuple:
    """Changes whenever incidents or the published grids change."""
    return tuple(conn.execute(sa.text("""
        SELECT (SELECT count(*) FROM incidents), (SELECT coalesce(max(id), 0) FROM incidents),
               (SELECT coalesce(max(updated_at), 'epoch') FROM incidents),
               (SELECT coalesce(max(g.updated_at), 'epoch') || '/' || count(*)
                FROM grids g JOIN grid_plans p ON p.id = g.plan_id
                AND p.state = 'published')""")).one())


def district(conn: sa.Connection, srid: int) -> gpd.GeoSeries:
    """The area under analysis: the district polygons, or the published grids' union."""
    rows = conn.execute(sa.text("""
        SELECT ST_AsBinary(ST_Union(geom)) FROM areas WHERE level = 'district'
        HAVING count(*) > 0
        UNION ALL
        SELECT ST_AsBinary(ST_Union(g.geom)) FROM grids g
        JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'""")).scalars().all()
    wkb = next((r for r in rows if r is not None), None)
    if wkb is None:
        raise NotFound("there is no district or published grid to analyse")
    return gpd.GeoSeries([shapely.from_wkb(bytes(wkb))], crs=srid)


def units(conn: sa.Connection, srid: int, selection: Selection) -> gpd.GeoDataFrame:
    if selection.unit == "grids":
        rows = conn.execute(sa.text("""
            SELECT g.id, g.code, g.name, ST_AsBinary(g.geom) AS wkb FROM grids g
            JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
            ORDER BY g.code""")).all()
        if not rows:
            raise NotFound("there are no published grids")
        return gpd.GeoDataFrame({"id": [r.id for r in rows], "code": [r.code for r in rows],
                                 "name": [r.name for r in rows]},
                                geometry=shapely.from_wkb([bytes(r.wkb) for r in rows]),
                                crs=srid)
    cells = lattice(district(conn, srid), selection.cell_m)
    cells["code"] = cells["cell"].astype(str)
    return cells


def incidents(conn: sa.Connection, srid: int, selection: Selection) -> gpd.GeoDataFrame:
    rows = conn.execute(sa.text("""
        SELECT id, category, occurred_at, ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents
        WHERE (CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
          AND (CAST(:start AS timestamptz) IS NULL OR occurred_at >= :start)
          AND (CAST(:end AS timestamptz) IS NULL OR occurred_at < :end)
        ORDER BY occurred_at"""), {"cats": list(selection.categories) or None,
                                   "start": selection.start, "end": selection.end}).all()
    frame = pd.DataFrame(rows, columns=["id", "category", "occurred_at", "x", "y"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=srid)


def contiguity(cells: gpd.GeoDataFrame):
    """Queen contiguity (shared edge or corner), islands joined to their nearest unit."""
    import warnings

    from libpysal.weights import KNN, Queen
    from libpysal.weights.util import attach_islands

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(cells, use_index=False, silence_warnings=True)
        if w.islands and len(cells) > 1:
            w = attach_islands(w, KNN.from_dataframe(cells, k=1, use_index=False))
    return w


def counts(cells: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    return count_points(cells, points) if len(points) else np.zeros(len(cells), dtype=int)


def time_bins(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    edges = pd.date_range(start.normalize(), end, freq=freq, tz=start.tz)
    if len(edges) == 0 or edges[0] > start:
        edges = edges.insert(0, start)
    if edges[-1] < end:
        edges = edges.append(pd.DatetimeIndex([end]))
    if len(edges) - 1 > MAX_BINS:
        raise InvalidInput(f"{len(edges) - 1} time bins; at most {MAX_BINS} — use a "
                           "larger bin or a shorter range", field="bin")
    return edges


def binned_counts(cells: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                  edges: pd.DatetimeIndex) -> np.ndarray:
    result = np.zeros((len(cells), len(edges) - 1))
    when = points["occurred_at"]
    for t in range(len(edges) - 1):
        inside = points[(when >= edges[t]) & (when < edges[t + 1])]
        result[:, t] = counts(cells, inside)
    return result
