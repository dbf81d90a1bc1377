"""OGC API – Features Part 4 on a draft plan's grids: each create, replace, update and
delete keeps the draft a partition, is refused with the reason when it cannot, guards
against lost updates with If-Match, is undoable and audited; the published plan and
other collections are read-only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.api.app import create_app
from gridgis.gis.drafts import draft_from
from tests.accounts import api_client
from tests.api.helpers import assert_problem
from tests.helpers import X0, Y0

TO_LONLAT = Transformer.from_crs(32635, 4326, always_xy=True)
G00, G10, G22 = "110101001001000", "110101001001100", "110101001001202"


def polygon(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [TO_LONLAT.transform(X0 + x, Y0 + y) for x, y in
            ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


@pytest.fixture
def draft(seeded, api_settings):
    db, ids = seeded
    with db.engine.begin() as conn:
        plan, _ = draft_from(conn, ids["plan"], "OGC 草案")
    app = create_app(api_settings, database=db)
    with api_client(app, db, "planner") as planner:
        yield planner, f"/collections/grids-plan-{plan}/items", plan, db, app


def grid_ids(db, plan: int) -> dict[str, int]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT code, id FROM grids WHERE plan_id = :p"),
                                 {"p": plan}).all())


def community(db, code: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM areas WHERE code = :c"),
                            {"c": code}).scalar_one()


def areas(db, plan: int) -> dict[str, float]:
    with db.engine.connect() as conn:
        return {c: round(a) for c, a in conn.execute(sa.text(
            "SELECT code, ST_Area(geom) FROM grids WHERE plan_id = :p"), {"p": plan})}


def test_replacing_an_outline_moves_the_shared_boundary(draft):
    planner, items, plan, db, _ = draft
    g00 = grid_ids(db, plan)[G00]
    read = planner.get(f"{items}/{g00}")
    feature = read.json()
    feature["geometry"] = polygon(0, 0, 130, 100)
    answer = planner.put(f"{items}/{g00}", json=feature,
                         headers={"If-Match": read.headers["ETag"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] != read.headers["ETag"]
    assert areas(db, plan)[G00] == 13000 and areas(db, plan)[G10] == 7000
    stale = planner.put(f"{items}/{g00}", json=feature,
                        headers={"If-Match": read.headers["ETag"]})
    assert_problem(stale, 412)
    # a client saving every feature it holds sends the neighbour as it now is
    g10 = grid_ids(db, plan)[G10]
    neighbour = planner.get(f"{items}/{g10}").json()
    with db.engine.connect() as conn:
        logged = conn.execute(sa.text("SELECT count(*) FROM plan_edits")).scalar_one()
    assert planner.put(f"{items}/{g10}", json=neighbour).status_code == 200
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM plan_edits")).scalar_one() == logged


def test_a_new_outline_that_breaks_the_partition_is_refused_with_the_reason(draft):
    planner, items, plan, db, _ = draft
    g00 = grid_ids(db, plan)[G00]
    feature = planner.get(f"{items}/{g00}").json()
    feature["geometry"] = polygon(0, 0, 210, 100)  # swallows the middle grid whole
    refused = assert_problem(planner.put(f"{items}/{g00}", json=feature), 400, "geometry")
    assert "take all of grid" in refused["detail"]
    assert areas(db, plan)[G00] == 10000


def test_properties_are_patched_and_read_only_ones_refused(draft):
    planner, items, plan, db, _ = draft
    g00 = grid_ids(db, plan)[G00]
    patched = planner.patch(f"{items}/{g00}", json={"type": "Feature",
                                                    "properties": {"name": "新名"}})
    assert patched.status_code == 200 and patched.json()["properties"]["name"] == "新名"
    assert patched.json()["properties"]["code"] == G00
    taken = planner.patch(f"{items}/{g00}", json={"type": "Feature",
                                                  "properties": {"code": G10}})
    assert_problem(taken, 409, "code")
    assert_problem(planner.patch(f"{items}/{g00}", json={
        "type": "Feature", "properties": {"colour": "red"}}), 400, "colour")
    echoed = planner.patch(f"{items}/{g00}", json={  # a merge patch, what a client read
        "properties": {"name": "又名", "plan_id": 1, "version": 1}})
    assert echoed.status_code == 200 and echoed.json()["properties"]["plan_id"] == plan
    assert_problem(planner.patch(f"{items}/{g00}", json={"type": "Point"}), 400)


def test_a_drawn_grid_takes_its_land_and_a_deleted_one_gives_it_back(draft):
    planner, items, plan, db, _ = draft
    before = areas(db, plan)
    made = planner.post(items, json={"type": "Feature", "geometry": polygon(250, 250, 300,
                                                                            300),
                                     "properties": {"code": "NEW", "name": "新网格"}})
    assert made.status_code == 201, made.text
    new_id = made.json()["id"]
    assert made.headers["Location"].endswith(f"{items}/{new_id}")
    after = areas(db, plan)
    assert after["NEW"] == 2500 and after[G22] == before[G22] - 2500
    assert sum(after.values()) == sum(before.values())
    assert_problem(planner.post(items, json={
        "type": "Feature", "geometry": polygon(250, 250, 300, 300),
        "properties": {"code": "NEW"}}), 409, "code")
    assert_problem(planner.post(items, json={
        "type": "Feature", "geometry": polygon(5000, 5000, 5100, 5100),
        "properties": {"code": "FAR"}}), 400, "geometry")
    other = planner.post(items, json={  # over grids, but said to be of another community
        "type": "Feature", "geometry": polygon(10, 10, 40, 40),
        "properties": {"code": "ELSEWHERE", "community_id": community(db, "110101001002")}})
    assert "another community" in assert_problem(other, 400, "geometry")["detail"]
    assert planner.delete(f"{items}/{new_id}").status_code == 204
    assert areas(db, plan) == before
    assert_problem(planner.get(f"{items}/{new_id}"), 404)
    undone = planner.post(f"/plans/{plan}/undo")  # the delete, as any edit
    assert undone.status_code == 200 and areas(db, plan)["NEW"] == 2500
    with db.engine.connect() as conn:
        actions = conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE resource = 'grids' ORDER BY id")).scalars().all()
    assert actions[-2:] == ["create", "delete"]


def test_the_published_plan_and_other_collections_are_read_only(draft, seeded):
    planner, items, plan, db, app = draft
    _, ids = seeded
    feature = {"type": "Feature", "geometry": polygon(0, 0, 10, 10),
               "properties": {"code": "X"}}
    published = planner.post("/collections/grids/items", json=feature)
    assert_problem(published, 405)
    assert published.headers["Allow"] == "GET, HEAD"
    assert_problem(planner.delete(f"/collections/incidents/items/{ids['incident0']}"), 405)
    with api_client(app, db, "viewer") as viewer:
        assert_problem(viewer.post(items, json=feature), 403)
        assert_problem(viewer.post("/collections/grids/items", json=feature), 405)
