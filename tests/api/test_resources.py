"""Resource endpoints over a real PostGIS: happy paths, paging, filters, bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.api.helpers import LAT, LON, assert_problem, point_feature


@pytest.mark.parametrize("resource", ["areas", "plans", "grids", "people", "buildings",
                                      "households", "places", "things", "organisations",
                                      "incidents", "workers"])
def test_every_resource_lists(client, resource):
    response = client.get(f"/{resource}")
    assert response.status_code == 200
    body = response.json()
    assert body["numberMatched"] >= body["numberReturned"]
    assert ("features" in body) == (resource not in ("plans", "workers"))


def test_list_pages_with_total_and_next_link(client):
    first = client.get("/grids", params={"limit": 4, "sort": "code"}).json()
    assert first["numberMatched"] == 9 and first["numberReturned"] == 4
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = client.get(next_link).json()
    codes = [f["properties"]["code"] for f in first["features"] + second["features"]]
    assert codes == sorted(codes) and len(set(codes)) == 8


def test_features_are_rfc7946_wgs84(client, ids):
    feature = client.get(f"/incidents/{ids['incident0']}").json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 24.9 < lon < 25.0 and 60.1 < lat < 60.2


def test_filters_by_category_time_and_grid(client, ids):
    by_category = client.get("/incidents", params={"category": "violent_crime,dispute"}).json()
    assert {f["properties"]["category"] for f in by_category["features"]} == \
        {"violent_crime", "dispute"}
    by_time = client.get("/incidents", params={"start": "2026-02-01", "end": "2026-03-01"})
    assert [f["properties"]["category"] for f in by_time.json()["features"]] == \
        ["violent_crime"]
    by_grid = client.get("/incidents", params={"grid": "110101001001000"}).json()
    assert by_grid["numberMatched"] == 2
    by_grid_id = client.get("/incidents", params={"grid_id": ids["grid00"]}).json()
    assert by_grid_id["numberMatched"] == 2


def test_filters_people_by_special_group_and_community(client):
    special = client.get("/people", params={"special": "community_correction"}).json()
    assert special["numberMatched"] == 1
    anyone = client.get("/people", params={"special": "any"}).json()
    assert anyone["numberMatched"] == 1
    community = client.get("/people", params={"community": "110101001001"}).json()
    assert community["numberMatched"] == 3


def test_bbox_filter(client):
    inside = client.get("/incidents", params={"bbox": "24.92,60.15,24.94,60.165"}).json()
    assert inside["numberMatched"] == 3  # the fourth lies 500 m south-west


def test_csv_export_of_a_list(client):
    response = client.get("/incidents", params={"f": "csv", "sort": "occurred_at"})
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("id,category") and "lon" in lines[0] and "lat" in lines[0]
    assert len(lines) == 5


def test_create_links_to_grid_and_returns_etag(client, ids):
    response = client.post("/incidents", json=point_feature(
        category="dispute", occurred_at="2026-04-01T09:00:00+08:00", description="噪音"))
    assert response.status_code == 201, response.text
    feature = response.json()
    assert feature["properties"]["grid_id"] == ids["grid00"]
    assert feature["properties"]["occurred_at"].startswith("2026-04-01T01:00:00")
    assert response.headers["etag"] == 'W/"1"'


def test_update_with_current_version_then_stale_version_conflicts(client, ids):
    url = f"/incidents/{ids['incident0']}"
    etag = client.get(url).headers["etag"]
    ok = client.patch(url, json={"status": "resolved"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.json()["properties"]["version"] == 2
    stale = client.patch(url, json={"status": "closed"}, headers={"If-Match": etag})
    body = assert_problem(stale, 409, "version")
    assert body["current_version"] == 2


def test_concurrent_updates_one_wins_one_conflicts(client, ids):
    url = f"/places/{client.get('/places').json()['features'][0]['id']}"
    etag = client.get(url).headers["etag"]
    first = client.patch(url, json={"risk_level": "medium"}, headers={"If-Match": etag})
    second = client.patch(url, json={"risk_level": "low"}, headers={"If-Match": etag})
    assert sorted([first.status_code, second.status_code]) == [200, 409]


def test_update_without_version_is_refused(client, ids):
    assert_problem(client.patch(f"/incidents/{ids['incident0']}", json={"status": "closed"}),
                   428, "If-Match")


def test_moving_a_point_relinks_it(client, ids):
    url = f"/incidents/{ids['incident0']}"
    moved = client.patch(url, params={"version": 1}, json={
        "geometry": {"type": "Point", "coordinates": [24.9345, 60.1618]}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["properties"]["grid_id"] != ids["grid00"]


def test_an_incident_is_stored_by_its_district_and_year(client, ids, seeded):
    db, _ = seeded
    created = client.post("/incidents", json=point_feature(
        category="fire", occurred_at="2025-06-01T08:00:00+08:00"))
    assert created.status_code == 201, created.text
    row = created.json()
    assert row["properties"]["district_id"] == ids["110101"]
    stored = sa.text("SELECT tableoid::regclass::text FROM incidents WHERE id = :i")
    with db.engine.connect() as conn:
        assert conn.execute(stored, {"i": row["id"]}).scalar() == f"incidents_d{ids['110101']}_2025"
        seeded_row = conn.execute(stored, {"i": ids["incident0"]}).scalar()  # written by SQL
    assert seeded_row.startswith(f"incidents_d{ids['110101']}_")
    moved = client.patch(f"/incidents/{row['id']}", params={"version": 1}, json={
        "geometry": {"type": "Point", "coordinates": [25.5, 61.0]}})  # out of the district
    assert moved.status_code == 200, moved.text
    assert moved.json()["properties"]["district_id"] is None
    assert moved.json()["properties"]["version"] == 2
    with db.engine.connect() as conn:
        assert conn.execute(stored, {"i": row["id"]}).scalar() == "incidents_other"


def test_delete_then_not_found(client, ids):
    url = f"/incidents/{ids['incident1']}"
    assert client.delete(url).status_code == 204
    assert_problem(client.get(url), 404)


def test_plan_publish_relinks(client, ids):
    plan = client.post("/plans", json={"name": "2027 redraw"}).json()
    assert plan["state"] == "draft"
    big = {"type": "Polygon", "coordinates": [[[24.90, 60.14], [24.96, 60.14], [24.96, 60.18],
                                               [24.90, 60.18], [24.90, 60.14]]]}
    created = client.post("/grids", json={"type": "Feature", "geometry": big,
                                          "properties": {"code": "X1", "plan_id": plan["id"]}})
    assert created.status_code == 201, created.text
    published = client.post(f"/plans/{plan['id']}/publish")
    assert published.json()["state"] == "published"
    lone = client.get(f"/incidents/{ids['incident3']}").json()["properties"]
    assert lone["grid_id"] == created.json()["id"]


def test_second_published_plan_conflicts(client):
    assert_problem(client.post("/plans", json={"name": "x", "state": "published"}), 409)


# -- bad input -----------------------------------------------------------------------

def test_malformed_json_body(client):
    response = client.post("/incidents", content=b'{"type": "Feature", ',
                           headers={"content-type": "application/json"})
    assert_problem(response, 422)


def test_malformed_geometry(client):
    feature = point_feature(category="fire", occurred_at="2026-01-01")
    feature["geometry"] = {"type": "Point", "coordinates": ["x", 1]}
    assert_problem(client.post("/incidents", json=feature), 422, "geometry")


def test_self_intersecting_polygon_rejected_unless_repair(client, ids):
    bowtie = {"type": "Polygon", "coordinates": [[[24.93, 60.16], [24.94, 60.17],
                                                  [24.94, 60.16], [24.93, 60.17],
                                                  [24.93, 60.16]]]}
    feature = {"type": "Feature", "geometry": bowtie, "properties": {"name": "BT"}}
    body = assert_problem(client.post("/buildings", json=feature), 422, "geometry")
    assert "Self-intersection" in body["detail"]
    repaired = client.post("/buildings", params={"repair": "true"}, json=feature)
    assert repaired.status_code == 201, repaired.text


def test_swapped_coordinates(client):
    body = assert_problem(client.post("/incidents", json=point_feature(
        lon=LAT, lat=LON, category="fire", occurred_at="2026-01-01")), 422, "geometry")
    assert "swapped" in body["detail"]


def test_out_of_range_coordinates(client):
    assert_problem(client.post("/incidents", json=point_feature(
        lon=24.9, lat=95, category="fire", occurred_at="2026-01-01")), 422, "geometry")


def test_wrong_types_and_unknown_values(client):
    assert_problem(client.post("/incidents", json=point_feature(
        category="fire", occurred_at="not a time")), 422, "occurred_at")
    assert_problem(client.post("/incidents", json=point_feature(
        category="alien", occurred_at="2026-01-01")), 422, "category")
    assert_problem(client.post("/things", json=point_feature(type="camera", range_m="far")),
                   422, "range_m")
    assert_problem(client.post("/incidents", json=point_feature(
        category="fire", occurred_at="2026-01-01", colour="red")), 422, "colour")


def test_missing_required_field(client):
    assert_problem(client.post("/incidents", json=point_feature(category="fire")), 422,
                   "occurred_at")


def test_unknown_reference_id(client):
    feature = {"type": "Feature", "properties": {"code": "Z", "plan_id": 999999},
               "geometry": {"type": "Polygon", "coordinates": [[[24.93, 60.16], [24.931, 60.16],
                                                                [24.931, 60.161], [24.93, 60.16]]]}}
    assert_problem(client.post("/grids", json=feature), 422)


def test_duplicate_code_conflicts(client):
    feature = {"type": "Feature", "properties": {"level": "district", "code": "110101",
                                                 "name": "dup"},
               "geometry": {"type": "Polygon", "coordinates": [[[24.93, 60.16], [24.931, 60.16],
                                                                [24.931, 60.161], [24.93, 60.16]]]}}
    assert_problem(client.post("/areas", json=feature), 409)


def test_bad_paging_sorting_and_filters(client):
    assert_problem(client.get("/incidents", params={"limit": 100_000}), 422, "limit")
    assert_problem(client.get("/incidents", params={"limit": 0}), 422)
    assert_problem(client.get("/incidents", params={"sort": "description"}), 422, "sort")
    assert_problem(client.get("/incidents", params={"level": "district"}), 422, "level")
    assert_problem(client.get("/people", params={"special": "aliens"}), 422, "special")
    assert_problem(client.get("/incidents", params={"start": "yesterday"}), 422, "start")
    assert_problem(client.get("/incidents", params={"start": "2026-02-01",
                                                    "end": "2026-01-01"}), 422, "end")


def test_bad_and_oversized_bbox(client):
    assert_problem(client.get("/incidents", params={"bbox": "1,2,3"}), 422, "bbox")
    assert_problem(client.get("/incidents", params={"bbox": "25,60,24,61"}), 422, "bbox")
    body = assert_problem(client.get("/incidents", params={"bbox": "20,55,30,65"}), 422,
                          "bbox")
    assert "km²" in body["detail"]


def test_oversized_body(client):
    huge = point_feature(category="fire", occurred_at="2026-01-01",
                         description="x" * 100_000)
    assert_problem(client.post("/incidents", json=huge), 413)


def test_oversized_streamed_body(client):
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    assert_problem(client.post("/incidents", content=chunks(),
                               headers={"content-type": "application/json"}), 413)


def test_not_found_and_bad_ids(client):
    assert_problem(client.get("/incidents/987654"), 404)
    assert_problem(client.get("/incidents/abc"), 404)  # no such resource path
    assert_problem(client.patch("/incidents/987654", params={"version": 1},
                                json={"status": "closed"}), 404)


def test_external_id_is_written_and_unique(client):
    body = point_feature(category="fire", occurred_at="2026-01-01", external_id="CASE-1")
    created = client.post("/incidents", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["external_id"] == "CASE-1"
    assert_problem(client.post("/incidents", json=body), 409)


def test_an_update_names_the_fields_it_changes_only(client, ids):
    url = f"/incidents/{ids['incident0']}"
    row = client.get(url).json()["properties"]
    body = assert_problem(client.patch(url, params={"version": row["version"]}, json=row), 422)
    assert body["field"] in ("id", "grid_id", "created_at", "updated_at")
