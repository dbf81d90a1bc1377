"""The generated city (``gridgis demo --city``): its geography checked with GEOS, then a
small city built into PostgreSQL and checked with PostGIS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from gridgis.gis.db import Database, create_db_engine
from gridgis.gis.demo import CityOptions, build_city, demo_kind, load_model
from gridgis.gis.demo import incidents as incident_model
from gridgis.gis.demo.city import (
    allocate,
    background_scale,
    city_side,
    generate_city,
    incident_params,
    rank_within,
)
from gridgis.gis.demo.model import load_city_model

SCALE = 0.01  # 100 grids, 10,000 households, 3,000 buildings, about 20,000 incidents


@pytest.fixture(scope="module")
def models():
    demo, places_map = load_model()
    return load_city_model(), demo, places_map


@pytest.fixture(scope="module")
def city(models):
    model, _, places_map = models
    return generate_city(model, places_map, SCALE, np.random.default_rng(5))


def test_grids_communities_and_subdistricts_tile_the_city(city):
    district = city.district
    area = district.boundary.area
    assert area == pytest.approx(1600 ** 2, rel=1e-9)  # 10 grids of 160 m a side
    for level in (district.grids, district.communities, district.subdistricts):
        assert level.geometry.is_valid.all()
        assert level.area.sum() == pytest.approx(area, rel=1e-9)  # no overlaps
        assert shapely.union_all(level.geometry.values).area == pytest.approx(area, rel=1e-9)
    assert len(district.grids) == 100 and district.grids["code"].is_unique
    communities = district.communities.set_index("code").geometry
    inside = [communities[c].buffer(1e-6).contains(g) for c, g in
              zip(district.grids["community_code"], district.grids.geometry, strict=True)]
    assert all(inside)
    assert (district.grids["code"].str[:12] == district.grids["community_code"]).all()
    assert district.communities["parent_code"].isin(district.subdistricts["code"]).all()


def test_buildings_stay_inside_their_grid_and_never_overlap(city):
    grids = city.district.grids.set_index("code").geometry
    buildings = city.buildings
    assert len(buildings) == 3000
    assert all(grids[c].contains(b) for c, b in
               zip(buildings["grid_code"], buildings.geometry, strict=True))
    assert shapely.union_all(buildings.geometry.values).area == \
        pytest.approx(buildings.area.sum(), rel=1e-9)


def test_households_live_in_residential_buildings_of_their_grid(city):
    homes, buildings = city.homes, city.buildings.set_index("osm_id")
    assert len(homes) == 10_000 and homes["household_ref"].is_unique
    held = homes.groupby("building_ref").size()
    assert (buildings.loc[held.index, "use"] == "residential").all()
    assert (buildings["households"].reindex(held.index) == held).all()
    assert buildings.loc[~buildings.index.isin(held.index), "households"].eq(0).all()
    assert (buildings.loc[homes["building_ref"], "grid_code"].to_numpy()
            == homes["grid_code"].to_numpy()).all()
    units = homes.groupby("building_ref")["unit"].agg(["min", "max", "size"])
    assert (units["min"] == 1).all() and (units["max"] == units["size"]).all()


def test_places_and_cameras_follow_the_model(city, models):
    model = models[0]
    boundary = city.district.boundary.buffer(10)
    assert city.places.within(boundary).all() and city.cameras.within(boundary).all()
    counts = city.places["category"].value_counts()
    nobody = int((city.buildings.groupby("grid_code")["households"].sum()
                  .reindex(city.district.grids["code"]).fillna(0) == 0).sum())
    for category, number in model["places"].items():
        expected = max(1, round(number * SCALE)) + (nobody if category == "park" else 0)
        assert counts[category] == expected, category
    assert len(city.cameras) == round(model["counts"]["cameras"] * SCALE)
    assert city.places["osm_id"].is_unique


def test_the_same_seed_gives_the_same_city(models, city):
    model, _, places_map = models
    again = generate_city(model, places_map, SCALE, np.random.default_rng(5))
    other = generate_city(model, places_map, SCALE, np.random.default_rng(6))
    pd.testing.assert_frame_equal(again.homes, city.homes)
    assert again.buildings.geometry.equals(city.buildings.geometry)
    assert not other.homes[["x", "y"]].equals(city.homes[["x", "y"]])


def test_the_side_follows_the_scale(models):
    model = models[0]
    assert city_side(model, 1.0) == 100 and city_side(model, 0.01) == 10
    assert city_side(model, 1e-6) == 2


def test_allocate_splits_exactly_and_respects_the_cap():
    rng = np.random.default_rng(1)
    weights = np.array([5.0, 1.0, 1.0, 0.0, 3.0])
    share = allocate(100, weights, np.array([30, 100, 100, 100, 100]), rng)
    # 50 capped at 30; the 20 left go to the others that have weight, never to weight 0
    assert share.sum() == 100 and share[0] == 30 and share[3] == 0
    assert share[1] >= 10 and share[2] >= 10 and share[4] >= 30
    assert share[1] + share[2] + share[4] == 70
    assert allocate(5, np.zeros(3), np.full(3, 9), rng).tolist() == [0, 0, 0]


def test_a_side_not_a_multiple_of_five_keeps_the_levels_nested(models):
    """27 grids a side: communities of 5 with a last row and column of 2, two
    subdistricts a side (25 and 2), every level tiling the city."""
    from gridgis.gis.demo.city import divide_city, street_lattice

    model = models[0]
    district = divide_city(model, street_lattice(model, 27, np.random.default_rng(3)))
    assert (len(district.grids), len(district.communities), len(district.subdistricts)) \
        == (729, 36, 4)
    area = district.boundary.area
    for level in (district.grids, district.communities, district.subdistricts):
        assert level.area.sum() == pytest.approx(area, rel=1e-9)
    communities = district.communities.set_index("code").geometry
    subdistricts = district.subdistricts.set_index("code").geometry
    assert all(communities[c].buffer(1e-6).contains(g) for c, g in
               zip(district.grids["community_code"], district.grids.geometry, strict=True))
    assert all(subdistricts[p].buffer(1e-6).contains(c) for p, c in
               zip(district.communities["parent_code"], district.communities.geometry,
                   strict=True))
    assert district.grids["name"].is_unique and district.grids["code"].is_unique


def test_rank_within_orders_each_group():
    groups = np.array([2, 0, 2, 1, 0, 2])
    ranks = rank_within(groups, np.random.default_rng(0))
    for g in (0, 1, 2):
        assert sorted(ranks[groups == g]) == list(range((groups == g).sum()))


def test_the_background_scale_gives_about_the_asked_number_of_incidents(models):
    """Checked against the simulation itself: the expected count is worked out from the
    model's rates, months and branching, and the simulated count must come close."""
    model, demo, _ = models
    params = incident_params(model, demo["incidents"])
    rng = np.random.default_rng(2)
    anchors = {kind: rng.uniform(0, 5000, (n, 2)) for kind, n in
               (("nightlife", 40), ("shops", 200), ("homes", 3000), ("transport", 30))}
    boundary = shapely.box(-1000, -1000, 6000, 6000)
    scale = background_scale(anchors, params, 30_000)
    events = incident_model.simulate(anchors, boundary, params, 3, scale=scale)
    assert len(events) == pytest.approx(30_000, rel=0.08)
    local = events["occurred_at"].dt.tz_convert(params["time_zone"])
    assert local.min() >= pd.Timestamp("2021-11-01", tz="Asia/Shanghai")
    assert local.max() < pd.Timestamp("2026-11-01", tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def built(pg_server):
    name, url = pg_server.fresh(srid=None)
    db = Database(create_db_engine(url, statement_timeout_ms=600_000))
    seen: dict[str, tuple[int, int | None]] = {}
    summary = build_city(db, CityOptions(scale=SCALE),
                         progress=lambda kind, done, total: seen.update({kind: (done, total)}))
    yield db, summary, seen
    db.engine.dispose()
    pg_server.drop_database(name)


def scalar(db, sql: str):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_the_city_is_built_through_the_importer(built):
    db, summary, seen = built
    counts = summary.counts
    assert counts["grids"] == 100 and counts["households"] == 10_000
    assert counts["buildings"] == 3000
    assert counts["people"] == pytest.approx(30_000, rel=0.05)  # households of three
    assert counts["incidents"] == pytest.approx(20_000, rel=0.15)
    assert seen["people"] == (counts["people"], counts["people"])  # the progress reached the end
    assert demo_kind(db) == "city"
    assert scalar(db, "SELECT value FROM gridgis_meta WHERE key = 'timezone'") == \
        "Asia/Shanghai"
    assert scalar(db, "SELECT count(*) FROM app_users") == 6
    assert {"importing people", "simulating incidents"} <= set(summary.steps)


def test_every_entity_lies_in_a_grid_and_every_reference_is_resolved(built):
    db, _, _ = built
    for table in ("people", "households", "buildings", "incidents"):
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE grid_id IS NULL") == 0, table
    assert scalar(db, "SELECT count(*) FROM people WHERE household_id IS NULL") == 0
    assert scalar(db, "SELECT count(*) FROM households WHERE building_id IS NULL") == 0
    assert scalar(db, """SELECT count(*) FROM households h JOIN buildings b
                         ON b.id = h.building_id WHERE b.grid_id <> h.grid_id""") == 0
    district = scalar(db, "SELECT ST_Area(geom) FROM areas WHERE level = 'district'")
    assert scalar(db, "SELECT ST_Area(ST_Union(geom)) FROM published_grids") == \
        pytest.approx(district, rel=1e-9)
    assert scalar(db, "SELECT sum(ST_Area(geom)) FROM published_grids") == \
        pytest.approx(district, rel=1e-9)


def test_incidents_span_five_years_in_the_city_time_zone(built):
    db, _, _ = built
    first = scalar(db, "SELECT min(occurred_at AT TIME ZONE 'Asia/Shanghai') FROM incidents")
    last = scalar(db, "SELECT max(occurred_at AT TIME ZONE 'Asia/Shanghai') FROM incidents")
    assert first.date().isoformat() == "2021-11-01"
    assert last.date().isoformat() == "2026-10-31"
    assert scalar(db, "SELECT count(DISTINCT category) FROM incidents") >= 6


@pytest.mark.parametrize("scale", [0.0, -1.0, 2.5])
def test_a_scale_out_of_bounds_is_refused_before_anything_is_built(scale):
    from gridgis.gis.errors import InvalidInput

    with pytest.raises(InvalidInput, match="scale"):
        build_city(None, CityOptions(scale=scale))  # type: ignore[arg-type]
