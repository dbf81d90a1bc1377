"""What the map pages read from the database, simplified for display in PostGIS.

A page reads its base layers (:func:`read_base`) and its own data in one short
transaction and builds its HTML afterwards, with no connection held; the hotspot page's
analyses come from the hotspot service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from gridgis.gis.access.aggregates import in_scope, withhold_small
from gridgis.gis.access.principal import Principal
from gridgis.gis.incident_cells import counted_incidents
from gridgis.gis.linking import unassigned_counts
from gridgis.gis.sqlfiles import incident_filter_params, read_query
from gridgis.gis.stats import GridStatsCache, grid_stats

SIMPLIFY_M = 1.0  # display tolerance: well under a pixel at street zoom
# Points drawn outside every grid; people and households are personal, not drawn.
UNASSIGNED_SHOWN_KINDS = ("incidents", "places", "things", "buildings")

# Counts up to :cap + 1 only: whether a layer is too large to embed costs the same at
# any size.
ROADS_OVER = "SELECT count(*) FROM (SELECT 1 FROM roads LIMIT :cap + 1) r"
BUILDINGS_OVER = "SELECT count(*) FROM (SELECT 1 FROM buildings LIMIT :cap + 1) b"


def _read(conn: sa.Connection, sql: str, **params) -> gpd.GeoDataFrame:
    """A query whose ``wkb`` column is WGS84 geometry, parsed in one vectorised call."""
    result = conn.execute(sa.text(sql), params)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    wkb = frame.pop("wkb").to_numpy() if len(frame) else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=4326)


@dataclass
class BaseLayers:
    """The light base every page draws: roads, buildings, area outlines and facts."""

    roads: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    attribution: str
    synthetic: bool
    tiled: bool = False  # roads and buildings too many to embed: drawn from vector tiles
    extent: list[list[float]] | None = None  # the published grids', when tiled


def read_base(conn: sa.Connection, limit: int) -> BaseLayers:
    """The base layers; roads and buildings left to vector tiles when either has more
    than ``limit`` rows (embedded, they would be cut at ``limit``)."""
    facts = page_facts(conn)
    tiled = any(conn.execute(sa.text(query), {"cap": limit}).scalar_one() > limit
                for query in (ROADS_OVER, BUILDINGS_OVER))
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    return BaseLayers(empty if tiled else roads(conn, limit),
                      empty if tiled else buildings(conn, limit), areas(conn, "subdistrict"),
                      areas(conn, "community"), facts["attribution"], facts["synthetic"],
                      tiled, grid_extent(conn) if tiled else None)


def grid_count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM published_grids")).scalar_one())


def grid_extent(conn: sa.Connection) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the published grids (a page's view)."""
    box = conn.execute(sa.text(
        "SELECT ST_YMin(b), ST_XMin(b), ST_YMax(b), ST_XMax(b) FROM (SELECT ST_Transform("
        "ST_SetSRID(ST_Extent(geom)::geometry, (SELECT ST_SRID(geom) FROM published_grids "
        "LIMIT 1)), 4326) AS b FROM published_grids) e WHERE b IS NOT NULL")).first()
    return [[box[0], box[1]], [box[2], box[3]]] if box is not None else None


def grid_measures(conn: sa.Connection, start: datetime | None, end: datetime | None,
                  who: Principal, min_count: int, cache: GridStatsCache | None = None
                  ) -> pd.DataFrame:
    """The measures of the grids in the user's scope, without their shapes (a page that
    draws the grids from vector tiles), counts withheld as in
    :func:`grids_with_measures`."""
    return pd.DataFrame([withhold_small(r, who, min_count)
                         for r in in_scope(grid_stats(conn, start, end, cache=cache), who)])


def grids_with_measures(conn: sa.Connection, start: datetime | None, end: datetime | None,
                        who: Principal, min_count: int, cache: GridStatsCache | None = None
                        ) -> gpd.GeoDataFrame:
    """Every grid's shape; measures for those in the user's scope, counts of people
    withheld below ``min_count`` where the user may not see individuals."""
    shapes = _read(conn, """
        SELECT g.id, ST_AsBinary(ST_Multi(ST_Transform(
                   ST_SimplifyPreserveTopology(g.geom, :tol), 4326))) AS wkb
        FROM published_grids g ORDER BY g.code""", tol=SIMPLIFY_M)
    measures = pd.DataFrame([withhold_small(r, who, min_count)
                             for r in in_scope(grid_stats(conn, start, end, cache=cache),
                                               who)])
    if measures.empty:
        return shapes.assign(code=pd.Series(dtype=str), name=pd.Series(dtype=str))
    return shapes.merge(measures, on="id", how="left")


