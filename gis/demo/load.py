"""Loading the demo into the database. Everything except the roads goes through
``import_file``, so the demo exercises the same checks and grid linking as user data."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from ..db import Database
from ..importing import Mapping, import_file
from ..linking import publish_plan
from . import fieldwork
from .district import District
from .entities import grid_workers

PLAN_NAME = "示范网格方案 Demo plan"
DRAFT_NAME = "调整草案 Draft plan (with a gap and an overlap)"


class Loader:
    """Writes each layer to a file in ``work`` and imports it with ``import_file``;
    ``counts`` holds the rows inserted per kind. ``progress(kind, rows_read, total)`` is
    called as each file goes in."""

    def __init__(self, db: Database, work: Path, crs: int,
                 progress: Callable[[str, int, int | None], None] | None = None) -> None:
        self.db, self.work, self.crs, self.progress = db, work, crs, progress
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}  # importing each kind's files
        self.writing: dict[str, float] = {}  # writing them

    def __call__(self, kind: str, frame: pd.DataFrame, mapping: Mapping | None = None,
                 **kwargs) -> None:
        started = time.perf_counter()
        suffix = "gpkg" if isinstance(frame, gpd.GeoDataFrame) else "csv"
        path = self.work / f"{kind}.{suffix}"
        if suffix == "gpkg":
            frame.to_file(path, driver="GPKG", engine="pyogrio")
        else:
            frame.to_csv(path, index=False)
        progress = self.progress
        written = time.perf_counter()
        self.writing[kind] = self.writing.get(kind, 0.0) + written - started
        report = import_file(
            self.db, kind, path, mapping=mapping or Mapping(crs=f"EPSG:{self.crs}"),
            keep_extra=False, progress=(lambda done, total: progress(kind, done, total))
            if progress else None, **kwargs)
        path.unlink()
        self.counts[kind] = self.counts.get(kind, 0) + report.inserted
        self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - written


def demo_buildings(buildings: gpd.GeoDataFrame, homes: pd.DataFrame) -> gpd.GeoDataFrame:
    """The demo's OpenStreetMap buildings as imported, with their households counted."""
    household_counts = homes.groupby("building_ref").size()
    return buildings.assign(
        households=household_counts.reindex(buildings["osm_id"]).fillna(0).astype(int)
        .to_numpy(), use=buildings["building"])[
        ["osm_id", "name", "address", "use", "levels", "households", "geometry"]]


def load_layers(load: Loader, district: District, roads: gpd.GeoDataFrame,
                buildings: gpd.GeoDataFrame, homes: pd.DataFrame, residents: pd.DataFrame,
                places: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame, events: pd.DataFrame,
                model: dict, plan_name: str, rng: np.random.Generator,
                today: pd.Timestamp) -> dict[str, int]:
    """Every layer of the demo or the city through ``load``, in the order their
    references need (``model``: the district's name and code, cameras, incidents and
    field work as in the demo's model); returns the rows inserted per kind."""
    with_ids = Mapping(crs=f"EPSG:{load.crs}", external_id="osm_id")
    load_division(load, district, model, plan_name)
    load("buildings", buildings, with_ids)
    load_homes(load, homes, residents)
    load("places", places[["osm_id", "name", "category", "risk_level", "geometry"]],
         with_ids)
    load("things", camera_things(cameras, model["cameras"], rng), with_ids)
    workers = fieldwork.leave_one_grid_unattended(grid_workers(district.grids, rng),
                                                  model["field_work"]["inactive_workers"])
    load("workers", workers, plan_name=plan_name)
    load("incidents", incident_rows(events, model["incidents"], rng))
    load_field_work(load, district, roads, homes, workers, model, today, rng)
    return load.counts


def record_demo(conn: sa.Connection, attribution: str, demo: str, time_zone: str) -> None:
    """What the database records of the demo it holds: whose data, which demo (its
    seed), and its time zone."""
    conn.execute(sa.text(
        "INSERT INTO gridgis_meta (key, value) VALUES ('attribution', :a), ('demo', :d), "
        "('timezone', :tz) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
        {"a": attribution, "d": demo, "tz": time_zone})


def load_division(load: Loader, district: District, model: dict, plan_name: str) -> None:
    """The district, its subdistricts and communities, and its grids as a published
    plan."""
    name_zh, name_en = model["district_name"]
    crs = district.grids.crs
    areas = pd.concat([
        gpd.GeoDataFrame({"level": ["district"], "code": [model["district_code"]],
                          "name": [name_zh], "name_en": [name_en], "parent_code": [None]},
                         geometry=[district.boundary], crs=crs),
        district.subdistricts.assign(level="subdistrict",
                                     parent_code=model["district_code"]),
        district.communities.assign(level="community"),
    ])[["level", "code", "name", "name_en", "parent_code", "geometry"]]
    load("areas", gpd.GeoDataFrame(areas, crs=crs))
    load("grids", district.grids[["code", "name", "community_code", "geometry"]],
         plan_name=plan_name)
    with load.db.engine.begin() as conn:
        plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                               {"n": plan_name}).scalar_one()
        publish_plan(conn, plan_id)


