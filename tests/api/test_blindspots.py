"""The blind-spot routes: answers that match their models, who may read what (scope,
withheld small counts, hotspot layers, personal points), bad options, and the publish
gate over HTTP."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.api.models.blindspots import LayerCollection, Responsibility, Scorecard
from tests.accounts import api_client
from tests.helpers import add_draft_without, add_plan, square

OWN = "110101001001000"


def get(client, path, **kwargs):
    """Analyses answer 503 while they compute in a worker; ask again like a page does."""
    for _ in range(60):
        response = client.get(path, **kwargs)
        if response.status_code != 503:
            return response
        time.sleep(1)
    return response


def test_every_route_answers_with_its_model(client):
    card = get(client, "/blindspots/scorecard")
    assert card.status_code == 200, card.text
    body = Scorecard.model_validate(card.json())
    assert body.plan == "2026" and len(body.grids) == 9
    assert body.grids[0].status == "red"
    Responsibility.model_validate(get(client, "/blindspots/responsibility").json())
    for kind in ("coverage", "cameras", "reach", "patrol"):
        response = get(client, f"/blindspots/{kind}")
        assert response.status_code == 200, (kind, response.text)
        assert response.headers["content-type"].startswith("application/geo+json")
        LayerCollection.model_validate(response.json())
    outside = get(client, "/blindspots/coverage").json()
    points = [f for f in outside["features"] if f["properties"]["layer"] == "outside"]
    assert [p["properties"]["kind"] for p in points] == ["incidents"]
    for kind in ("coverage", "cameras", "reach", "patrol"):
        table = get(client, f"/blindspots/{kind}", params={"f": "csv"})
        assert table.headers["content-type"].startswith("text/csv")
        assert table.text.startswith("code,") and len(table.text.splitlines()) == 10
    csv = get(client, "/blindspots/scorecard", params={"f": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,code,")


@pytest.mark.parametrize("params, field", [
    ({"hot_class": 80}, "hot_class"), ({"stale_days": 0}, "stale_days"),
    ({"households_min": 600, "households_max": 500}, "households_min"),
    ({"car_min": "nan"}, "car_min"), ({"sites": 500}, "sites"), ({"f": "xml"}, "f"),
    ({"community": "nope"}, "community")])
def test_bad_options_are_422s_that_name_them(client, params, field):
    response = get(client, "/blindspots/scorecard", params=params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_one_community(client, seeded):
    db, ids = seeded
    with db.engine.begin() as conn:  # the east column of grids into the east community
        conn.execute(sa.text("UPDATE grids SET community_id = :c WHERE code LIKE '%2__'"),
                     {"c": ids["110101001002"]})
    west = get(client, "/blindspots/scorecard", params={"community": "110101001001"}).json()
    east = get(client, "/blindspots/scorecard", params={"community": "110101001002"}).json()
    assert len(west["grids"]) == 6 and len(east["grids"]) == 3
    assert {g["community"] for g in east["grids"]} == {"110101001002"}
    assert client.get("/blindspots/cameras", params={"community": "110101001001"}) \
        .status_code == 422  # a layer of the whole plan: not an option there


def test_a_missing_plan_is_a_404(client):
    assert get(client, "/blindspots/scorecard", params={"plan": "nope"}).status_code == 404


def test_anonymous_is_401_and_each_role_gets_what_it_may(seeded, api_settings):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "viewer") as viewer:
        assert viewer.get("/blindspots/scorecard", headers={"Authorization": ""}) \
            .status_code == 401
        rows = get(viewer, "/blindspots/scorecard").json()["grids"]
        # The viewer may not see people: counts of 1-4 residents are withheld.
        small = [r for r in rows if r["code"] == "110101001001101"][0]
        assert small["people"] is None
        assert get(viewer, "/blindspots/cameras").status_code == 200
        duty = get(viewer, "/blindspots/responsibility").json()
        own = [g for g in duty["grids"] if g["code"] == OWN][0]
        assert own["special"] is None and own["people"] is None  # 1 and 2 residents
        assert [w["people"] for w in duty["workers"]] == [None]
    with api_client(app, db, "grid_worker", scope=[OWN]) as worker:
        card = get(worker, "/blindspots/scorecard").json()
        assert [r["code"] for r in card["grids"]] == [OWN]
        # No right to hotspots: no measure made of hotspot cells.
        assert card["grids"][0]["dead_corners"] is None
        assert card["grids"][0]["dead_corners_status"] == "none"
        assert card["grids"][0]["neglected_incidents"] is None
        assert card["communities"] == [] and card["outside"] == {}
        assert get(worker, "/blindspots/cameras").status_code == 403  # hotspot cells
        assert worker.get("/blindspots/scorecard", params={"plan": "2026"}).status_code == 403
        duty = get(worker, "/blindspots/responsibility").json()
        assert [r["code"] for r in duty["grids"]] == [OWN]


def test_people_outside_every_grid_are_listed_only_to_those_who_see_them(seeded,
                                                                          api_settings):
    db, _ = seeded
    with db.engine.begin() as conn:
        draft = add_plan(conn, "redraw", state="draft")
        conn.execute(sa.text("INSERT INTO grids (plan_id, code, geom) VALUES (:p, 'R', "
                             "ST_Multi(ST_GeomFromText(:w, 32635)))"),
                     {"p": draft, "w": square(2, 2).wkt})
    app = create_app(api_settings, database=db)
    params = {"plan": "redraw"}
    with api_client(app, db, "viewer") as viewer:
        kinds = {f["properties"].get("kind") for f in get(
            viewer, "/blindspots/coverage", params=params).json()["features"]}
        assert "people" not in kinds and "incidents" in kinds
    with api_client(app, db, "admin") as admin:
        body = get(admin, "/blindspots/coverage", params=params).json()
        assert {"people", "households"} <= {f["properties"].get("kind")
                                            for f in body["features"]}
        assert "uncovered" in body["summary"]["problem"]
        log = admin.get("/audit", params={"resource": "people", "action": "read"}).json()
        assert log["numberMatched"] >= 1


def test_publishing_a_plan_with_a_gap_needs_force_and_a_reason(client, seeded):
    db, _ = seeded
    with db.engine.begin() as conn:
        draft = add_draft_without(conn, "holes", missing=(0, 2), prefix="H")
    refused = client.post(f"/plans/{draft}/publish")
    for _ in range(30):
        if refused.status_code != 503:
            break
        time.sleep(1)
        refused = client.post(f"/plans/{draft}/publish")
    assert refused.status_code == 409 and "uncovered" in refused.json()["detail"]
    assert client.post(f"/plans/{draft}/publish", params={"force": "true"}).status_code == 422
    forced = client.post(f"/plans/{draft}/publish",
                         params={"force": "true", "reason": "temporary, by order 12"})
    assert forced.status_code == 200, forced.text
    entry = client.get("/audit", params={"action": "publish"}).json()["items"][0]
    assert "temporary, by order 12" in entry["detail"]
