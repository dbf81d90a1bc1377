"""What the map pages read from the database, simplified for display in PostGIS."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from gridgis.gis.sqlfiles import read_sql

SIMPLIFY_M = 1.0  # display tolerance: well under a pixel at street zoom


def _read(conn: sa.Connection, sql: str, **params) -> gpd.GeoDataFrame:
    """A query whose ``wkb`` column is WGS84 geometry, parsed in one vectorised call."""
    result = conn.execute(sa.text(sql), params)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    wkb = frame.pop("wkb").to_numpy() if len(frame) else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=4326)


def grids_with_measures(conn: sa.Connection, start: datetime | None,
                        end: datetime | None) -> gpd.GeoDataFrame:
    shapes = _read(conn, """
        SELECT g.id, ST_AsBinary(ST_Multi(ST_Transform(
                   ST_SimplifyPreserveTopology(g.geom, :tol), 4326))) AS wkb
        FROM grids g JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
        ORDER BY g.code""", tol=SIMPLIFY_M)
    result = conn.execute(sa.text(read_sql("grid_stats.sql")), {"start": start, "end": end})
    measures = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
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
    if conn.execute(sa.text("SELECT to_regclass('roads')")).scalar() is None:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    return _read(conn, """
        SELECT name, highway, ST_AsBinary(ST_Transform(ST_Simplify(geom, :tol), 4326)) AS wkb
        FROM roads ORDER BY id LIMIT :limit""", tol=SIMPLIFY_M, limit=limit)


def unassigned(conn: sa.Connection, limit: int) -> tuple[gpd.GeoDataFrame, int]:
    """Up to ``limit`` located entities outside every grid (blind spots), newest incidents
    first, and how many there are in all."""
    total = conn.execute(sa.text("""
        SELECT (SELECT count(*) FROM incidents WHERE grid_id IS NULL)
             + (SELECT count(*) FROM places WHERE grid_id IS NULL)
             + (SELECT count(*) FROM things WHERE grid_id IS NULL)
             + (SELECT count(*) FROM buildings WHERE grid_id IS NULL)""")).scalar_one()
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
    return frame, int(total)


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
        SELECT id, category, occurred_at, ST_AsBinary(ST_Transform(geom, 4326)) AS wkb
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
