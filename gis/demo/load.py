"""Loading the demo into the database. Everything except the roads goes through
``import_file``, so the demo exercises the same checks and grid linking as user data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from ..db import Database
from ..importing import Mapping, import_file
from ..linking import publish_plan
from .district import District
from .entities import grid_workers
from .osm import OsmLayers

PLAN_NAME = "示范网格方案 Demo plan"


def load_all(db: Database, work: Path, crs: int, district: District, osm: OsmLayers,
             homes: pd.DataFrame, residents: pd.DataFrame, places: gpd.GeoDataFrame,
             events: pd.DataFrame, model: dict, rng: np.random.Generator) -> dict[str, int]:
    """Write each layer to a file in ``work`` and import it; returns rows inserted per kind."""
    counts: dict[str, int] = {}
    epsg = Mapping(crs=f"EPSG:{crs}")

    def load(kind: str, frame, mapping: Mapping = epsg, **kwargs) -> None:
        suffix = "gpkg" if isinstance(frame, gpd.GeoDataFrame) else "csv"
        path = work / f"{kind}.{suffix}"
        if suffix == "gpkg":
            frame.to_file(path, driver="GPKG", engine="pyogrio")
        else:
            frame.to_csv(path, index=False)
        report = import_file(db, kind, path, mapping=mapping, keep_extra=False, **kwargs)
        counts[kind] = report.inserted

    name_zh, name_en = model["district_name"]
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
         plan_name=PLAN_NAME)
    with db.engine.begin() as conn:
        plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                               {"n": PLAN_NAME}).scalar_one()
        publish_plan(conn, plan_id)
    household_counts = homes.groupby("building_ref").size()
    buildings = osm.buildings.assign(
        households=household_counts.reindex(osm.buildings["osm_id"]).fillna(0).astype(int)
        .to_numpy(), use=osm.buildings["building"])
    load("buildings", buildings[["osm_id", "name", "address", "use", "levels", "households",
                                 "geometry"]], Mapping(crs=f"EPSG:{crs}",
                                                       external_id="osm_id"))
    load("households", homes.rename(columns={"building_ref": "building_id_ref"})
         .assign(synthetic=True), Mapping(crs=f"EPSG:{crs}", external_id="household_ref"))
    if len(residents):
        points = homes.set_index("household_ref")[["x", "y"]]
        people = residents.join(points, on="household_ref").rename(
            columns={"household_ref": "household_id_ref"})
        load("people", people)
    load("places", places[["osm_id", "name", "category", "risk_level", "geometry"]],
         Mapping(crs=f"EPSG:{crs}", external_id="osm_id"))
    rules = model["cameras"]
    bearing = osm.cameras["direction"].to_numpy(dtype=float, copy=True)
    missing = np.isnan(bearing)
    bearing[missing] = rng.uniform(0, 360, missing.sum()).round()
    cameras = osm.cameras.assign(type="camera", range_m=rules["range_m"],
                                 fov_deg=rules["fov_deg"], bearing_deg=bearing % 360,
                                 status=np.where(rng.random(len(bearing)) < 0.08, "offline",
                                                 "online"))
    load("things", cameras[["osm_id", "type", "range_m", "fov_deg", "bearing_deg", "status",
                            "geometry"]], Mapping(crs=f"EPSG:{crs}", external_id="osm_id"))
    load("workers", grid_workers(district.grids, rng), plan_name=PLAN_NAME)
    delay = pd.to_timedelta(rng.exponential(model["incidents"]["report_delay_minutes"] * 60,
                                            len(events)), unit="s")
    statuses = np.where(events["occurred_at"] < events["occurred_at"].max()
                        - pd.Timedelta(days=14), "closed", "in_progress")
    load("incidents", pd.DataFrame({
        "x": events["x"], "y": events["y"], "category": events["category"],
        "occurred_at": events["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reported_at": (events["occurred_at"] + delay).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": statuses, "source": "police_call", "synthetic": True,
        "subcategory": events["source"]}))
    return counts


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
