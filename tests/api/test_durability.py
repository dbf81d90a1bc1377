"""No acknowledged write is lost: every 2xx write is committed before it is answered,
also when the database stops or crashes under concurrent writers (0 lost, 0 phantom)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from tests.accounts import bearer, token_for
from tests.browser import live_server
from tests.faults import Writers, crash, incident, stop_immediately
from tests.helpers import until


def test_a_created_row_is_visible_to_another_connection_at_once(seeded, api_settings):
    db, _ = seeded
    marker = uuid.uuid4().hex
    with live_server(create_app(api_settings, database=db)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=bearer(token_for(db))) as client, \
            db.engine.connect() as other:
        for _ in range(300):
            response = client.post("/incidents", json=incident(marker))
            assert response.status_code == 201, response.text
            other.rollback()  # a fresh snapshot for every look
            found = other.execute(sa.text("SELECT 1 FROM incidents WHERE id = :i"),
                                  {"i": response.json()["id"]}).first()
            assert found is not None, "answered 201 for a row that is not committed"


@pytest.mark.parametrize("fault", ["stop", "kill -9"])
def test_rows_equal_acknowledged_writes_through_a_database_fault(own_cluster, fault):
    cluster, db = own_cluster
    marker = uuid.uuid4().hex
    with live_server(create_app(Settings(), database=db)) as base, \
            Writers(base, marker, token_for(db)) as writers:
        # counted, not timed: a slow machine writes fewer rows a second
        until(lambda: len(writers.acknowledged) >= 60, "writes before the fault", 60)
        (stop_immediately if fault == "stop" else crash)(cluster)
        time.sleep(1.0)
        cluster.start()
        before = len(writers.acknowledged)
        until(lambda: len(writers.acknowledged) >= before + 60, "writes after the restart",
              60)
    with db.engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT id FROM incidents WHERE description = :m"),
                                  {"m": marker}).scalars())
    acknowledged = set(writers.acknowledged)
    assert len(acknowledged) > 100, writers.statuses  # writes happened on both sides
    assert writers.statuses.get(503, 0) > 0, writers.statuses  # the fault was felt
    assert acknowledged - stored == set(), "acknowledged writes were lost"
    assert stored - acknowledged == set(), "rows were stored that were answered as failed"
    assert set(writers.statuses) <= {201, 503}, writers.statuses
