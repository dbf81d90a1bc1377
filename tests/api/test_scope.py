"""Object-level access: a grid worker reaches the rows of their own grids only, by every
path (by id, by list filter, by bbox, by CSV, by the map and its popups, by statistics):
another grid's row is a 404, and list totals count only what they may see."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.api.helpers import LAT, LON, assert_problem, point_feature

OWN, OTHER = "110101001001000", "110101001001101"  # grid 00 (the worker's) and grid 11


@pytest.fixture
def worker(seeded, api_settings):
    db, _ = seeded
    with api_client(create_app(api_settings, database=db), db, "grid_worker",
                    scope=[OWN]) as client:
        yield client


def _people(db, grid_code: str) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT p.id FROM people p JOIN grids g ON g.id = p.grid_id WHERE g.code = :c "
            "ORDER BY p.id"), {"c": grid_code}).scalars())


def test_lists_and_their_totals_hold_only_the_workers_grids(worker, seeded):
    db, _ = seeded
    own = _people(db, OWN)
    body = worker.get("/people").json()
    assert body["numberMatched"] == len(own) == 2
    assert sorted(f["id"] for f in body["features"]) == own
    assert worker.get("/people", params={"grid": OTHER}).json()["numberMatched"] == 0
    whole = "24.90,60.14,24.97,60.18"  # the whole seeded district and more
    assert worker.get("/people", params={"bbox": whole}).json()["numberMatched"] == 2
    assert worker.get("/incidents", params={"bbox": whole}).json()["numberMatched"] == 2
    csv = worker.get("/people", params={"f": "csv"}).text.strip().splitlines()
    assert len(csv) == 1 + 2
    stats = worker.get("/stats/grids").json()["items"]
    assert [row["code"] for row in stats] == [OWN]


def test_another_grids_row_is_not_found_whatever_is_asked(worker, seeded, ids):
    db, _ = seeded
    theirs = _people(db, OTHER)[0]
    assert_problem(worker.get(f"/people/{theirs}"), 404)
    assert_problem(worker.patch(f"/people/{theirs}", params={"version": 1},
                                json={"phone": "1"}), 404)
    assert_problem(worker.delete(f"/people/{theirs}"), 404)
    assert_problem(worker.get(f"/grids/{ids['grid11']}/summary"), 404)  # the map popup
    assert worker.get(f"/grids/{ids['grid00']}/summary").status_code == 200
    assert_problem(worker.get(f"/incidents/{ids['incident2']}"), 404)  # in grid 22


def test_nothing_can_be_written_or_moved_outside_the_workers_grids(worker, seeded):
    db, _ = seeded
    lon, lat = LON + 0.0017, LAT + 0.0009  # about 100 m east and north: grid 11
    before = len(_people(db, OTHER))
    refused = worker.post("/people", json=point_feature(lon, lat, name="外来人员"))
    assert_problem(refused, 403, "geometry")
    assert len(_people(db, OTHER)) == before  # nothing stored
    mine = worker.post("/people", json=point_feature(name="新居民"))
    assert mine.status_code == 201, mine.text
    moved = worker.patch(f"/people/{mine.json()['id']}", params={"version": 1},
                         json={"geometry": {"type": "Point", "coordinates": [lon, lat]}})
    assert_problem(moved, 403, "geometry")
    assert worker.get(f"/people/{mine.json()['id']}").json()["properties"]["version"] == 1


def test_the_incident_map_shows_only_the_workers_grids(worker):
    html = worker.get("/maps/incidents", params={"lang": "en"}).text
    assert "Showing 2 of 2" in html


def test_a_scope_can_be_a_community_and_a_patrol_leader_is_scoped_too(seeded, api_settings):
    db, _ = seeded
    with api_client(create_app(api_settings, database=db), db, "patrol_leader",
                    scope=["110101001001"]) as leader:
        # every seeded grid lies in community 110101001001: all but the incident outside
        assert leader.get("/incidents").json()["numberMatched"] == 3
        assert leader.get("/me").json()["grids"] == 9
