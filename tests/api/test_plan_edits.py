"""Editing a draft through the API: split, merge, reassign, redraw and undo on the
seeded 100 m grids, with known areas and counts; refusals carry the offending geometry;
only drafts are edited; every edit is audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.api.app import create_app
from tests.accounts import api_client, bearer, token_for
from tests.api.helpers import assert_problem
from tests.helpers import X0, Y0

TO_WGS84 = Transformer.from_crs(32635, 4326, always_xy=True)
G00, G10, G20 = "110101001001000", "110101001001100", "110101001001200"


def lonlat(*points: tuple[float, float]) -> list[list[float]]:
    return [list(TO_WGS84.transform(X0 + x, Y0 + y)) for x, y in points]


def polygon(*points: tuple[float, float]) -> dict:
    ring = lonlat(*points)
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def box(x0, y0, x1, y1) -> dict:
    return polygon((x0, y0), (x1, y0), (x1, y1), (x0, y1))


@pytest.fixture
def planner(seeded, api_settings):
    db, ids = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "planner") as client:
        draft = client.post(f"/plans/{ids['plan']}/drafts", json={"name": "草案"}).json()
        client.draft = draft["id"]
        yield client


def areas(outcome: dict) -> dict[str, float]:
    return {f["properties"]["code"]: f["properties"]["area_m2"]
            for f in outcome["grids"]["features"]}


def test_split_merge_and_undo_with_live_figures(planner, seeded):
    db, ids = seeded
    url = f"/plans/{planner.draft}/edits"
    line = {"type": "LineString", "coordinates": lonlat((40, -0.2), (40, 100.2))}
    split = planner.post(url, json={"op": "split", "grid": G00, "geometry": line})
    assert split.status_code == 200, split.text
    done = split.json()
    assert done["edit"]["created"] == [f"{G00}-2"]
    assert areas(done) == pytest.approx({G00: 6000, f"{G00}-2": 4000}, abs=2)
    figures = {f["properties"]["code"]: f["properties"] for f in done["grids"]["features"]}
    assert figures[G00]["households"] == 1 and figures[f"{G00}-2"]["households"] == 0
    assert figures[G00]["places"] == 1 and figures[G00]["contiguous"]
    assert figures[G00]["polsby_popper"] == pytest.approx(
        4 * 3.14159265 * 6000 / 320 ** 2, abs=1e-3)
    assert figures[G00]["people"] is None  # 2 people: under the minimum count, withheld
    balance = done["balance"]
    assert balance["grids"] == 10 and balance["households"] == 1 and balance["max"] == 1
    # the part with the household succeeds the old grid and inherits its worker
    assert balance["workers"] == 1 and balance["grids_without_worker"] == 9

    merged = planner.post(url, json={"op": "merge", "grids": [G00, f"{G00}-2"]}).json()
    assert merged["edit"]["removed"] == [f"{G00}-2"]
    assert areas(merged) == pytest.approx({G00: 10000}, abs=2)

    back = planner.post(f"/plans/{planner.draft}/undo").json()
    assert set(back["edit"]["changed"]) == {G00, f"{G00}-2"}
    assert areas(back) == pytest.approx({G00: 6000, f"{G00}-2": 4000}, abs=2)
    original = planner.post(f"/plans/{planner.draft}/undo").json()
    assert original["edit"]["removed"] == [f"{G00}-2"]
    assert_problem(planner.post(f"/plans/{planner.draft}/undo"), 409)
    with db.engine.connect() as conn:
        same = conn.execute(sa.text(
            "SELECT ST_Equals(d.geom, p.geom) FROM grids d JOIN grids p ON p.code = d.code "
            "WHERE d.plan_id = :d AND p.plan_id = :p AND d.code = :c"),
            {"d": planner.draft, "p": ids["plan"], "c": G00}).scalar_one()
        audited = conn.execute(sa.text(
            "SELECT detail FROM audit_log WHERE resource = 'plans' AND action = 'update' "
            "ORDER BY id")).scalars().all()
    assert same
    assert [a.split(":")[0] for a in audited] == ["split", "merge", "undid", "undid"]
    assert planner.get(f"/plans/{planner.draft}/edits").json() == {"items": []}


def test_moving_a_boundary_and_reassigning_a_block(planner):
    url = f"/plans/{planner.draft}/edits"
    moved = planner.post(url, json={"op": "redraw", "grid": G00,
                                    "geometry": box(0, 0, 130, 100)})
    assert moved.status_code == 200, moved.text
    assert areas(moved.json()) == pytest.approx({G00: 13000, G10: 7000}, abs=2)
    block = planner.post(url, json={"op": "reassign", "grid": G00,
                                    "geometry": box(130, 0, 160, 100)})
    assert areas(block.json()) == pytest.approx({G00: 16000, G10: 4000}, abs=2)
    log = planner.get(f"/plans/{planner.draft}/edits").json()["items"]
    assert [e["op"] for e in log] == ["reassign", "redraw"]


def test_edits_that_break_the_partition_are_refused_with_the_geometry(planner, seeded):
    db, ids = seeded
    url = f"/plans/{planner.draft}/edits"
    holed = box(0, 0, 100, 100)
    holed["coordinates"].append(box(30, 30, 50, 50)["coordinates"][0][::-1])
    gap = assert_problem(planner.post(url, json={"op": "redraw", "grid": G00,
                                                 "geometry": holed}), 422, "geometry")
    assert "400 m² in no grid" in gap["detail"] and gap["geometry"]["type"] == "Polygon"
    apart = assert_problem(planner.post(url, json={"op": "reassign", "grid": G00,
                                                   "geometry": box(250, 0, 280, 100)}), 422)
    assert "cut grid" in apart["detail"]
    line = {"type": "LineString", "coordinates": lonlat((40, 10), (40, 90))}
    short = assert_problem(planner.post(url, json={"op": "split", "grid": G00,
                                                   "geometry": line}), 422)
    assert short["geometry"]["type"] == "LineString"
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE grids SET community_id = :c WHERE plan_id = :d AND code = :g"),
            {"c": ids["110101001002"], "d": planner.draft, "g": G20})
    assert "different communities" in assert_problem(planner.post(url, json={
        "op": "merge", "grids": [G10, G20]}), 422)["detail"]
    assert_problem(planner.post(url, json={"op": "merge", "grids": [G00, "nope"]}), 404)
    assert_problem(planner.post(url, json={"op": "split", "grid": G00}), 422,
                   "split.geometry")
    assert_problem(planner.post(url, json={"op": "turn", "grid": G00}), 422)
    assert_problem(planner.post(url, json={"op": "merge", "grids": [G00, G10],
                                           "colour": "red"}), 422)
    assert planner.get(f"/plans/{planner.draft}/edits").json() == {"items": []}


def test_only_planners_edit_and_only_drafts(planner, seeded, api_settings):
    db, ids = seeded
    body = {"op": "merge", "grids": [G00, G10]}
    assert_problem(planner.post(f"/plans/{ids['plan']}/edits", json=body), 409)
    assert_problem(planner.post("/plans/999999/edits", json=body), 404)
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police:
        assert_problem(police.post(f"/plans/{planner.draft}/edits", json=body), 403)
        assert_problem(police.post(f"/plans/{planner.draft}/undo"), 403)


def test_figures_of_the_published_plan_count_what_is_linked(planner, seeded):
    db, ids = seeded
    published = planner.get(f"/plans/{ids['plan']}/figures")
    assert published.status_code == 200, published.text
    body = published.json()
    by_code = {f["properties"]["code"]: f["properties"] for f in body["grids"]["features"]}
    assert len(by_code) == 9 and by_code[G00]["households"] == 1
    assert by_code[G00]["area_m2"] == pytest.approx(10000)
    assert body["balance"]["cv"] == pytest.approx(2.8284, abs=1e-4)  # one of 9 grids: √8
    # an unchanged copy counts by location what the published plan counts by link
    draft = planner.get(f"/plans/{planner.draft}/figures").json()
    with db.engine.begin() as conn:  # make the draft's copy of G00 count by location
        conn.execute(sa.text("UPDATE grids SET geom = ST_Multi(ST_Reverse(geom)) "
                             "WHERE plan_id = :d AND code = :c"),
                     {"d": planner.draft, "c": G00})
    located = planner.get(f"/plans/{planner.draft}/figures").json()

    def without_ids(figures: dict) -> list[dict]:
        return [{k: v for k, v in f["properties"].items() if k != "id"}
                for f in figures["grids"]["features"]]

    assert without_ids(draft) == without_ids(body) == without_ids(located)
    assert draft["balance"] == body["balance"] == located["balance"]


def test_figures_are_cached_per_data_version_and_masking_never_reaches_the_cache(
        planner, seeded, api_settings):
    db, ids = seeded
    app = create_app(api_settings, database=db)

    as_planner = bearer(token_for(db, "planner"))

    def g00_people(client, headers=None) -> int | None:
        body = client.get(f"/plans/{planner.draft}/figures", headers=headers).json()
        return {f["properties"]["code"]: f["properties"]["people"]
                for f in body["grids"]["features"]}[G00]

    with api_client(app, db, "admin") as admin:
        assert g00_people(admin) == 2
        cache = app.state.gridgis.results
        computed = len(cache)
        assert g00_people(admin, as_planner) is None  # under the minimum count
        assert g00_people(admin) == 2  # the masked answer did not change the cached one
        assert len(cache) == computed  # both answered from the cache
        assert any(key[:2] == ("plan-report", "figures") for key in cache._items)
        assert_problem(admin.get("/plans/999999/figures"), 404)
        line = {"type": "LineString", "coordinates": lonlat((40, -0.2), (40, 100.2))}
        assert admin.post(f"/plans/{planner.draft}/edits", json={
            "op": "split", "grid": G00, "geometry": line}).status_code == 200
        after = admin.get(f"/plans/{planner.draft}/figures").json()
        assert f"{G00}-2" in {f["properties"]["code"] for f in after["grids"]["features"]}
        assert after["balance"]["grids"] == 10


def test_publishing_carries_workers_to_clear_successors_and_lists_the_rest(planner, seeded):
    db, ids = seeded
    line = {"type": "LineString", "coordinates": lonlat((40, -0.2), (40, 100.2))}
    planner.post(f"/plans/{planner.draft}/edits",
                 json={"op": "split", "grid": G00, "geometry": line})
    preview = planner.get(f"/plans/{planner.draft}/handover")
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "carried": [{"new": G00, "old": G00, "workers": [ids["worker"]]}],
        "undecided": [{"new": f"{G00}-2", "candidates": [G00]}]}
    published = planner.post(f"/plans/{planner.draft}/publish")
    assert published.status_code == 200, published.text
    assert published.headers["X-Workers-Carried"] == "1"
    assert published.headers["X-Grids-Undecided"] == "1"
    with db.engine.connect() as conn:
        staffed = conn.execute(sa.text(
            "SELECT g.code FROM grid_assignments a JOIN published_grids g ON g.id = a.grid_id "
            "WHERE a.worker_id = :w"), {"w": ids["worker"]}).scalars().all()
        detail = conn.execute(sa.text(
            "SELECT detail FROM audit_log WHERE action = 'publish'")).scalar_one()
    assert staffed == [G00]
    assert f"workers carried to 1 grids; 1 grids need a decision: {G00}-2" in detail
    assert_problem(planner.get("/plans/999999/handover"), 404)


def test_the_diff_of_a_hand_made_pair_of_plans(planner, seeded):
    db, ids = seeded
    G01, G11 = "110101001001001", "110101001001101"
    url = f"/plans/{planner.draft}/edits"
    line = {"type": "LineString", "coordinates": lonlat((40, -0.2), (40, 100.2))}
    planner.post(url, json={"op": "split", "grid": G00, "geometry": line})
    moved = planner.post(url, json={"op": "reassign", "grid": G01,
                                    "geometry": box(100, 100, 160, 200)})
    assert moved.status_code == 200, moved.text
    found = planner.get("/plans/diff", params={"a": ids["plan"], "b": planner.draft})
    assert found.status_code == 200, found.text
    body = found.json()
    status = {g["code"]: g["status"] for g in body["grids"]}
    assert sorted(c for c, s in status.items() if s != "unchanged") == sorted([
        G01, G00, f"{G00}-2", G11])
    assert status[f"{G00}-2"] == "added" and status[G11] == "changed"
    moves = {(m["kind"], m["from_grid"], m["to_grid"]): m["n"] for m in body["moves"]}
    assert moves == {("things", G00, f"{G00}-2"): 1, ("incidents", G00, f"{G00}-2"): 2,
                     ("people", G11, G01): None}  # one person: withheld
    assert body["summary"] == {"added": 1, "removed": 0, "changed": 3, "unchanged": 6,
                               "people_moved": None, "households_moved": 0, "places_moved": 0,
                               "things_moved": 1, "incidents_moved": 2, "workers_changed": 0}
    assert body["workers"] == [{"worker_id": ids["worker"], "grids_a": G00, "grids_b": G00,
                                "households_a": 1.0, "households_b": 1.0, "change": 0.0}]
    table = planner.get("/plans/diff", params={"a": ids["plan"], "b": planner.draft,
                                               "f": "csv", "part": "moves"})
    assert table.headers["content-type"].startswith("text/csv")
    assert table.text.splitlines()[0] == "kind,from_grid,to_grid,n"
    assert_problem(planner.get("/plans/diff", params={"a": ids["plan"], "b": planner.draft,
                                                      "f": "csv"}), 422, "part")
    assert_problem(planner.get("/plans/diff", params={"a": ids["plan"], "b": 999999}), 404)


def test_a_scoped_planner_edits_and_undoes_in_their_communities_only(seeded, api_settings):
    db, ids = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "planner") as everyone:
        draft = everyone.post(f"/plans/{ids['plan']}/drafts", json={"name": "s"}).json()["id"]
    with db.engine.begin() as conn:  # G20 and G21 (both plans) are the other community's
        conn.execute(sa.text(
            "UPDATE grids SET community_id = :c WHERE code IN (:a, :b)"),
            {"c": ids["110101001002"], "a": G20, "b": "110101001001201"})
    with api_client(app, db, "planner", ["110101001001"]) as scoped:
        url = f"/plans/{draft}/edits"
        mine = scoped.post(url, json={"op": "merge", "grids": [G00, G10]})
        assert mine.status_code == 200, mine.text
        theirs = assert_problem(scoped.post(url, json={
            "op": "merge", "grids": [G20, "110101001001201"]}), 403)
        assert G20 in theirs["detail"]
        figures = scoped.get(f"/plans/{draft}/figures").json()
        assert {f["properties"]["code"] for f in figures["grids"]["features"]} \
            .isdisjoint({G20, "110101001001201"})
        assert figures["balance"]["grids"] == 6  # 9 - 1 merged - 2 outside the scope
        found = scoped.get("/plans/diff", params={"a": ids["plan"], "b": draft}).json()
        assert G20 not in {g["code"] for g in found["grids"]}
    with api_client(app, db, "planner") as everyone:  # an edit outside the scope...
        everyone.post(f"/plans/{draft}/edits",
                      json={"op": "merge", "grids": [G20, "110101001001201"]})
    with api_client(app, db, "planner", ["110101001001"]) as scoped:  # ...is not theirs
        assert_problem(scoped.post(f"/plans/{draft}/undo"), 403)


def test_undoing_a_merge_restores_worker_assignments(planner, seeded):
    db, ids = seeded
    with db.engine.begin() as conn:
        grid10 = conn.execute(sa.text("SELECT id FROM grids WHERE plan_id = :d AND code = :c"),
                              {"d": planner.draft, "c": G10}).scalar_one()
        conn.execute(sa.text("INSERT INTO grid_assignments (worker_id, grid_id) "
                             "VALUES (:w, :g)"), {"w": ids["worker"], "g": grid10})
    planner.post(f"/plans/{planner.draft}/edits", json={"op": "merge", "grids": [G00, G10]})
    planner.post(f"/plans/{planner.draft}/undo")
    with db.engine.connect() as conn:
        staffed = conn.execute(sa.text(
            "SELECT g.code FROM grid_assignments a JOIN grids g ON g.id = a.grid_id "
            "WHERE g.plan_id = :d"), {"d": planner.draft}).scalars().all()
    assert staffed == [G10]


def test_a_draft_grids_shape_changes_only_through_the_plans_edits(planner, seeded):
    db, _ = seeded
    with db.engine.connect() as conn:
        grid = conn.execute(sa.text("SELECT id FROM grids WHERE plan_id = :d AND code = :c"),
                            {"d": planner.draft, "c": G00}).scalar_one()
    url = f"/grids/{grid}"
    etag = planner.get(url).headers["etag"]
    renamed = planner.patch(url, json={"name": "新名"}, headers={"If-Match": etag})
    assert renamed.status_code == 200, renamed.text
    reshaped = planner.patch(url, json={"geometry": box(0, 0, 50, 50)},
                             headers={"If-Match": renamed.headers["etag"]})
    body = assert_problem(reshaped, 409, "geometry")
    assert f"/plans/{planner.draft}/edits" in body["detail"]
