"""The embedded cluster: create, reuse, share, recover from kills, run as root."""

import os
import signal
import subprocess
import sys
import time

import psutil
import psycopg
import pytest

from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import open_database
from gridgis.gis.errors import ConfigurationError, DatabaseUnavailable
from gridgis.gis.settings import DatabaseSettings


def _query(cluster: EmbeddedCluster, sql: str):
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchone()[0] if cursor.description else None


def test_first_start_creates_a_cluster_listening_only_on_its_socket(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    assert cluster.start() is True
    status = cluster.status()
    assert status.initialised and status.running
    assert (cluster.socket_dir / ".s.PGSQL.5432").exists()
    assert _query(cluster, "SHOW listen_addresses") == ""
    assert _query(cluster, "SELECT current_database()") == "gridgis"


def test_second_start_reuses_the_running_cluster(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    pid = cluster.status().pid
    assert EmbeddedCluster(cluster_home).start() is False
    assert EmbeddedCluster(cluster_home).status().pid == pid


def test_data_survives_a_restart(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    _query(cluster, "CREATE TABLE kept AS SELECT 42 AS answer")
    assert cluster.stop() is True
    assert not cluster.status().running
    assert cluster.start() is True
    assert _query(cluster, "SELECT answer FROM kept") == 42


def test_server_never_runs_as_root(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    server = psutil.Process(cluster.status().pid)
    if os.geteuid() == 0:
        assert server.uids().real != 0
        assert server.username() in ("postgres", "nobody")
    else:
        assert server.uids().real == os.geteuid()


def test_start_recovers_after_the_server_was_killed(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    pid = cluster.status().pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in psutil.process_iter(["ppid"]):  # backends exit when the postmaster dies
        if child.info["ppid"] == pid:
            child.wait(10)
    assert (cluster.data_dir / "postmaster.pid").exists()  # the stale lock
    assert not cluster.status().running
    assert cluster.start() is True
    assert _query(cluster, "SELECT 1") == 1


def test_start_recovers_from_a_stale_pid_file_of_a_dead_process(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    cluster.stop()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (cluster.data_dir / "postmaster.pid").write_text(f"{dead.pid}\n{cluster.data_dir}\n")
    assert cluster.start() is True


def test_lock_of_a_killed_gridgis_process_does_not_block(cluster_home):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
        "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"),
        str(cluster_home / "cluster.lock")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    assert EmbeddedCluster(cluster_home).start() is True


def test_last_client_stops_an_auto_started_cluster(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    with cluster.session():
        with EmbeddedCluster(cluster_home).session():
            pass
        assert cluster.status().running  # the outer client is still there
    assert not cluster.status().running


def test_a_cluster_started_by_db_start_outlives_its_clients(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start(autostop=False)
    with cluster.session():
        pass
    assert cluster.status().running


def test_unwritable_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="cannot be written.*GRIDGIS_HOME"):
        EmbeddedCluster(blocker / "home").start()


def test_missing_server_binaries_is_a_clear_error(cluster_home, monkeypatch):
    monkeypatch.setenv("GRIDGIS_PG_BINDIR", str(cluster_home / "nowhere"))
    with pytest.raises(ConfigurationError, match="server binaries"):
        EmbeddedCluster(cluster_home).start()


def test_unreachable_database_url_is_a_clear_error():
    settings = DatabaseSettings(database_url="postgresql://nobody@127.0.0.1:9/none")
    with pytest.raises(DatabaseUnavailable, match="Cannot connect"):
        with open_database(settings):
            pass


def test_open_database_on_embedded_default_enables_postgis(cluster_home):
    with open_database(DatabaseSettings(home=cluster_home)) as db:
        with db.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT postgis_lib_version()").scalar()
    assert version.startswith("3.")
    assert not EmbeddedCluster(cluster_home).status().running
