"""Test fixtures: a real PostgreSQL + PostGIS for the whole session.

By default the session starts gridgis's own embedded cluster (so the launcher itself is
exercised); ``GRIDGIS_TEST_DATABASE_URL`` points the tests at an existing server instead
(a database on it is used as the admin connection to create per-test databases).

Each test that needs a database gets a fresh one cloned from a migrated template, which
takes a few tens of milliseconds and lets import tests commit for real.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import Database, create_db_engine, ensure_postgis, ensure_roles, migrate
from tests.helpers import HELSINKI_SRID

pytest_plugins = ["tests.seed"]

# Apps in tests start their analysis workers only when an analysis is asked for: most
# tests never do, and each start costs seconds of CPU.
os.environ.setdefault("GRIDGIS_API_ANALYTICS_WARM", "false")
# The test client's requests are addressed to "testserver".
os.environ.setdefault("GRIDGIS_API_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

_counter = itertools.count()


class Server:
    """Creates databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin = sa.engine.make_url(admin_url)
        self._templates: dict[int, str] = {}

    def url(self, database: str) -> str:
        return self.admin.set(database=database).render_as_string(hide_password=False)

    def _admin_conn(self) -> psycopg.Connection:
        url = self.admin.set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        with self._admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"'
                         + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def template(self, srid: int) -> str:
        if srid not in self._templates:
            name = f"gridgis_test_template_{srid}"
            engine = create_db_engine(self.create_database(name), pool_size=1)
            ensure_postgis(engine)
            migrate(engine, srid)
            engine.dispose()
            self._templates[srid] = name
        return self._templates[srid]

    def fresh(self, srid: int | None = HELSINKI_SRID) -> tuple[str, str]:
        name = f"gridgis_test_{os.getpid()}_{next(_counter)}"
        if srid is None:
            url = self.create_database(name)
            engine = create_db_engine(url, pool_size=1)
            ensure_postgis(engine)
            engine.dispose()
            return name, url
        return name, self.create_database(name, self.template(srid))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    external = os.environ.get("GRIDGIS_TEST_DATABASE_URL")
    if external:
        yield Server(external)
        return
    home = cluster_home_dir()
    cluster = EmbeddedCluster(home)
    try:
        with cluster.session():
            yield Server(cluster.url("postgres"))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def cluster_home_dir() -> Path:
    """A directory for an embedded cluster. Not under pytest's tmp_path: as root the
    server runs as an unprivileged user, who cannot enter pytest's private directories."""
    return Path(tempfile.mkdtemp(prefix="gridgis-test-"))


@pytest.fixture
def cluster_home() -> Iterator[Path]:
    home = cluster_home_dir()
    yield home
    EmbeddedCluster(home).stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def own_cluster(cluster_home) -> Iterator[tuple[EmbeddedCluster, Database]]:
    """A migrated database on an embedded cluster of the test's own, for tests that stop
    or crash the server."""
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    engine = create_db_engine(cluster.url(), pool_size=8, statement_timeout_ms=10_000)
    ensure_postgis(engine)
    migrate(engine, 32635)
    yield cluster, Database(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def replicated() -> Iterator[tuple[EmbeddedCluster, EmbeddedCluster]]:
    """A migrated primary on an embedded cluster of its own, and a streaming replica of
    it (hot standby, :mod:`gridgis.gis.replica`)."""
    homes = [cluster_home_dir(), cluster_home_dir()]
    clusters: list[EmbeddedCluster] = []
    try:
        primary = EmbeddedCluster(homes[0])
        clusters.append(primary)
        primary.start()
        engine = create_db_engine(primary.url(), pool_size=1)
        ensure_postgis(engine)
        migrate(engine, HELSINKI_SRID)
        ensure_roles(engine)
        engine.dispose()
        clusters.append(primary.make_replica(homes[1]))
        yield primary, clusters[1]
    finally:
        for cluster in reversed(clusters):
            cluster.stop()
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def make_db(pg_server: Server):
    """Factory for fresh, migrated databases: ``make_db(srid=...)``."""
    created: list[tuple[str, Database]] = []

    def factory(srid: int | None = HELSINKI_SRID) -> Database:
        name, url = pg_server.fresh(srid)
        database = Database(create_db_engine(url, pool_size=2))
        created.append((name, database))
        return database

    yield factory
    for name, database in created:
        database.engine.dispose()
        pg_server.drop_database(name)


@pytest.fixture
def db(make_db) -> Database:
    """A fresh database in UTM 35N (Helsinki)."""
    return make_db()


@pytest.fixture
def conn(db: Database) -> Iterator[sa.Connection]:
    """A connection whose transaction is rolled back after the test."""
    with db.engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def pytest_sessionfinish(session, exitstatus):
    """A skipped or xfailed test is a failed test here: CI must not pass on skips."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    skipped = len(reporter.stats.get("skipped", [])) + len(reporter.stats.get("xfailed", []))
    if skipped:
        reporter.write_line(f"{skipped} tests were skipped or xfailed: failing the run",
                            red=True)
        session.exitstatus = 1

