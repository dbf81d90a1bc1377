"""What the blind-spot audit reads from PostGIS: the plan and its grids, the region it
must cover, per-grid registry figures, workers, cameras, buildings, roads, posts,
incidents and patrol fixes. Each reader takes an open connection, returns plain frames
in the deployment's metric CRS and computes nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from .. import taxonomy
from ..errors import InvalidInput, NotFound
from ..replica import Connects
from ..sqlfiles import read_query
from .hotspot_inputs import data_version

DEFAULT_CAMERA_RANGE_M = 30.0
DEFAULT_CAMERA_FOV_DEG = 90.0


@dataclass(frozen=True)
class Plan:
    id: int
    name: str
    state: str

    @property
    def published(self) -> bool:
        return self.state == "published"


def registry_version(conn: sa.Connection) -> int:
    """Moves whenever buildings, people, households, places, things, workers,
    assignments, roads, visits or patrol points change (migration 0010)."""
    return int(conn.execute(sa.text(
        "SELECT sum(changes) FROM gridgis_registry_version")).scalar_one())


def versions(engine: Connects) -> tuple[int, int]:
    """(data version, registry version): what results read from both are cached by."""
    with engine.connect() as conn:
        return data_version(conn), registry_version(conn)


def plan(conn: sa.Connection, name: str | None) -> Plan:
    """The plan called ``name``, or the published one."""
    row = conn.execute(sa.text(
        "SELECT id, name, state FROM grid_plans WHERE name = :name") if name is not None
        else sa.text("SELECT id, name, state FROM grid_plans WHERE state = 'published'"),
        {"name": name}).first()
    if row is None:
        raise NotFound(f"there is no grid plan named {name!r}" if name is not None
                       else "there is no published grid plan; name one with plan=")
    return Plan(row.id, row.name, row.state)


def plan_grids(conn: sa.Connection, srid: int, plan_id: int) -> gpd.GeoDataFrame:
    return gpd.read_postgis(sa.text("""
        SELECT g.id, g.code, c.code AS community, s.code AS subdistrict, g.geom
        FROM grids g LEFT JOIN areas c ON c.id = g.community_id
        LEFT JOIN areas s ON s.id = c.parent_id
        WHERE g.plan_id = :plan ORDER BY g.code"""), conn, geom_col="geom", crs=srid,
        params={"plan": plan_id})


def communities(conn: sa.Connection, srid: int) -> gpd.GeoDataFrame:
    return gpd.read_postgis(sa.text("""
        SELECT c.code, s.code AS subdistrict, c.geom FROM areas c
        LEFT JOIN areas s ON s.id = c.parent_id WHERE c.level = 'community'
        ORDER BY c.code"""), conn, geom_col="geom", crs=srid)


def region(conn: sa.Connection, community: str | None) -> shapely.Geometry | None:
    """The area a plan must cover: the district (its union), else the communities', or
    one community; None when there are no areas at all."""
    if community is not None:
        wkb = conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM areas "
                                   "WHERE level = 'community' AND code = :c"),
                           {"c": community}).scalar()
        if wkb is None:
            raise InvalidInput(f"there is no community with code {community!r}",
                               field="community")
    else:
        wkb = conn.execute(sa.text("""
            SELECT coalesce(
                (SELECT ST_AsBinary(ST_Union(geom)) FROM areas WHERE level = 'district'),
                (SELECT ST_AsBinary(ST_Union(geom)) FROM areas WHERE level = 'community'))
        """)).scalar()
        if wkb is None:
            return None
    return shapely.from_wkb(bytes(wkb))


OUTSIDE_SQL = """
    SELECT '{table}' AS kind, e.id, ST_X(ST_PointOnSurface(e.geom)) AS x,
           ST_Y(ST_PointOnSurface(e.geom)) AS y, n.code AS nearest,
           ST_Distance(e.geom, n.geom) AS distance_m
    FROM {table} e
    CROSS JOIN LATERAL (SELECT g.code, g.geom FROM grids g WHERE g.plan_id = :plan
                        ORDER BY g.geom <-> e.geom LIMIT 1) n
    WHERE {outside}
"""
OUTSIDE_TABLES = ("buildings", "households", "people", "places", "things", "organisations",
                  "incidents")


def outside_entities(conn: sa.Connection, plan: Plan, limit: int, srid: int,
                     gaps: shapely.Geometry | None = None,
                     region: shapely.Geometry | None = None
                     ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Entities in no grid of the plan (at most ``limit`` per kind), with the nearest
    grid and its distance; and the count per kind. For the published plan that is the
    grid link the database keeps; for a draft, what lies in one of its ``gaps`` or
    outside its ``region`` and, checked again, in none of its grids (without a region,
    the check alone, which costs an index probe per entity)."""
    rows: list = []
    counts: dict[str, int] = {}
    params: dict = {"plan": plan.id, "srid": srid}
    if plan.published:
        outside = "e.grid_id IS NULL"
    else:
        outside = ("NOT EXISTS (SELECT 1 FROM grids g WHERE g.plan_id = :plan "
                   "AND ST_Intersects(g.geom, e.geom))")
        if region is not None:
            outside = ("(ST_Intersects(e.geom, ST_GeomFromWKB(:gaps, :srid)) OR NOT "
                       "ST_Intersects(e.geom, ST_GeomFromWKB(:region, :srid))) AND " + outside)
            params |= {"gaps": shapely.to_wkb(gaps if gaps is not None
                                              else shapely.MultiPolygon()),
                       "region": shapely.to_wkb(region)}
    for table in OUTSIDE_TABLES:
        counts[table] = int(conn.execute(sa.text(
            f"SELECT count(*) FROM {table} e WHERE {outside}"),  # noqa: S608
            params).scalar_one())
        if counts[table]:
            rows += conn.execute(sa.text(
                OUTSIDE_SQL.format(table=table, outside=outside) + " ORDER BY e.id "
                "LIMIT :limit"), {**params, "limit": limit}).mappings().all()
    return outside_frame(rows), counts


