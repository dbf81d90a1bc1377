"""Reads from a real streaming replica of a real primary: never older than what the
primary acknowledged, and the primary whenever the replica cannot answer so."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gridgis.gis import replica as replica_module
from gridgis.gis.db import create_db_engine
from gridgis.gis.errors import ConfigurationError
from gridgis.gis.replica import Reads
from gridgis.gis.services import hotspots
from gridgis.gis.services.hotspot_inputs import data_version
from tests.helpers import replay

_values = itertools.count(1)


@pytest.fixture
def engines(replicated) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    primary, replica = replicated
    engines = (create_db_engine(primary.url(), pool_size=2),
               create_db_engine(replica.url(), pool_size=2))
    with engines[0].begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS replica_probe (v int)"))
    yield engines
    for engine in engines:
        engine.dispose()


def _write(engine: sa.Engine) -> int:
    value = next(_values)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO replica_probe VALUES (:v)"), {"v": value})
    return value


def _read(conn: sa.Connection, value: int) -> tuple[bool, bool]:
    """(whether the connection is the standby's, whether it sees ``value``)"""
    return conn.execute(sa.text(
        "SELECT pg_is_in_recovery(), EXISTS (SELECT FROM replica_probe WHERE v = :v)"),
        {"v": value}).one()


def test_a_read_right_after_a_write_is_the_replicas_and_sees_the_write(engines):
    primary, replica = engines
    reads = Reads(primary, replica, wait_s=10)
    for _ in range(30):  # each write read back at once: the replica must have caught up
        value = _write(primary)
        with reads.connect() as conn:
            assert _read(conn, value) == (True, True)
    with primary.connect() as held:  # the position taken on a connection already held
        value = _write(primary)
        with reads.beside(held) as conn:
            assert _read(conn, value) == (True, True)
        with Reads(primary).beside(held) as conn:  # no replica: the one held, not another
            assert conn is held
    assert (reads.served, reads.fallbacks) == (31, 0)


def test_a_replica_behind_is_passed_over_for_a_moment(engines, replicated, monkeypatch):
    primary, replica = engines
    monkeypatch.setattr(replica_module, "BEHIND_S", 0.5)
    reads = Reads(primary, replica, wait_s=0.2)
    replay(replicated[1].conninfo("postgres"), paused=True)
    try:
        value = _write(primary)
        with reads.connect() as conn:
            assert _read(conn, value) == (False, True)  # the primary's answer, current
        assert reads.fallbacks == 1
    finally:
        replay(replicated[1].conninfo("postgres"), paused=False)
    reads.wait_s = 10
    with reads.connect() as conn:  # passed over: the primary, without waiting
        assert _read(conn, value) == (False, True)
    time.sleep(0.5)
    with reads.connect() as conn:  # then the replica again, caught up
        assert _read(conn, value) == (True, True)
    assert (reads.served, reads.fallbacks) == (1, 2)


def test_a_replica_that_is_away_is_passed_over_and_not_asked_again_at_once(engines,
                                                                           tmp_path):
    primary, _ = engines
    away = create_db_engine(f"postgresql+psycopg://gridgis@/gridgis?host={tmp_path}",
                            pool_size=1)
    attempts = []
    sa.event.listen(away, "do_connect", lambda *args: attempts.append(1))
    reads = Reads(primary, away, wait_s=1)
    reads.check()  # away at start: only warned of
    assert len(attempts) == 1
    value = _write(primary)
    with reads.connect() as conn:
        assert _read(conn, value) == (False, True)
    assert len(attempts) == 1  # asked again only after RETRY_S
    away.dispose()


def test_the_service_refuses_a_replica_that_is_not_a_standby(engines, replicated):
    primary, replica = engines
    not_standby = create_db_engine(replicated[0].url(), pool_size=1)
    with pytest.raises(ConfigurationError, match="not a standby"):
        Reads(primary, not_standby).check()
    not_standby.dispose()
    Reads(primary, replica).check()  # a standby of this primary: accepted


@pytest.mark.parametrize(("change", "problem"), [
    ({"database": "no_such_database"}, "there is no such database"),
    ({"username": "no_such_user"}, "the user may not connect")])
def test_the_service_refuses_a_replica_url_that_is_wrong(engines, replicated, change,
                                                         problem):
    primary, _ = engines
    url = sa.engine.make_url(replicated[1].url()).set(**change)
    wrong = create_db_engine(url.render_as_string(hide_password=False), pool_size=1)
    with pytest.raises(ConfigurationError, match=f"GRIDGIS_REPLICA_URL: ({problem})"):
        Reads(primary, wrong).check()
    wrong.dispose()


def test_a_standby_of_another_cluster_is_refused_and_never_read(engines, make_db):
    _, replica = engines
    other = make_db()  # the test server: not this replica's primary
    with pytest.raises(ConfigurationError, match="standby of another cluster"):
        Reads(other.engine, replica).check()
    replica.dispose()  # its connections were checked against the right primary
    reads = Reads(other.engine, replica, wait_s=1)  # a service that started meanwhile
    for _ in range(2):
        with reads.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar() is False
    assert (reads.served, reads.fallbacks) == (0, 2)


def test_an_analysis_process_reads_from_the_replica(replicated, monkeypatch):
    primary, replica = replicated
    for name in ("_worker_service", "_worker_url", "_worker_role", "_worker_replica"):
        monkeypatch.setattr(hotspots, name, getattr(hotspots, name))
    monkeypatch.setattr(hotspots, "_worker_service", None)
    monkeypatch.setattr(hotspots.os, "nice", lambda increment: 0)  # not this process
    hotspots.init_worker(primary.url(), None, replica.url(), 10.0)
    service = hotspots.worker_service()
    reads = service.engine
    assert isinstance(reads, Reads) and reads.replica is not None
    with reads.primary.connect() as conn:
        assert service.version() == data_version(conn)
    assert service.time_zone()  # read on the primary, like the version
    service.incidents(hotspots.Selection())  # a read (of none or some): the replica's
    assert (reads.served, reads.fallbacks) == (1, 0)
    assert hotspots.worker_primary() is reads.primary
    reads.primary.dispose()
    reads.replica.dispose()
