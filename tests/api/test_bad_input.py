"""Malformed, implausible or hostile input: a 4xx that says what and where, never a 5xx,
never a silently ignored parameter or a silently changed value."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from tests.accounts import api_client
from tests.api.helpers import assert_problem, point_feature


def raw_post(client, path: str, text: str):
    return client.post(path, content=text.encode("utf-8"),
                       headers={"content-type": "application/json"})


def test_unknown_geometry_types_and_shapes_are_refused(client):
    for geometry in ({"type": "Circle", "coordinates": [24.93, 60.16], "radius": 5},
                     {"type": "MultiPoint", "coordinates": [[24.93, 60.16]]},
                     {"type": "Point", "coordinates": ["24.93", "60.16"]},
                     {"type": "Point", "coordinates": [24.93, 60.16, 12.0]},
                     {"type": "Point", "coordinates": [True, 60.16]}):
        feature = point_feature(category="fire", occurred_at="2026-01-01")
        feature["geometry"] = geometry
        assert_problem(client.post("/incidents", json=feature), 422, "geometry")


def test_a_lone_surrogate_is_a_422_not_a_500(client):
    text = json.dumps(point_feature(category="fire", occurred_at="2026-01-01",
                                    description="X"))
    for broken in (text.replace('"X"', '"\\ud800"'),
                   text.replace('"description": "X"', '"properties": {"note": "\\udfff"}')):
        assert_problem(raw_post(client, "/incidents", broken), 422)


def test_json_types_are_taken_as_they_are(client, ids):
    url = f"/incidents/{ids['incident0']}"
    assert_problem(client.patch(url, json={"version": True, "status": "closed"}), 422,
                   "version")
    assert_problem(client.post("/things", json=point_feature(type="camera", range_m="30")),
                   422, "range_m")
    assert_problem(client.post("/workers", json={"name": 123}), 422, "name")


def test_locations_outside_the_deployment_are_outside_every_grid(client):
    far = client.get("/grids/at", params={"lat": 0, "lon": 120})
    assert_problem(far, 404)
    listing = client.get("/incidents", params={"bbox": "120,0,120.1,0.1"})
    assert listing.status_code == 200 and listing.json()["numberMatched"] == 0


def test_filters_a_resource_does_not_have_are_refused(client):
    for path, params in (("/households", {"building": 1}), ("/people", {"start": "2026-01-01"}),
                         ("/grids", {"special": "any"})):
        body = assert_problem(client.get(path, params=params), 422)
        assert body["field"] == next(iter(params))
    assert_problem(client.get("/areas", params={"parent": "999"}), 422, "parent")


def test_blank_and_malformed_dates_name_the_parameter(client):
    for params in ({"train_start": "", "train_end": "2026-01-01", "test_end": "2026-02-01"},
                   {"train_start": "2026-01-01", "train_end": " ", "test_end": "2026-02-01"},
                   {"train_start": "2026-01-01", "train_end": "2026-01-15",
                    "test_end": "2026-13-01"}):
        blank = next(k for k, v in params.items() if not v.strip() or "-13-" in v)
        assert_problem(client.get("/hotspots/backtest", params=params), 422, blank)
    # an optional bound left blank (as an HTML form sends it) is documented as no bound
    blank_start = client.get("/hotspots/gi", params={"start": "", "end": "2026-02-01"})
    assert blank_start.json() == client.get("/hotspots/gi", params={"end": "2026-02-01"}).json()


def test_whole_world_and_antimeridian_boxes(seeded):
    db, _ = seeded
    settings = Settings(api=ApiSettings(max_bbox_km2=1e9))
    with api_client(create_app(settings, database=db), db) as client:
        for box in ("-180,-90,180,90", "-180,60.1,180,60.2"):
            body = client.get("/incidents", params={"bbox": box}).json()
            assert body["numberMatched"] == 4, box  # every seeded incident lies inside
        body = assert_problem(client.get("/incidents", params={"bbox": "170,0,-170,10"}),
                              422, "bbox")
        assert "antimeridian" in body["detail"]


def test_a_whole_world_box_is_too_large_by_default(client):
    body = assert_problem(client.get("/incidents", params={"bbox": "-180,-90,180,90"}), 422,
                          "bbox")
    assert "510" in body["detail"].replace(",", "")[:40]  # about 510 million km²


def test_status_codes_say_what_happened(client, ids):
    referenced = assert_problem(client.delete(f"/areas/{ids['110101']}"), 409)
    assert "refer" in referenced["detail"]
    assert_problem(client.get("/incidents/99999999999999999999"), 404)
    assert_problem(client.put("/grids/99999999999999999999/workers", json=[]), 404)
    wrong_method = client.put("/incidents")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
    for path in ("/maps/grids", "/incidents", "/"):
        head = client.head(path)
        assert head.status_code == 200 and head.content == b"", path


def test_the_published_plan_cannot_be_deleted_and_drafts_leave_no_dangling_links(client,
                                                                                seeded):
    db, ids = seeded
    assert_problem(client.delete(f"/plans/{ids['plan']}"), 409)
    draft = client.post("/plans", json={"name": "draft"}).json()
    ring = [[24.93, 60.16], [24.931, 60.16], [24.931, 60.161], [24.93, 60.16]]
    client.post("/grids", json={"type": "Feature", "properties": {"code": "D1",
                                                                  "plan_id": draft["id"]},
                                "geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert client.delete(f"/plans/{draft['id']}").status_code == 204
    with db.engine.connect() as conn:
        dangling = conn.execute(sa.text(
            "SELECT count(*) FROM incidents i WHERE grid_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM grids g WHERE g.id = i.grid_id)")).scalar_one()
    assert dangling == 0


@pytest.mark.parametrize("field,value", [("occurred_at", "0001-01-01"),
                                         ("occurred_at", "2999-01-01T00:00:00Z"),
                                         ("reported_at", "2999-01-01")])
def test_implausible_dates_are_refused(client, field, value):
    values = {"category": "fire", "occurred_at": "2026-01-01", field: value}
    body = assert_problem(client.post("/incidents", json=point_feature(**values)), 422, field)
    assert "earliest" in body["detail"] or "future" in body["detail"]


def test_birth_dates_and_plan_dates(client):
    person = point_feature(name="老人", birth_date="1850-05-01")
    assert_problem(client.post("/people", json=person), 422, "birth_date")
    planned = client.post("/plans", json={"name": "2030", "valid_from": "2030-01-01T00:00Z"})
    assert planned.status_code == 201, planned.text  # plans may start in the future


def test_free_form_fields_are_bounded(seeded):
    db, _ = seeded
    settings = Settings(api=ApiSettings(max_body_bytes=4 * 2**20))
    with api_client(create_app(settings, database=db), db) as client:
        huge = point_feature(category="fire", occurred_at="2026-01-01",
                             properties={"blob": "x" * 100_000})
        assert_problem(client.post("/incidents", json=huge), 422, "properties")
        long = point_feature(category="fire", occurred_at="2026-01-01",
                             description="y" * 5000)
        assert_problem(client.post("/incidents", json=long), 422, "description")


def test_requests_for_another_host_are_refused(client):
    body = assert_problem(client.get("/incidents", headers={"host": "evil.example"}), 400,
                          "Host")
    assert "GRIDGIS_API_ALLOWED_HOSTS" in body["detail"]
    assert client.get("/incidents", headers={"host": "localhost:8000"}).status_code == 200


def test_deeply_nested_json_is_refused_and_nothing_is_stored(client, seeded):
    db, _ = seeded
    deep: dict = {"leaf": 1}
    for _ in range(20):
        deep = {"a": deep}
    feature = point_feature(category="fire", occurred_at="2026-01-01", properties=deep)
    assert "nest" in assert_problem(client.post("/incidents", json=feature), 422,
                                    "properties")["detail"]
    absurd = "[" * 100_000 + "]" * 100_000
    assert client.post("/incidents", content=absurd[:60_000],
                       headers={"content-type": "application/json"}).status_code == 400
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar() == 4


def test_sql_and_html_in_every_text_field_are_kept_as_text(client, seeded):
    db, _ = seeded
    hostile = ["'); DROP TABLE people; --", "<script>alert(1)</script>", "1' OR '1'='1",
               "$$; SELECT pg_sleep(10); $$", "\\x00\\n%s%%"]
    for value in hostile:
        feature = point_feature(name=value, id_number=value, phone=value, external_id=value)
        created = client.post("/people", json=feature)
        assert created.status_code == 201, created.text
        row = client.get(f"/people/{created.json()['id']}").json()["properties"]
        assert (row["name"], row["id_number"], row["phone"]) == (value, value, value)
        client.delete(f"/people/{created.json()['id']}")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM people")).scalar() == 3
