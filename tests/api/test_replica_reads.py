"""The service on a primary and a real streaming replica: map pages, vector tiles and
grid statistics are read from the replica, and every answer shows every write the
service acknowledged before it, also while the replica lags."""

from __future__ import annotations

import time
from collections.abc import Iterator

import mapbox_vector_tile
import psycopg
import pytest
from pyproj import Transformer

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from gridgis.gis.db import Database, create_db_engine
from gridgis.gis.replica import Reads
from gridgis.gis.services.hotspots import ANALYSIS_SESSIONS
from gridgis.gis.settings import DatabaseSettings
from tests.accounts import api_client
from tests.api.test_feature_tiles import tile_path
from tests.helpers import X0, Y0, replay
from tests.seed import seed

AT = Transformer.from_crs(32635, 4326, always_xy=True).transform(X0 + 150, Y0 + 150)
YEAR = {"start": "2026-01-01", "end": "2027-01-01"}


@pytest.fixture(scope="module")
def service(replicated) -> Iterator[tuple]:
    primary, replica = replicated
    db = Database(create_db_engine(primary.url(), pool_size=4))
    with db.engine.begin() as conn:
        seed(conn)
    settings = Settings(api=ApiSettings(),
                        db=DatabaseSettings(replica_url=replica.url(), replica_wait_s=10))
    app = create_app(settings, database=db)
    with api_client(app, db) as client:
        yield client, app.state.gridgis.reads, replica
    db.engine.dispose()


def _incidents(client) -> tuple[int, int]:
    """(incidents in the grid statistics, incidents in the tile around AT)"""
    stats = client.get("/stats/grids", params=YEAR)
    assert stats.status_code == 200, stats.text
    tile = client.get(tile_path("incidents", 12, AT))
    assert tile.status_code == 200, tile.text
    in_tile = sum(f["properties"]["count"] for f in
                  mapbox_vector_tile.decode(tile.content)["incidents"]["features"])
    return sum(row["incidents"] for row in stats.json()["items"]), in_tile


def _add_incident(client) -> None:
    answer = client.post("/incidents", json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(AT)},
        "properties": {"category": "dispute", "occurred_at": "2026-03-01T10:00:00Z"}})
    assert answer.status_code == 201, answer.text


def test_reads_come_from_the_replica_and_show_every_acknowledged_write(service):
    client, reads, _ = service
    grid = client.get("/grids/at", params={"lon": AT[0], "lat": AT[1]}).json()["id"]
    assert isinstance(reads, Reads) and reads.replica is not None
    fallbacks = reads.fallbacks
    counted, in_tile = _incidents(client)
    for added in range(1, 6):  # each write read back at once
        _add_incident(client)
        served = reads.served
        assert _incidents(client) == (counted + added, in_tile + added)
        assert reads.served == served + 2  # the statistics and the tile
        page = client.get("/maps/incidents", params=YEAR)
        assert page.status_code == 200
        assert reads.served == served + 3
        summary = client.get(f"/grids/{grid}/summary", params=YEAR)
        assert summary.status_code == 200, summary.text
        assert reads.served == served + 4
    assert reads.fallbacks == fallbacks


def test_while_the_replica_lags_the_answers_come_from_the_primary(service):
    client, reads, replica = service
    counted, in_tile = _incidents(client)
    before = reads.fallbacks
    reads.wait_s = 0.3
    replay(replica.conninfo("postgres"), paused=True)
    try:
        _add_incident(client)
        assert _incidents(client) == (counted + 1, in_tile + 1)
        assert reads.fallbacks > before
    finally:
        replay(replica.conninfo("postgres"), paused=False)
        reads.wait_s = 10


def test_the_analysis_processes_read_from_the_replica(service):
    client, _, replica = service
    deadline = time.monotonic() + 120
    while (answer := client.get("/hotspots/gi", params=YEAR)).status_code == 503:
        assert time.monotonic() < deadline, answer.text  # still computing: ask again
        time.sleep(0.5)
    assert answer.status_code == 200, answer.text
    with psycopg.connect(replica.conninfo("postgres"), autocommit=True) as conn:
        sessions = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'gridgis' "
            "AND application_name = %s", (ANALYSIS_SESSIONS,)).fetchone()[0]
    assert sessions >= 1
