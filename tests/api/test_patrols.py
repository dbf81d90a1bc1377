"""`/patrols/plans` on the seeded district with a street lattice and a post: plans are
recorded, solved in the analysis workers, re-opened, exported, scoped and audited."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from lxml import etree
from pyproj import Transformer

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.api.helpers import assert_problem
from tests.helpers import X0, Y0, add_street_lattice

TO_WGS84 = Transformer.from_crs(32635, 4326, always_xy=True)


def target(name: str, x: float, y: float, **extra) -> dict:
    lon, lat = TO_WGS84.transform(X0 + x, Y0 + y)
    return {"name": name, "lon": lon, "lat": lat, **extra}


TARGETS = [target("学校 school", 300, 300, risk=2.0, window="08:30-08:45", mandatory=True),
           target("市场 market", 100, 200, risk=3.0), target("车站 station", 200, 0, risk=1.0),
           target("公园 park", 0, 300, risk=0.5)]
BODY = {"name": "早班", "date": "2026-06-30", "shift": "08:00-10:00", "units": 2,
        "source": "list", "targets": TARGETS, "seed": 3, "time_limit_s": 2,
        "compare_s": 1, "dwell_min": 10}


@pytest.fixture
def streets(seeded, api_settings):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_street_lattice(conn)
    app = create_app(api_settings, database=db)
    return db, lambda role="admin", scope=None: api_client(app, db, role, scope)


def solved(client, body: dict) -> dict:
    response = client.post("/patrols/plans", json=body)
    assert response.status_code in (201, 202), response.text
    plan = response.json()
    for _ in range(120):  # the first solve starts the analysis workers
        if plan["status"] != "solving":
            break
        time.sleep(0.5)
        plan = client.get(response.headers["Location"]).json()
    assert plan["status"] == "ready", plan
    return plan


def test_a_plan_is_solved_stored_and_reopened_with_its_files(streets):
    db, as_role = streets
    with as_role("patrol_leader", ["110101001"]) as leader:
        plan = solved(leader, BODY)
        result = plan["result"]
        assert plan["planned_by"] and plan["seed"] == 3 and plan["mode"] == "foot"
        assert plan["parameters"]["targets"][0]["window"] == ["08:30", "08:45"]
        assert result["dropped_mandatory"] == [] and result["unreachable"] == []
        stops = [s for u in result["units"] for s in u["stops"]]
        school = next(s for s in stops if s["name"] == "学校 school")
        assert "08:30" <= school["arrive"][11:16] <= "08:45"
        assert {s["name"] for s in stops} == {t["name"] for t in TARGETS}
        assert all(u["back"][11:16] <= "10:00" for u in result["units"])
        assert result["totals"]["risk_share"] == 1.0
        assert result["comparison"]["naive"]["value"] <= result["totals"]["value"] + 1e-9
        again = leader.get(f"/patrols/plans/{plan['id']}").json()
        assert again["result"] == result
        listed = leader.get("/patrols/plans").json()
        assert [p["id"] for p in listed["plans"]] == [plan["id"]]

        gpx = leader.get(f"/patrols/plans/{plan['id']}.gpx", params={"unit": 1})
        assert gpx.status_code == 200 and gpx.headers["content-type"].startswith(
            "application/gpx+xml")
        assert etree.fromstring(gpx.content).tag.endswith("gpx")
        geojson = leader.get(f"/patrols/plans/{plan['id']}.geojson").json()
        assert {f["properties"]["kind"] for f in geojson["features"]} == \
            {"route", "stop", "post"}
        sheet = leader.get(f"/patrols/plans/{plan['id']}/sheet", params={"unit": 1})
        assert sheet.status_code == 200 and "Patrol route sheet" in sheet.text
        assert_problem(leader.get(f"/patrols/plans/{plan['id']}.gpx", params={"unit": 9}),
                       422, "unit")
    with db.engine.begin() as conn:  # the market unit stands there 08:00-08:15 local
        conn.execute(sa.text(
            "INSERT INTO patrol_points (unit, shift, recorded_at, geom) "
            "SELECT 'P1', :tag, timestamptz '2026-06-30 00:00Z' + m * interval '1 minute', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 32635) FROM generate_series(0, 15) m"),
            {"tag": f"#{plan['id']}", "x": X0 + 102, "y": Y0 + 200})
    with as_role("patrol_leader", ["110101001"]) as leader:
        report = leader.get(f"/patrols/plans/{plan['id']}/dosage", params={"radius": 30})
        assert report.status_code == 200, report.text
        rows = {r["name"]: r for r in report.json()["targets"]}
        assert rows["市场 market"]["present_min"] == pytest.approx(15.0)
        assert rows["市场 market"]["visited"] and rows["市场 market"]["units_seen"] == "P1"
        assert rows["公园 park"]["planned_but_missed"]
        assert report.json()["fixes"] == 16
        assert_problem(leader.get(f"/patrols/plans/{plan['id']}/dosage",
                                  params={"radius": 0}), 422, "radius")
    with db.engine.connect() as conn:
        entry = conn.execute(sa.text(
            "SELECT action, resource, record_ids FROM audit_log WHERE resource = 'patrols'")
        ).one()
        routes = conn.execute(sa.text(
            "SELECT count(*), bool_and(ST_Length(geom) > 0) FROM patrol_routes "
            "WHERE plan_id = :p AND geom IS NOT NULL"), {"p": plan["id"]}).one()
    assert tuple(entry) == ("create", "patrols", [plan["id"]])
    assert routes[0] >= 1 and routes[1]


def test_plans_stay_within_their_scope_and_roles(streets):
    _, as_role = streets
    with as_role("admin") as admin:
        plan = solved(admin, BODY)
    with as_role("patrol_leader", ["110101001"]) as leader:
        assert leader.get("/patrols/plans").json()["numberMatched"] == 0
        assert_problem(leader.get(f"/patrols/plans/{plan['id']}"), 404)
    with as_role("police") as police:
        assert police.get(f"/patrols/plans/{plan['id']}").status_code == 200
    with as_role("viewer") as viewer:
        assert_problem(viewer.get("/patrols/plans"), 403)
        assert_problem(viewer.post("/patrols/plans", json=BODY), 403)
    with as_role("planner") as planner:
        assert_problem(planner.get(f"/patrols/plans/{plan['id']}.gpx"), 403)


@pytest.mark.parametrize("change, field", [
    ({"shift": "25:00-26:00"}, "shift"), ({"units": 0}, "units"), ({"mode": "boat"}, "mode"),
    ({"post": "nowhere"}, None), ({"targets": [{"name": "x", "lon": 500, "lat": 0}]},
                                  "targets"),
    ({"source": "list", "targets": []}, "targets"), ({"shift": "08:00-08:10"}, "shift"),
    ({"unknown": 1}, None), ({"time_limit_s": 3600}, "time_limit_s"),
    ({"shift": "08:00-10:00", "targets": [target("late", 100, 100, window="12:00-13:00")]},
     "targets"), ({"date": "9999-12-31", "shift": "22:00-06:00"}, "date")])
def test_bad_requests_are_clear_4xx_and_record_no_half_plan(streets, change, field):
    db, as_role = streets
    with as_role("admin") as admin:
        response = admin.post("/patrols/plans", json={**BODY, **change})
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body["detail"]
    if field is not None:
        assert field in str(body.get("field")) or field in body["detail"], body
    with db.engine.connect() as conn:
        states = conn.execute(sa.text("SELECT status FROM patrol_plans")).scalars().all()
        routes = conn.execute(sa.text("SELECT count(*) FROM patrol_routes")).scalar_one()
    # refused before recording, or recorded and then failed: never half-written
    assert set(states) <= {"failed"} and routes == 0


def test_without_roads_or_posts_the_plan_fails_with_the_reason(seeded, api_settings):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "admin") as admin:
        response = admin.post("/patrols/plans", json=BODY)
        assert_problem(response, 422)
        assert "post" in response.json()["detail"]


def test_a_leaders_plans_tracks_and_posts_stay_in_their_scope(streets):
    db, as_role = streets
    with db.engine.begin() as conn:  # a second district far away, with its own post
        conn.execute(sa.text(
            "INSERT INTO areas (level, code, name, geom) VALUES ('subdistrict', "
            "'110101002', '西街道', ST_Multi(ST_MakeEnvelope(:x, :y, :x + 300, :y + 300, "
            "32635)))"), {"x": X0 + 5000, "y": Y0})
    with as_role("patrol_leader", ["110101001"]) as east:
        plan = solved(east, {**BODY, "post": None})
        assert plan["result"]["post"]["name"] == "北岗亭"
        outside = east.post("/patrols/plans", json={
            **BODY, "targets": [*TARGETS, target("far", 5100, 100)]})
        assert_problem(outside, 422, "targets")
        assert "outside your scope" in outside.json()["detail"]
    with db.engine.begin() as conn:  # fixes inside and far outside the scope, untagged
        for x in (102, 5100):
            conn.execute(sa.text(
                "INSERT INTO patrol_points (unit, recorded_at, geom) SELECT 'U' || :x, "
                "timestamptz '2026-06-30 00:00Z' + m * interval '1 minute', "
                "ST_SetSRID(ST_MakePoint(:px, :py), 32635) FROM generate_series(0, 5) m"),
                {"x": x, "px": X0 + x, "py": Y0 + 200})
    with as_role("patrol_leader", ["110101001"]) as east:
        report = east.get(f"/patrols/plans/{plan['id']}/dosage").json()
        assert report["units_seen"] == ["U102"]
    with as_role("patrol_leader", ["110101002"]) as west:
        assert west.get("/patrols/plans").json()["numberMatched"] == 0
        assert_problem(west.get(f"/patrols/plans/{plan['id']}/dosage"), 404)
        assert_problem(west.post("/patrols/plans", json=BODY), 422, "targets")
        own = {**BODY, "targets": [target("west", 5100, 100)]}
        assert_problem(west.post("/patrols/plans", json=own), 422, "post")
