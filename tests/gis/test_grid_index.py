"""The published grids in memory answer exactly what the database answers: the same
grid for any location (ties at a shared edge or corner broken by grid code, as
gridgis_grid_at breaks them), the same fields, the same workers in the same order."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.gis import stats
from gridgis.gis.errors import NotFound
from gridgis.gis.grid_index import GridIndex, GridLookup, read_published
from tests.helpers import X0, Y0, until

TO_WGS84 = Transformer.from_crs(32635, 4326, always_xy=True)


def _index(conn) -> GridIndex:
    return GridIndex.build(32635, *read_published(conn))


def _in_database(conn, lon: float, lat: float) -> dict | None:
    try:
        return stats.grid_at(conn, 32635, lon, lat)
    except NotFound:
        return None


def _locations() -> list[tuple[float, float]]:
    """Random places in and around the 3x3 grids, and every shared edge and corner."""
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(-50, 350, 300), np.repeat([0, 50, 100, 200, 300], 5)])
    ys = np.concatenate([rng.uniform(-50, 350, 300), np.tile([0, 100, 150, 200, 300], 5)])
    return [TO_WGS84.transform(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)]


def test_every_answer_is_the_databases(seeded):
    db, ids = seeded
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workers (name, employee_no) VALUES ('李华', 'E2'), "
                             "('Anna', 'E3')"))
        conn.execute(sa.text(
            "INSERT INTO grid_assignments (worker_id, grid_id, role) SELECT id, :g, "
            "CASE name WHEN 'Anna' THEN 'secondary' ELSE 'primary' END FROM workers "
            "WHERE name IN ('李华', 'Anna')"), {"g": ids["grid00"]})
        index = _index(conn)
        compared = found = 0
        for lon, lat in _locations():
            expected = _in_database(conn, lon, lat)
            answer = index.at(lon, lat)
            assert (None if answer is None else json.loads(answer)) == expected, (lon, lat)
            compared += 1
            found += expected is not None
    assert compared == 325 and 150 < found < 325


def test_where_grids_overlap_the_lowest_code_wins(seeded):
    db, ids = seeded
    with db.engine.begin() as conn:  # grid 11 (code …011) drawn over grid 00 (…000)
        conn.execute(sa.text("UPDATE grids SET geom = ST_Multi(ST_Envelope(ST_Collect("
                             "geom, (SELECT geom FROM grids WHERE id = :a)))) WHERE id = :b"),
                     {"a": ids["grid00"], "b": ids["grid11"]})
        lon, lat = TO_WGS84.transform(X0 + 50, Y0 + 50)
        answer = json.loads(_index(conn).at(lon, lat))
        assert answer == _in_database(conn, lon, lat)
    assert answer["id"] == ids["grid00"]


def test_a_grid_with_several_workers_lists_them_in_the_databases_order(seeded):
    db, ids = seeded
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workers (name) VALUES ('王五'), ('Bo')"))
        conn.execute(sa.text("INSERT INTO grid_assignments (worker_id, grid_id) "
                             "SELECT id, :g FROM workers WHERE name IN ('王五', 'Bo')"),
                     {"g": ids["grid00"]})
        conn.execute(sa.text("UPDATE workers SET active = false WHERE name = 'Bo'"))
        lon, lat = TO_WGS84.transform(X0 + 50, Y0 + 50)
        answer = json.loads(_index(conn).at(lon, lat))
        assert answer["workers"] == stats.workers_of(conn, ids["grid00"])
    assert {w["name"] for w in answer["workers"]} == {"张敏", "王五"}


def test_no_published_plan_means_no_grid_anywhere(seeded):
    db, _ = seeded
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE grid_plans SET state = 'draft'"))
        index = _index(conn)
    assert index.at(*TO_WGS84.transform(X0 + 50, Y0 + 50)) is None


class _Slow:
    """A connection maker whose reads wait for a signal, to change the data meanwhile."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.go = threading.Event()

    def __call__(self) -> sa.Connection:
        self.go.wait(10)
        return self.engine.connect()


def test_the_lookup_keeps_an_index_only_while_changes_can_be_heard(seeded):
    db, _ = seeded
    lookup = GridLookup(db.engine.connect)
    assert lookup.current() is None  # not listening: the database answers
    time.sleep(0.1)
    assert lookup.current() is None
    lookup.set_listening(True)
    lookup.current()
    until(lambda: lookup.current() is not None, wait_s=10)
    lookup.changed()
    assert lookup.current() is None  # read again in the background
    until(lambda: lookup.current() is not None, wait_s=10)
    lookup.set_listening(False)
    assert lookup.current() is None


@pytest.mark.parametrize("event", ["changed", "stopped listening"])
def test_an_index_read_before_a_change_is_not_kept(seeded, event):
    db, _ = seeded
    slow = _Slow(db.engine)
    lookup = GridLookup(slow)
    lookup.set_listening(True)
    assert lookup.current() is None  # starts a read, which waits
    if event == "changed":
        lookup.changed()
    else:
        lookup.set_listening(False)
    slow.go.set()
    time.sleep(0.5)
    assert lookup._index is None
    if event == "changed":  # the next request reads again, and that one is kept
        lookup.current()
        until(lambda: lookup.current() is not None, wait_s=10)