def outside_frame(rows: list | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows or [], columns=["kind", "id", "x", "y", "nearest",
                                             "distance_m"])


def grid_registry(conn: sa.Connection, plan: Plan, since: pd.Timestamp) -> pd.DataFrame:
    rows = conn.execute(sa.text(read_query("blindspot_grids.sql")), {
        "plan": plan.id, "published": plan.published, "since": since.to_pydatetime()}
    ).mappings().all()
    frame = pd.DataFrame(rows, columns=["id", "code", "community", "subdistrict",
                                        "households", "people", "special", "last_check",
                                        "checked_households"])
    frame["last_check"] = pd.to_datetime(frame["last_check"], utc=True)
    return frame


def assignments(conn: sa.Connection, plan_id: int) -> pd.DataFrame:
    rows = conn.execute(sa.text("""
        SELECT a.worker_id, g.code AS grid, w.active, w.name, w.employee_no
        FROM grid_assignments a JOIN grids g ON g.id = a.grid_id AND g.plan_id = :plan
        JOIN workers w ON w.id = a.worker_id ORDER BY a.worker_id, g.code"""),
        {"plan": plan_id}).mappings().all()
    return pd.DataFrame(rows, columns=["worker_id", "grid", "active", "name", "employee_no"])


def online_cameras(conn: sa.Connection, srid: int) -> gpd.GeoDataFrame:
    """Online cameras with their view: a missing field of view is 360° (a dome) when the
    bearing is missing too, else the default; a missing range is the default."""
    frame = gpd.read_postgis(sa.text("""
        SELECT id, name, bearing_deg, fov_deg, range_m, geom FROM things
        WHERE type = 'camera' AND status = 'online' ORDER BY id"""), conn,
        geom_col="geom", crs=srid)
    dome = frame["bearing_deg"].isna() & frame["fov_deg"].isna()
    frame["fov_deg"] = frame["fov_deg"].astype(float).fillna(DEFAULT_CAMERA_FOV_DEG)
    frame.loc[dome, "fov_deg"] = 360.0
    frame["bearing_deg"] = frame["bearing_deg"].astype(float).fillna(0.0)
    frame["range_m"] = frame["range_m"].astype(float).fillna(DEFAULT_CAMERA_RANGE_M)
    return frame


def building_footprints(conn: sa.Connection) -> np.ndarray:
    wkbs = conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM buildings")).scalars().all()
    return shapely.from_wkb([bytes(w) for w in wkbs]) if wkbs else np.array([], object)


def roads(conn: sa.Connection, srid: int) -> gpd.GeoDataFrame:
    return gpd.read_postgis(sa.text(
        "SELECT id, name, highway, oneway, geom FROM roads ORDER BY id"), conn,
        geom_col="geom", crs=srid)


def posts(conn: sa.Connection, srid: int) -> gpd.GeoDataFrame:
    return gpd.read_postgis(sa.text("""
        SELECT id, name, category, ST_PointOnSurface(geom) AS geom FROM places
        WHERE category = ANY(:cats) ORDER BY id"""), conn, geom_col="geom", crs=srid,
        params={"cats": list(taxonomy.POST_CATEGORIES)})


def incident_points(conn: sa.Connection, srid: int, start: pd.Timestamp,
                    end: pd.Timestamp) -> gpd.GeoDataFrame:
    rows = conn.execute(sa.text(
        "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents "
        "WHERE occurred_at >= :start AND occurred_at < :end"),
        {"start": start.to_pydatetime(), "end": end.to_pydatetime()}).all()
    xy = np.array(rows, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=srid)


def patrol_fixes(conn: sa.Connection, srid: int, start: pd.Timestamp,
                 end: pd.Timestamp) -> gpd.GeoDataFrame:
    rows = conn.execute(sa.text(
        "SELECT unit, shift, recorded_at, ST_X(geom) AS x, ST_Y(geom) AS y "
        "FROM patrol_points WHERE recorded_at >= :start AND recorded_at < :end"),
        {"start": start.to_pydatetime(), "end": end.to_pydatetime()}).all()
    frame = pd.DataFrame(rows, columns=["unit", "shift", "recorded_at", "x", "y"])
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=srid)


LATEST = {("visits", "visited_at"), ("patrol_points", "recorded_at")}


def latest(conn: sa.Connection, table: str, column: str) -> pd.Timestamp | None:
    """The latest time in ``table.column`` that is not in the future."""
    if (table, column) not in LATEST:
        raise ValueError(f"not a time column of the audit: {table}.{column}")
    value = conn.execute(sa.text(
        f"SELECT max({column}) FROM {table} WHERE {column} <= now()")).scalar()  # noqa: S608
    return pd.Timestamp(value).tz_convert("UTC") if value is not None else None


def any_patrol_points(conn: sa.Connection) -> bool:
    return bool(conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM patrol_points)"))
                .scalar_one())