def load_homes(load: Loader, homes: pd.DataFrame, residents: pd.DataFrame) -> None:
    """Households (at their building's point) and their residents."""
    load("households", homes[["household_ref", "building_ref", "unit", "x", "y"]]
         .rename(columns={"building_ref": "building_id_ref"}).assign(synthetic=True),
         Mapping(crs=f"EPSG:{load.crs}", external_id="household_ref"))
    if len(residents):
        points = homes.set_index("household_ref")[["x", "y"]]
        people = residents.join(points, on="household_ref").rename(
            columns={"household_ref": "household_id_ref"})
        load("people", people)


def camera_things(cameras: gpd.GeoDataFrame, rules: dict,
                  rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Cameras as things, with the model's range and field of view, a random bearing
    where the data has none, and 8 % offline."""
    bearing = cameras["direction"].to_numpy(dtype=float, copy=True)
    missing = np.isnan(bearing)
    bearing[missing] = rng.uniform(0, 360, missing.sum()).round()
    return cameras.assign(type="camera", range_m=rules["range_m"],
                          fov_deg=rules["fov_deg"], bearing_deg=bearing % 360,
                          status=np.where(rng.random(len(bearing)) < 0.08, "offline",
                                          "online"))[
        ["osm_id", "type", "range_m", "fov_deg", "bearing_deg", "status", "geometry"]]


def incident_rows(events: pd.DataFrame, params: dict, rng: np.random.Generator
                  ) -> pd.DataFrame:
    """Simulated events as police calls: reported after an exponential delay, closed
    unless they are from the last 14 days."""
    delay = pd.to_timedelta(rng.exponential(params["report_delay_minutes"] * 60,
                                            len(events)), unit="s")
    statuses = np.where(events["occurred_at"] < events["occurred_at"].max()
                        - pd.Timedelta(days=14), "closed", "in_progress")
    return pd.DataFrame({
        "x": events["x"], "y": events["y"], "category": events["category"],
        "occurred_at": events["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reported_at": (events["occurred_at"] + delay).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": statuses, "source": "police_call", "synthetic": True,
        "subcategory": events["source"]})


def load_field_work(load: Loader, district: District, roads: gpd.GeoDataFrame,
                    homes: pd.DataFrame, workers: pd.DataFrame, model: dict,
                    today: pd.Timestamp, rng: np.random.Generator) -> None:
    """Patrol bases, visits and patrol tracks up to ``today`` (the end of the incidents;
    synthetic: see ``fieldwork``)."""
    field = model["field_work"]
    load("places", fieldwork.patrol_bases(district, roads, field["posts"]),
         Mapping(crs=f"EPSG:{load.crs}", external_id="external_id"))
    if "grid_code" in homes:
        grid_of_home = homes["grid_code"]
    else:
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(homes["x"], homes["y"]),
                                  crs=district.grids.crs)
        joined = gpd.sjoin(points, district.grids[["code", "geometry"]], predicate="within")
        grid_of_home = joined[~joined.index.duplicated()]["code"].reindex(points.index)
    load("visits", fieldwork.visits(homes, grid_of_home, workers, today, field, rng))
    load("patrol_points", fieldwork.patrol_tracks(
        district, roads, today, field, model["incidents"]["time_zone"], rng))


def insert_roads(conn: sa.Connection, roads: gpd.GeoDataFrame, crs: int) -> None:
    """Roads are base map, not an importable kind, so they go in with one bulk insert."""
    lines = roads[roads.geometry.geom_type == "LineString"]
    conn.execute(sa.text(
        "INSERT INTO roads (name, highway, oneway, external_id, geom) "
        "SELECT name, highway, oneway, external_id, ST_GeomFromWKB(wkb, :srid) "
        "FROM unnest(CAST(:names AS text[]), CAST(:highways AS text[]), "
        "CAST(:oneways AS boolean[]), CAST(:ids AS text[]), CAST(:wkbs AS bytea[])) "
        "AS t(name, highway, oneway, external_id, wkb)"),
        {"srid": crs, "names": [n if isinstance(n, str) else None for n in lines["name"]],
         "highways": lines["highway"].tolist(),
         "oneways": lines["oneway"].astype(bool).tolist(),
         "ids": [f"{i}-{k}" for k, i in enumerate(lines["osm_id"])],
         "wkbs": [bytes(b) for b in shapely.to_wkb(lines.geometry.values)]})


def add_flawed_draft(conn: sa.Connection) -> None:
    """A draft copy of the published plan with one grid drawn 15 m short of its
    neighbours (a gap) and another 10 m over them (an overlap): what the coverage audit
    and ``gridgis plans publish`` must catch."""
    plan = conn.execute(sa.text(
        "INSERT INTO grid_plans (name, description, state) VALUES (:n, :d, 'draft') "
        "RETURNING id"), {"n": DRAFT_NAME, "d": "demo: a draft that must not be published "
                          "as it is"}).scalar_one()
    conn.execute(sa.text("""
        WITH published AS (SELECT g.*, row_number() OVER (ORDER BY code) AS n
                           FROM grids g JOIN grid_plans p ON p.id = g.plan_id
                           WHERE p.state = 'published')
        INSERT INTO grids (plan_id, code, name, community_id, geom)
        SELECT :plan, code, name, community_id,
               CASE n WHEN 1 THEN ST_Multi(ST_Buffer(geom, -15))
                      WHEN 6 THEN ST_Multi(ST_Buffer(geom, 10))
                      ELSE geom END
        FROM published"""), {"plan": plan})
