"""`POST /plans/{id}/drafts`: a copy of a plan that planners edit; audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.api.helpers import assert_problem


@pytest.fixture
def as_role(seeded, api_settings):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    return lambda role, scope=None: api_client(app, db, role, scope)


def test_a_planner_copies_the_published_plan_into_a_draft(as_role, seeded):
    db, ids = seeded
    with as_role("planner") as planner:
        made = planner.post(f"/plans/{ids['plan']}/drafts", json={"name": "2027 草案"})
        assert made.status_code == 201, made.text
        draft = made.json()
        assert draft["state"] == "draft" and made.headers["X-Grids"] == "9"
        taken = planner.post(f"/plans/{ids['plan']}/drafts", json={"name": "2027 草案"})
        assert_problem(taken, 409, "name")
        assert_problem(planner.post("/plans/999999/drafts", json={"name": "x"}), 404)
        assert_problem(planner.post(f"/plans/{ids['plan']}/drafts", json={"name": ""}),
                       422)
    with as_role("police") as police:
        assert_problem(police.post(f"/plans/{ids['plan']}/drafts", json={"name": "p"}), 403)
    with db.engine.connect() as conn:
        copied = conn.execute(sa.text(
            "SELECT count(*) FROM grids a JOIN grids b ON a.code = b.code "
            "AND ST_Equals(a.geom, b.geom) WHERE a.plan_id = :s AND b.plan_id = :d"),
            {"s": ids["plan"], "d": draft["id"]}).scalar_one()
        entry = conn.execute(sa.text(
            "SELECT action, detail FROM audit_log WHERE resource = 'plans' "
            "AND action = 'create'")).one()
        published = conn.execute(sa.text(
            "SELECT count(*) FROM grid_plans WHERE state = 'published'")).scalar_one()
    assert copied == 9 and published == 1
    assert entry.detail == f"draft of plan {ids['plan']}: 9 grids copied"


def test_which_grid_a_place_was_in_on_a_date_comes_from_the_history(as_role, seeded):
    from gridgis.gis.linking import publish_plan
    from tests.api.helpers import LAT, LON

    db, ids = seeded
    with as_role("planner") as planner:
        draft = planner.post(f"/plans/{ids['plan']}/drafts", json={"name": "B"}).json()
    with db.engine.begin() as conn:  # B renames its grids, then A is published again
        conn.execute(sa.text("UPDATE grids SET code = 'B-' || code WHERE plan_id = :p"),
                     {"p": draft["id"]})
        publish_plan(conn, draft["id"])
    with db.engine.begin() as conn:
        publish_plan(conn, ids["plan"])
    with db.engine.connect() as conn:
        periods = conn.execute(sa.text(
            "SELECT plan_id, valid_from, valid_to FROM grid_plan_periods ORDER BY id")).all()
    assert [p.plan_id for p in periods] == [ids["plan"], draft["id"], ids["plan"]]
    assert periods[-1].valid_to is None and periods[0].valid_to == periods[1].valid_from
    b = periods[-2]
    during_b = b.valid_from + (b.valid_to - b.valid_from) / 2
    with as_role("viewer") as viewer:
        now = viewer.get("/grids/at", params={"lon": LON, "lat": LAT}).json()
        then = viewer.get("/grids/at", params={"lon": LON, "lat": LAT,
                                               "date": during_b.isoformat()}).json()
        assert now["code"] == "110101001001000" and then["code"] == "B-110101001001000"
        assert then["plan"] == "B" and then["plan_state"] == "retired"
        assert_problem(viewer.get("/grids/at", params={"lon": LON, "lat": LAT,
                                                       "date": "1990-01-01"}), 404)
        assert_problem(viewer.get("/grids/at", params={"lon": LON, "lat": LAT,
                                                       "date": "yesterday"}), 422, "date")
