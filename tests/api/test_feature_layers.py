"""The analyses and tables beside the resources as OGC API collections: hotspot classes
and areas, the blind-spot layers, patrol routes and roads, each with items, filters and
vector tiles; checked against the analyses' own routes, the roles that may read them,
a scope, and a data change (the staged layer is made again, and only then)."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.api.helpers import assert_problem
from tests.api.test_feature_tiles import tile_path
from tests.helpers import X0, Y0
from tests.seed import add_hot_cluster

SRID = 32635
GRID = "110101001001000"  # the seeded grid at the district's south-west corner


@pytest.fixture
def hot(seeded, api_settings):
    """(app, database) of the seeded district with a cluster of incidents, two roads,
    and two ready patrol plans, one of them made within the first grid."""
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
        conn.execute(sa.text(
            "INSERT INTO roads (name, highway, geom) VALUES "
            "('东街 East Street', 'residential', ST_GeomFromText(:a, :srid)), "
            "('北路 North Road', 'primary', ST_GeomFromText(:b, :srid))"),
            {"a": f"LINESTRING({X0} {Y0 + 50}, {X0 + 300} {Y0 + 50})",
             "b": f"LINESTRING({X0 + 150} {Y0}, {X0 + 150} {Y0 + 300})", "srid": SRID})
        for name, scope, line in (
                ("night shift", [], f"LINESTRING({X0 + 200} {Y0 + 200}, {X0 + 280} {Y0 + 280})"),
                ("grid shift", [GRID], f"LINESTRING({X0 + 10} {Y0 + 10}, {X0 + 90} {Y0 + 90})")):
            plan = conn.execute(sa.text(
                "INSERT INTO patrol_plans (name, status, scope, shift_start, shift_end, mode, "
                "units, post, seed, parameters) VALUES (:name, 'ready', :scope, "
                "'2026-06-01 20:00+00', '2026-06-02 04:00+00', 'foot', 1, 'post', 0, '{}') "
                "RETURNING id"), {"name": name, "scope": scope}).scalar_one()
            conn.execute(sa.text(
                "INSERT INTO patrol_routes (plan_id, unit, name, minutes, metres, risk, geom) "
                "VALUES (:plan, 1, 'unit 1', 40, 2000, 3.5, ST_GeomFromText(:line, :srid))"),
                {"plan": plan, "line": line, "srid": SRID})
    return create_app(api_settings, database=db), db


def items(client, collection: str, **params) -> dict:
    answer = client.get(f"/collections/{collection}/items", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def made_at(db, layer: str):
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT made_at FROM derived_layers WHERE layer = :l"),
                            {"l": layer}).scalar()


def test_hotspot_classes_are_the_gi_route_s_cells(hot):
    app, db = hot
    with api_client(app, db, "police") as police:
        route = police.get("/hotspots/gi").json()["features"]
        layer = items(police, "hotspots-gi")
        assert layer["numberMatched"] == len(route) > 0
        by_cell = {f["properties"]["cell"]: f["properties"] for f in route}
        for feature in layer["features"]:
            expected = by_cell[feature["id"]]
            assert feature["properties"]["class"] == expected["class"]
            assert feature["properties"]["incidents"] == expected["incidents"]
            assert feature["properties"]["z"] == pytest.approx(expected["z"])
        busy = [c for c, p in by_cell.items() if p["incidents"] >= 3]
        assert 0 < len(busy) < len(route)
        filtered = items(police, "hotspots-gi", filter="incidents >= 3", sortby="-z")
        assert sorted(f["id"] for f in filtered["features"]) == sorted(busy)
        zs = [f["properties"]["z"] for f in filtered["features"]]
        known = [z for z in zs if z is not None]  # null (no variance) sorts last
        assert zs[:len(known)] == sorted(known, reverse=True)
        one = police.get(f"/collections/hotspots-gi/items/{busy[0]}").json()
        assert one["id"] == busy[0] and one["geometry"]["type"] == "Polygon"
        areas = items(police, "hotspots-areas")
        assert areas["numberMatched"] == len(police.get("/hotspots/areas").json()["features"])


def test_a_layer_is_staged_once_per_data_version(hot):
    app, db = hot
    with api_client(app, db, "police") as police:
        before = items(police, "hotspots-gi")
        first = made_at(db, "hotspots-gi")
        items(police, "hotspots-gi", filter="incidents > 0")
        assert made_at(db, "hotspots-gi") == first  # read, not made again
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, geom) VALUES ('violent_crime', "
                "'2026-05-01 12:00+00', ST_SetSRID(ST_MakePoint(:x, :y), :srid))"),
                {"x": X0 + 280, "y": Y0 + 280, "srid": SRID})
        after = items(police, "hotspots-gi")
        assert made_at(db, "hotspots-gi") > first
        total = sum(f["properties"]["incidents"] for f in after["features"])
        assert total == sum(f["properties"]["incidents"] for f in before["features"]) + 1


def test_blind_spot_layers_match_their_routes(hot):
    app, db = hot
    with api_client(app, db, "police") as police:
        route = police.get("/blindspots/patrol").json()["features"]
        layer = items(police, "blindspots-patrol")
        assert layer["numberMatched"] == len(route)
        assert {f["id"] for f in layer["features"]} == {f["properties"]["cell"] for f in route}
        streets = items(police, "blindspots-reach")
        route_streets = [f for f in police.get("/blindspots/reach").json()["features"]
                         if f["properties"]["layer"] == "street"]
        assert streets["numberMatched"] == len(route_streets) >= 2  # cut at the grids
        assert {f["geometry"]["type"] for f in streets["features"]} == {"LineString"}
        for name in ("blindspots-gaps", "blindspots-overlaps", "blindspots-dead-corners"):
            items(police, name)  # the seeded plan has none of some: an empty collection


def test_roads_and_patrol_routes_with_time_and_scope(hot):
    app, db = hot
    with api_client(app, db, "police") as police:
        roads = items(police, "roads", sortby="name")
        assert [f["properties"]["highway"] for f in roads["features"]] == \
            ["residential", "primary"]
        routes = items(police, "patrol-routes", datetime="2026-06-01T00:00:00Z/..")
        assert {f["properties"]["plan"] for f in routes["features"]} == \
            {"night shift", "grid shift"}
        assert items(police, "patrol-routes", datetime="2027-01-01")["numberMatched"] == 0
        assert_problem(police.get("/collections/roads/items",
                                  params={"datetime": "2026-01-01"}), 400, "datetime")
        assert_problem(police.get("/collections/roads/items",
                                  params={"sortby": "geometry"}), 400, "sortby")
    with api_client(app, db, "patrol_leader", [GRID]) as leader:
        routes = items(leader, "patrol-routes")
        assert [f["properties"]["plan"] for f in routes["features"]] == ["grid shift"]
        cells = items(leader, "hotspots-gi")["features"]
        with api_client(app, db, "police") as police:
            assert 0 < len(cells) < items(police, "hotspots-gi")["numberMatched"]


def test_who_may_read_a_layer(hot, client):
    app, db = hot
    with api_client(app, db, "grid_worker", [GRID]) as worker:  # no right to hotspots
        ids = {c["id"] for c in worker.get("/collections").json()["collections"]}
        assert "blindspots-reach" in ids and "roads" in ids
        assert not ids & {"hotspots-gi", "hotspots-areas", "blindspots-dead-corners",
                          "blindspots-patrol", "patrol-routes"}
        assert_problem(worker.get("/collections/hotspots-gi/items"), 404)
    with db.engine.connect() as conn:
        staged = conn.execute(sa.text("SELECT layer FROM derived_layers")).scalars().all()
    assert "hotspots-gi" not in staged  # nothing was computed for a refused reader
    client.headers.pop("Authorization")
    assert_problem(client.get("/collections/hotspots-gi/items"), 401)


def test_layer_tiles_carry_the_lattice_and_the_roads(hot):
    app, db = hot
    with api_client(app, db, "police") as police:
        answer = police.get(tile_path("hotspots-gi", 16))
        assert answer.status_code == 200, answer.text
        cells = mapbox_vector_tile.decode(answer.content)["hotspots-gi"]["features"]
        assert cells and {"class", "z", "incidents"} <= set(cells[0]["properties"])
        assert all(f["geometry"]["type"] == "Polygon" for f in cells)
        roads = mapbox_vector_tile.decode(police.get(tile_path("roads", 15)).content)
        assert {f["properties"]["name"] for f in roads["roads"]["features"]} == \
            {"东街 East Street", "北路 North Road"}
        tilejson = police.get("/collections/hotspots-gi/tiles/WebMercatorQuad/tilejson.json")
        assert tilejson.json()["vector_layers"][0]["fields"]["class"] == "Number"
        queryables = police.get("/collections/blindspots-patrol/queryables").json()
        assert queryables["properties"]["last_seen"]["format"] == "date-time"


def test_a_purpose_is_refused_where_nothing_is_personal(hot):
    app, db = hot
    with api_client(app, db, "police") as police:
        assert_problem(police.get("/collections/roads/items",
                                  params={"purpose": "核查"}), 400, "purpose")
