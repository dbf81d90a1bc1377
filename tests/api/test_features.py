"""OGC API – Features, walked requirement by requirement (Part 1 Core, Part 2 CRS, Part 3
Filtering and CQL2) on the seeded district, with the roles, scope and masking of the
rest of the API."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.api.app import create_app
from tests.api.helpers import assert_problem
from tests.helpers import X0, Y0

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
UTM = "http://www.opengis.net/def/crs/EPSG/0/32635"
TO_LONLAT = Transformer.from_crs(32635, 4326, always_xy=True)
CORNERS = [TO_LONLAT.transform(X0 + dx, Y0 + dy) for dx in (0, 300) for dy in (0, 300)]
WEST, SOUTH = min(c[0] for c in CORNERS), min(c[1] for c in CORNERS)
EAST, NORTH = max(c[0] for c in CORNERS), max(c[1] for c in CORNERS)


def items(client, collection: str, **params) -> dict:
    response = client.get(f"/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    return response.json()


def ids_of(body: dict) -> list[int]:
    return [feature["id"] for feature in body["features"]]


def test_landing_page_conformance_and_api_definition(client):
    landing = client.get("/", headers={"Accept": "application/json"})
    assert landing.status_code == 200 and landing.headers["content-type"] == \
        "application/json"
    rels = {link["rel"]: link for link in landing.json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= \
        set(rels)
    assert client.get("/?f=json").json() == landing.json()
    assert "<html" in client.get("/", headers={"Accept": "text/html"}).text  # browsers
    conformance = client.get("/conformance").json()["conformsTo"]
    for required in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                     "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter",
                     "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/basic-cql2"):
        assert any(c.endswith(required) for c in conformance), required
    definition = client.get("/api")
    assert definition.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert "/collections/{collection_id}/items" in definition.json()["paths"]
    assert "<li>" in client.get("/conformance?f=html").text


def test_collections_list_every_located_kind_with_extent_and_crs(client):
    body = client.get("/collections").json()
    found = {c["id"]: c for c in body["collections"]}
    assert {"areas-district", "areas-subdistrict", "areas-community", "grids", "buildings",
            "places", "things", "organisations", "incidents", "households", "people"} <= \
        set(found)
    grids = found["grids"]
    assert grids["itemType"] == "feature" and grids["crs"][0] == CRS84
    assert UTM in grids["crs"] and grids["storageCrs"] == UTM
    box = grids["extent"]["spatial"]["bbox"][0]
    assert box == pytest.approx([WEST, SOUTH, EAST, NORTH], abs=1e-6)  # the grids' box
    assert {link["rel"] for link in grids["links"]} >= {"self", "items"}
    interval = found["incidents"]["extent"]["temporal"]["interval"][0]
    assert interval[0].startswith("2026-01-05") and interval[1].startswith("2026-03-02")
    assert client.get("/collections/grids").json()["id"] == "grids"
    assert_problem(client.get("/collections/nowhere"), 404)


def test_items_are_paged_by_next_links_to_the_end(client):
    first = items(client, "grids", limit=4)
    assert first["numberMatched"] == 9 and first["numberReturned"] == 4
    seen, page = ids_of(first), first
    while next_link := [link for link in page["links"] if link["rel"] == "next"]:
        page = client.get(next_link[0]["href"]).json()
        seen += ids_of(page)
    assert len(seen) == len(set(seen)) == 9
    assert [link["rel"] for link in page["links"] if link["rel"] == "prev"] == ["prev"]
    assert items(client, "areas-community")["numberMatched"] == 2
    assert items(client, "areas-district")["numberMatched"] == 1


def test_one_feature_and_features_of_other_collections_are_not_found(client, ids):
    feature = client.get(f"/collections/grids/items/{ids['grid00']}")
    assert feature.status_code == 200 and feature.json()["id"] == ids["grid00"]
    assert feature.headers["ETag"].startswith('"')  # strong, for If-Match
    assert feature.json()["properties"]["code"] == "110101001001000"
    assert_problem(client.get(f"/collections/areas-district/items/{ids['110101001']}"), 404)
    assert_problem(client.get("/collections/grids/items/999999"), 404)


def test_bbox_in_crs84_and_in_the_metric_crs_agree(client):
    lon, lat = TO_LONLAT.transform(X0 + 100, Y0 + 100)
    in_degrees = items(client, "incidents", bbox=f"{WEST - 0.001},{SOUTH - 0.001},{lon},{lat}")
    in_metres = items(client, "incidents", bbox=f"{X0},{Y0},{X0 + 100},{Y0 + 100}",
                      **{"bbox-crs": UTM})
    assert in_degrees["numberMatched"] == in_metres["numberMatched"] == 2
    assert_problem(client.get("/collections/incidents/items", params={"bbox": "1,2,3"}), 400,
                   "bbox")
    assert_problem(client.get("/collections/incidents/items",
                              params={"bbox": "0,0,1,1", "bbox-crs": "EPSG:2000"}), 400,
                   "bbox-crs")


def test_datetime_instants_intervals_and_open_ends(client):
    assert items(client, "incidents", datetime="2026-02-05T23:00:00Z")["numberMatched"] == 1
    assert items(client, "incidents", datetime="2026-02-05")["numberMatched"] == 1
    assert items(client, "incidents",
                 datetime="2026-01-01T00:00:00Z/2026-02-28T00:00:00Z")["numberMatched"] == 2
    assert items(client, "incidents", datetime="../2026-01-31")["numberMatched"] == 1
    assert items(client, "incidents", datetime="2026-03-01/..")["numberMatched"] == 2
    assert_problem(client.get("/collections/grids/items", params={"datetime": "2026-01-01"}),
                   400, "datetime")
    assert_problem(client.get("/collections/incidents/items",
                              params={"datetime": "yesterday"}), 400, "datetime")
    assert items(client, "incidents", datetime="9999-12-31")["numberMatched"] == 0


def test_property_filters_sorting_and_chosen_properties(client):
    assert items(client, "incidents", category="dispute")["numberMatched"] == 1
    assert items(client, "buildings", levels="6")["numberMatched"] == 1
    assert_problem(client.get("/collections/buildings/items", params={"levels": "six"}),
                   400, "levels")
    unknown = assert_problem(client.get("/collections/incidents/items",
                                        params={"categroy": "dispute"}), 400, "categroy")
    assert "category" in unknown["detail"]
    assert_problem(client.get("/collections/incidents/items",
                              params=[("limit", "2"), ("limit", "3")]), 400, "limit")
    times = [f["properties"]["occurred_at"] for f in
             items(client, "incidents", sortby="-occurred_at")["features"]]
    assert times == sorted(times, reverse=True)
    assert_problem(client.get("/collections/incidents/items", params={"sortby": "colour"}),
                   400, "sortby")
    chosen = items(client, "incidents", properties="category")["features"][0]
    assert set(chosen["properties"]) == {"id", "category"}
    assert_problem(client.get("/collections/incidents/items",
                              params={"properties": "colour"}), 400, "properties")


def test_output_crs_with_its_header_and_axis_order(client, ids):
    path = "/collections/places/items"
    default = client.get(path)
    assert default.headers["Content-Crs"] == f"<{CRS84}>"
    lon, lat = default.json()["features"][0]["geometry"]["coordinates"]
    metric = client.get(path, params={"crs": UTM})
    assert metric.headers["Content-Crs"] == f"<{UTM}>"
    assert metric.json()["features"][0]["geometry"]["coordinates"] == \
        pytest.approx([X0 + 55, Y0 + 55], abs=0.01)
    lat_first = client.get(path, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert lat_first.json()["features"][0]["geometry"]["coordinates"] == \
        pytest.approx([lat, lon], abs=1e-7)
    assert_problem(client.get(path, params={"crs": "EPSG:27700"}), 400, "crs")
    assert_problem(client.get(path, params={"crs": "EPSG:²"}), 400, "crs")


def test_cql2_text_and_json_filters(client):
    def matched(text: str, **params) -> int:
        return items(client, "incidents", filter=text, **params)["numberMatched"]

    assert matched("category = 'dispute' OR category = 'fire'") == 2
    assert matched("category IN ('dispute', 'fire') AND NOT category = 'fire'") == 1
    assert matched("CASEI(category) = casei('DISPUTE')") == 1
    assert matched("category LIKE 'prop%'") == 1
    assert matched("T_AFTER(occurred_at, TIMESTAMP('2026-03-01T00:00:00Z'))") == 2
    assert matched("occurred_at < DATE('2026-02-01')") == 1
    lon, lat = TO_LONLAT.transform(X0 + 100, Y0 + 100)
    assert matched(f"S_INTERSECTS(geometry, BBOX({WEST - 0.001},{SOUTH - 0.001},{lon},{lat}))"
                   ) == 2
    square = f"POLYGON(({X0} {Y0},{X0 + 100} {Y0},{X0 + 100} {Y0 + 100},{X0} {Y0 + 100}," \
             f"{X0} {Y0}))"
    assert matched(f"S_WITHIN(geometry, {square})", **{"filter-crs": UTM}) == 2
    json_filter = '{"op": "=", "args": [{"property": "category"}, "fire"]}'
    assert matched(json_filter, **{"filter-lang": "cql2-json"}) == 1
    assert items(client, "buildings", filter="levels BETWEEN 5 AND 7")["numberMatched"] == 1

    def refused(text: str, status: int = 400) -> str:
        response = client.get("/collections/incidents/items", params={"filter": text})
        return assert_problem(response, status, "filter")["detail"]

    assert "not valid cql2-text" in refused("category = ")
    assert "not a queryable" in refused("colour = 'red'")
    assert "of type datetime" in refused("occurred_at = 'soon'")
    assert "does not support" in refused("T_MEETS(occurred_at, INTERVAL('2026-01-01', "
                                         "'2026-02-01'))")


def test_a_scoped_users_extent_is_of_what_they_reach(as_role):
    with as_role("grid_worker", ["110101001001000"]) as worker:
        found = {c["id"]: c for c in worker.get("/collections").json()["collections"]}
        interval = found["incidents"]["extent"]["temporal"]["interval"][0]
        assert interval[0].startswith("2026-01-05") and interval[1].startswith("2026-02-05")
        west, south, east, north = found["incidents"]["extent"]["spatial"]["bbox"][0]
        assert east < EAST and north < NORTH  # not the district's


def test_masked_fields_cannot_be_filtered_and_stay_masked(as_role):
    with as_role("viewer") as viewer:
        feature = items(viewer, "incidents", limit=1)["features"][0]
        assert feature["properties"]["description"] == "***"
        assert_problem(viewer.get("/collections/incidents/items",
                                  params={"filter": "description LIKE '<script%'"}), 403,
                       "filter")
        assert "people" not in {c["id"] for c in viewer.get("/collections").json()[
            "collections"]}
        assert_problem(viewer.get("/collections/people/items"), 404)
        queryables = viewer.get("/collections/incidents/queryables").json()
        assert "description" not in queryables["properties"]
        assert queryables["properties"]["occurred_at"]["format"] == "date-time"


def test_scope_limits_features_and_personal_reads_are_audited(as_role, seeded):
    db, _ = seeded
    with as_role("grid_worker", ["110101001001000"]) as worker:
        people = items(worker, "people")
        assert people["numberMatched"] == 2  # the two residents of grid 000
    with db.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE resource = "
                                      "'people' AND action = 'read'")).scalar_one()
    with as_role("police") as police:
        items(police, "people", purpose="入户走访核查")
    with db.engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE resource = "
                                     "'people' AND action = 'read'")).scalar_one()
    assert after == before + 1


def test_html_pages_escape_what_the_data_holds(client):
    page = client.get("/collections/places/items", params={"f": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;酒吧&lt;/b&gt;" in page.text and "<b>酒吧</b>" not in page.text
    assert "<table>" in client.get("/collections", headers={"Accept": "text/html"}).text


def test_a_token_may_come_as_the_password_of_http_basic(seeded, api_settings):
    """What desktop clients that store a user and password send (QGIS's Basic method)."""
    import base64

    from fastapi.testclient import TestClient

    from tests.accounts import token_for

    db, _ = seeded
    token = token_for(db, "viewer")
    with TestClient(create_app(api_settings, database=db)) as anyone:
        basic = base64.b64encode(f"qgis:{token}".encode()).decode()
        answer = anyone.get("/collections/incidents/items",
                            headers={"Authorization": f"Basic {basic}"})
        assert answer.status_code == 200 and answer.json()["numberMatched"] == 4
        for header in ("Basic !!!", "Basic " + base64.b64encode(b"qgis:").decode(),
                       "Basic " + base64.b64encode(b"qgis:wrong").decode(), "Digest x"):
            assert_problem(anyone.get("/collections/incidents/items",
                                      headers={"Authorization": header}), 401)


def test_the_anonymous_read_only_the_public_layers(seeded):
    from fastapi.testclient import TestClient

    from gridgis.api.settings import AuthSettings, Settings

    db, _ = seeded
    settings = Settings(auth=AuthSettings(public_layers=["areas", "grids"]))
    with TestClient(create_app(settings, database=db)) as anyone:
        listed = {c["id"] for c in anyone.get("/collections").json()["collections"]}
        assert listed == {"areas-district", "areas-subdistrict", "areas-community", "grids"}
        assert items(anyone, "grids")["numberMatched"] == 9
        assert_problem(anyone.get("/collections/incidents/items"), 401)
        assert_problem(anyone.get("/collections/people"), 401)


def test_a_limit_above_the_maximum_gives_the_maximum(seeded):
    from gridgis.api.settings import ApiSettings, Settings
    from tests.accounts import api_client

    db, _ = seeded
    settings = Settings(api=ApiSettings(default_limit=2, max_limit=3))
    with api_client(create_app(settings, database=db), db) as small:
        body = items(small, "grids", limit=10_001)
        assert body["numberReturned"] == 3 and body["numberMatched"] == 9
        assert "next" in {link["rel"] for link in body["links"]}


def test_counts_are_kept_per_table_version_and_per_scope(as_role, seeded):
    db, _ = seeded
    with as_role("admin") as admin:
        assert items(admin, "people")["numberMatched"] == 3
        assert items(admin, "people", limit=1, offset=1)["numberMatched"] == 3
        with as_role("grid_worker", ["110101001001000"]) as worker:  # the same app
            assert items(worker, "people")["numberMatched"] == 2
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO people (name, residence_type, geom) VALUES ('新居民', "
                "'registered', ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
                {"x": X0 + 250, "y": Y0 + 250})
        assert items(admin, "people")["numberMatched"] == 4
        assert items(admin, "people", filter="residence_type = 'registered'",
                     purpose="核查")["numberMatched"] >= 1
