"""What the map pages read from the database, simplified for display in PostGIS."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from gis import stats

SIMPLIFY_M = 1.0  # display tolerance: well under a pixel at street zoom


def _read(conn: sa.Connection, sql: str, **params) -> gpd.GeoDataFrame:
    return gpd.read_postgis(sa.text(sql), conn, geom_col="geom", crs=4326, params=params)


def grids_with_measures(conn: sa.Connection, start: datetime | None,
                        end: datetime | None) -> gpd.GeoDataFrame:
    shapes = _read(conn, """
        SELECT g.id, ST_Transform(ST_SimplifyPreserveTopology(g.geom, :tol), 4326) AS geom
        FROM grids g JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
        ORDER BY g.code""", tol=SIMPLIFY_M)
    measures = pd.DataFrame(stats.grid_stats(conn, start, end))
    if measures.empty:
        return shapes.assign(code=pd.Series(dtype=str), name=pd.Series(dtype=str))
    return shapes.merge(measures, on="id", how="left")


def areas(conn: sa.Connection, level: str) -> gpd.GeoDataFrame:
    return _read(conn, """
        SELECT id, code, name,
               ST_Transform(ST_SimplifyPreserveTopology(geom, :tol), 4326) AS geom
        FROM areas WHERE level = :level ORDER BY code""", level=level, tol=SIMPLIFY_M)


def buildings(conn: sa.Connection, limit: int) -> gpd.GeoDataFrame:
    return _read(conn, """
        SELECT id, ST_Transform(ST_SimplifyPreserveTopology(geom, :tol), 4326) AS geom
        FROM buildings ORDER BY id LIMIT :limit""", tol=SIMPLIFY_M, limit=limit)


def roads(conn: sa.Connection, limit: int) -> gpd.GeoDataFrame:
    if conn.execute(sa.text("SELECT to_regclass('roads')")).scalar() is None:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    return _read(conn, """
        SELECT name, highway, ST_Transform(ST_Simplify(geom, :tol), 4326) AS geom
        FROM roads ORDER BY id LIMIT :limit""", tol=SIMPLIFY_M, limit=limit)


def unassigned(conn: sa.Connection, limit: int) -> gpd.GeoDataFrame:
    """Located entities outside every grid (blind spots), newest incidents first."""
    return _read(conn, """
        (SELECT 'incident ' || category || ' #' || id AS label,
                ST_Transform(geom, 4326) AS geom
         FROM incidents WHERE grid_id IS NULL ORDER BY occurred_at DESC LIMIT :limit)
        UNION ALL
        (SELECT 'place ' || coalesce(name, category) || ' #' || id,
                ST_Transform(ST_PointOnSurface(geom), 4326)
         FROM places WHERE grid_id IS NULL LIMIT :limit)
        UNION ALL
        (SELECT 'thing ' || type || ' #' || id, ST_Transform(geom, 4326)
         FROM things WHERE grid_id IS NULL LIMIT :limit)
        UNION ALL
        (SELECT 'building #' || id, ST_Transform(ST_PointOnSurface(geom), 4326)
         FROM buildings WHERE grid_id IS NULL LIMIT :limit)""", limit=limit)


def incidents(conn: sa.Connection, categories: list[str], start: datetime | None,
              end: datetime | None, limit: int) -> tuple[gpd.GeoDataFrame, int]:
    """The newest ``limit`` incidents matching the filter, and how many match."""
    params = {"cats": categories or None, "start": start, "end": end}
    total = conn.execute(sa.text("""
        SELECT count(*) FROM incidents
        WHERE (CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
          AND (CAST(:start AS timestamptz) IS NULL OR occurred_at >= :start)
          AND (CAST(:end AS timestamptz) IS NULL OR occurred_at < :end)"""),
                         params).scalar_one()
    frame = _read(conn, """
        SELECT id, category, occurred_at, ST_Transform(geom, 4326) AS geom
        FROM incidents
        WHERE (CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
          AND (CAST(:start AS timestamptz) IS NULL OR occurred_at >= :start)
          AND (CAST(:end AS timestamptz) IS NULL OR occurred_at < :end)
        ORDER BY occurred_at DESC LIMIT :limit""", limit=limit, **params)
    return frame, int(total)


def page_facts(conn: sa.Connection) -> dict:
    """Attribution to show and whether the data holds synthetic rows."""
    attribution = conn.execute(sa.text(
        "SELECT value FROM gridgis_meta WHERE key = 'attribution'")).scalar() or ""
    synthetic = conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM people WHERE synthetic) "
        "OR EXISTS (SELECT 1 FROM incidents WHERE synthetic)")).scalar()
    return {"attribution": attribution, "synthetic": bool(synthetic)}