def areas(conn: sa.Connection, level: str) -> gpd.GeoDataFrame:
    return _read(conn, """
        SELECT id, code, name,
               ST_AsBinary(ST_Transform(ST_SimplifyPreserveTopology(geom, :tol), 4326)) AS wkb
        FROM areas WHERE level = :level ORDER BY code""", level=level, tol=SIMPLIFY_M)


def buildings(conn: sa.Connection, limit: int) -> gpd.GeoDataFrame:
    return _read(conn, """
        SELECT id, ST_AsBinary(ST_Transform(ST_SimplifyPreserveTopology(geom, :tol), 4326)) AS wkb
        FROM buildings ORDER BY id LIMIT :limit""", tol=SIMPLIFY_M, limit=limit)


def roads(conn: sa.Connection, limit: int) -> gpd.GeoDataFrame:
    return _read(conn, """
        SELECT name, highway, ST_AsBinary(ST_Transform(ST_Simplify(geom, :tol), 4326)) AS wkb
        FROM roads ORDER BY id LIMIT :limit""", tol=SIMPLIFY_M, limit=limit)


def unassigned(conn: sa.Connection, limit: int) -> tuple[gpd.GeoDataFrame, int]:
    """Up to ``limit`` located entities outside every grid (blind spots), newest incidents
    first, and how many there are in all."""
    total = sum(unassigned_counts(conn, UNASSIGNED_SHOWN_KINDS).values())
    frame = _read(conn, """
        (SELECT 'incident ' || category || ' #' || id AS label,
                ST_AsBinary(ST_Transform(geom, 4326)) AS wkb
         FROM incidents WHERE grid_id IS NULL ORDER BY occurred_at DESC LIMIT :limit)
        UNION ALL
        (SELECT 'place ' || coalesce(name, category) || ' #' || id,
                ST_AsBinary(ST_Transform(ST_PointOnSurface(geom), 4326))
         FROM places WHERE grid_id IS NULL LIMIT :limit)
        UNION ALL
        (SELECT 'thing ' || type || ' #' || id, ST_AsBinary(ST_Transform(geom, 4326))
         FROM things WHERE grid_id IS NULL LIMIT :limit)
        UNION ALL
        (SELECT 'building #' || id, ST_AsBinary(ST_Transform(ST_PointOnSurface(geom), 4326))
         FROM buildings WHERE grid_id IS NULL LIMIT :limit)
        LIMIT :limit""", limit=limit)
    return frame, total


def incidents(conn: sa.Connection, categories: tuple[str, ...], start: datetime | None,
              end: datetime | None, limit: int, who: Principal) -> tuple[gpd.GeoDataFrame, int]:
    """The newest ``limit`` incidents matching the filter in the user's scope, and how
    many match."""
    grid_ids = None if who.grid_ids is None else sorted(who.grid_ids)
    frame = _read(conn, read_query("map_incidents.sql"), limit=limit, grid_ids=grid_ids,
                  **incident_filter_params(categories, start, end))
    total = int(frame["matched"].iloc[0]) if len(frame) else 0
    return frame.drop(columns="matched"), total


def incident_count(conn: sa.Connection, categories: tuple[str, ...], start: datetime | None,
                   end: datetime | None, who: Principal) -> int:
    """How many incidents match the filter in the user's scope."""
    if who.grid_ids is None and start is None and end is None:
        return counted_incidents(conn, categories)
    grid_ids = None if who.grid_ids is None else sorted(who.grid_ids)
    return int(conn.execute(sa.text(read_query("map_incident_count.sql")), {
        "grid_ids": grid_ids, **incident_filter_params(categories, start, end)}
    ).scalar_one())


def page_facts(conn: sa.Connection) -> dict:
    """Attribution to show and whether the data holds synthetic rows."""
    attribution = conn.execute(sa.text(
        "SELECT value FROM gridgis_meta WHERE key = 'attribution'")).scalar() or ""
    synthetic = conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM people WHERE synthetic) "
        "OR EXISTS (SELECT 1 FROM incidents WHERE synthetic)")).scalar()
    return {"attribution": attribution, "synthetic": bool(synthetic)}
