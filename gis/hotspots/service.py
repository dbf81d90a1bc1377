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

from ..errors import InvalidInput, NotFound
from .lattice import count_points, lattice

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
    shape: Literal["hex", "square"] = "hex"
    weights: Literal["contiguity", "distance"] = "contiguity"
    band_m: float = 300.0  # distance band for distance weights, between unit centroids

    def __post_init__(self) -> None:
        if not 50 <= self.cell_m <= 2000:
            raise InvalidInput("cell size must be between 50 and 2,000 m", field="cell")
        if not 10 <= self.band_m <= 10_000:
            raise InvalidInput("distance band must be between 10 and 10,000 m", field="band")


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
    cells = lattice(district(conn, srid), selection.cell_m, selection.shape)
    cells["code"] = cells["cell"].astype(str)
    return cells


def incidents(conn: sa.Connection, srid: int, selection: Selection) -> gpd.GeoDataFrame:
    """The selected incidents (cached per selection and data version: every layer of a
    page reads them)."""
    key = (selection.categories, selection.start, selection.end)
    frame = cached(conn, "incidents", key, lambda: _read_incidents(conn, srid, selection))
    return frame.copy()


def _read_incidents(conn: sa.Connection, srid: int, selection: Selection
                    ) -> gpd.GeoDataFrame:
    rows = conn.execute(sa.text("""
        SELECT id, category, extract(epoch FROM occurred_at) AS occurred_at,
               ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents
        WHERE (CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
          AND (CAST(:start AS timestamptz) IS NULL OR occurred_at >= :start)
          AND (CAST(:end AS timestamptz) IS NULL OR occurred_at < :end)
        ORDER BY occurred_at"""), {"cats": list(selection.categories) or None,
                                   "start": selection.start, "end": selection.end}).all()
    frame = pd.DataFrame(rows, columns=["id", "category", "occurred_at", "x", "y"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"].astype(float), unit="s",
                                          utc=True)
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=srid)


def contiguity(cells: gpd.GeoDataFrame, selection: Selection | None = None):
    """Spatial weights: queen contiguity (shared edge or corner), or, with
    ``weights="distance"``, every unit whose centroid lies within the distance band;
    islands are joined to their nearest unit either way."""
    import warnings

    from libpysal.weights import KNN, DistanceBand, Queen
    from libpysal.weights.util import attach_islands

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if selection is not None and selection.weights == "distance":
            centres = np.column_stack([cells.centroid.x, cells.centroid.y])
            w = DistanceBand(centres, threshold=selection.band_m, binary=True,
                             silence_warnings=True)
        else:
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


# -- cached analyses, shared by the API and the map page -----------------------------

def cached(conn: sa.Connection, name: str, params: tuple, compute: Callable[[], Any]) -> Any:
    return CACHE.get_or_compute((name, params, data_version(conn)), compute)


def gi_layer(conn: sa.Connection, srid: int, sel: Selection, permutations: int = 0,
             seed: int = 0) -> gpd.GeoDataFrame:
    from .gistar import gi_star

    def compute() -> gpd.GeoDataFrame:
        cells = units(conn, srid, sel)
        observed = counts(cells, incidents(conn, srid, sel))
        result = gi_star(observed, contiguity(cells, sel), permutations=permutations,
                         seed=seed).frame()
        return cells.assign(incidents=observed, **{c: result[c].to_numpy()
                                                  for c in result.columns})
    return cached(conn, "gi", (sel, permutations, seed), compute)


def areas_layer(conn: sa.Connection, srid: int, sel: Selection, min_class: int = 95
                ) -> gpd.GeoDataFrame:
    from .areas import hotspot_areas

    def compute() -> gpd.GeoDataFrame:
        grids = units(conn, srid, Selection("grids"))
        communities = gpd.read_postgis(
            "SELECT code, name, geom FROM areas WHERE level = 'community'",
            conn, geom_col="geom", crs=srid)
        return hotspot_areas(gi_layer(conn, srid, sel), incidents(conn, srid, sel), grids,
                             communities, min_class=min_class)
    return cached(conn, "areas", (sel, min_class), compute)


def period(points: gpd.GeoDataFrame, sel: Selection) -> tuple[pd.Timestamp, pd.Timestamp]:
    if points.empty:
        raise InvalidInput("no incidents match the selection", field="start")
    start = pd.Timestamp(sel.start) if sel.start else points["occurred_at"].min()
    end = pd.Timestamp(sel.end) if sel.end else points["occurred_at"].max() \
        + pd.Timedelta(seconds=1)
    return start, end


def emerging_layer(conn: sa.Connection, srid: int, sel: Selection, bin: str = "month"
                   ) -> gpd.GeoDataFrame:
    from .emerging import emerging_hotspots

    def compute() -> gpd.GeoDataFrame:
        cells = units(conn, srid, sel)
        points = incidents(conn, srid, sel)
        start, end = period(points, sel)
        edges = time_bins(start, end, {"week": "W-MON", "month": "MS", "quarter": "QS"}[bin])
        result = emerging_hotspots(binned_counts(cells, points, edges),
                                   contiguity(cells, sel))
        return cells.assign(**{c: result[c].to_numpy() for c in result.columns})
    return cached(conn, "emerging", (sel, bin), compute)


def near_repeat(conn: sa.Connection, srid: int, sel: Selection, distances: list[float],
                days: list[float], permutations: int = 99, seed: int = 0) -> dict:
    from .near_repeat import elevated_extent, knox, risk_zones

    def compute() -> dict:
        points = incidents(conn, srid, sel)
        if len(points) > MAX_KNOX_INCIDENTS:
            raise InvalidInput(f"{len(points):,} incidents; near-repeat analysis takes at "
                               f"most {MAX_KNOX_INCIDENTS:,} — narrow the time range or the "
                               "categories", field="start")
        xy = np.column_stack([points.geometry.x, points.geometry.y])
        t = (points["occurred_at"] - pd.Timestamp("1970-01-01", tz="UTC")) \
            .dt.total_seconds().to_numpy() / 86400
        table = knox(xy, t, distance_bands=distances, time_bands=days,
                     permutations=permutations, seed=seed)
        extent = elevated_extent(table)
        zones = risk_zones(points, points["occurred_at"].max(), extent[0], extent[1]) \
            if extent and len(points) else None
        return {"table": table, "extent": extent, "zones": zones}
    return cached(conn, "knox", (sel, tuple(distances), tuple(days), permutations, seed),
                  compute)


def forecast_layer(conn: sa.Connection, srid: int, sel: Selection, horizon_days: int = 30
                   ) -> gpd.GeoDataFrame:
    from .forecast import Incidents, forecast

    def compute() -> gpd.GeoDataFrame:
        cells = units(conn, srid, sel)
        points = incidents(conn, srid, sel)
        start, end = period(points, sel)
        score = forecast(cells, Incidents.from_frame(points), start, end,
                         pd.Timedelta(days=horizon_days))
        area = cells.area.to_numpy()
        order = np.argsort(-score / area, kind="stable")
        share = np.empty(len(cells))
        share[order] = np.cumsum(area[order]) / area.sum()
        return cells.assign(score=score, top_area_share=share)
    return cached(conn, "forecast", (sel, horizon_days), compute)
