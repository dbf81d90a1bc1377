"""``gridgis db …`` and ``gridgis relink``: the database as other tools reach it."""

import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest
import sqlalchemy as sa

from gridgis.gis.cluster import EmbeddedCluster
from tests.browser import free_port
from tests.helpers import LAT0, LON0, grid_geojson, incidents_frame


def test_relink_reports_changes_and_unassigned(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    result = run("relink")
    assert result.returncode == 0 and "changed grid" in result.stdout
    assert "outside every grid" in result.stdout


def test_partitions_show_where_incidents_are_and_place_the_waiting(run, db, tmp_path):
    incidents_frame(30).to_csv(tmp_path / "i.csv", index=False)
    assert run("import", "incidents", tmp_path / "i.csv").returncode == 0
    with db.engine.begin() as conn:  # a district drawn by SQL: no partition of its own yet
        district = conn.execute(sa.text(
            "INSERT INTO areas (level, code, name, geom) VALUES ('district', 'D', 'D', "
            "ST_Multi(ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326), 32635))) "
            "RETURNING id"), {"x0": LON0 - 0.01, "y0": LAT0 - 0.01, "x1": LON0 + 0.03,
                              "y1": LAT0 + 0.03}).scalar_one()
    shown = run("db", "partitions")
    assert shown.returncode == 0, shown.stderr
    assert "incidents_other" in shown.stdout and "30 incidents are in a default" in shown.stdout
    placed = run("db", "partitions", "--place")
    assert placed.returncode == 0, placed.stderr
    assert "30 incidents moved to their partitions" in placed.stdout
    assert f"incidents_d{district}_2024" in placed.stdout
    assert "default partition" not in placed.stdout
    with db.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT detail FROM audit_log WHERE action = 'place incidents'")).scalar() \
            == "30 moved"


def test_another_process_finds_the_running_cluster(run_embedded, cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    result = run_embedded("db", "status")
    assert result.returncode == 0, result.stderr
    assert f"yes, pid {cluster.status().pid}" in result.stdout


def test_db_url_is_accepted_by_psql_and_gdal(run_embedded, cluster_home):
    assert run_embedded("init", "--srid", "32635").returncode == 0
    assert run_embedded("db", "start").returncode == 0
    uri = run_embedded("db", "url").stdout.strip()
    conninfo = run_embedded("db", "url", "--conninfo").stdout.strip()
    sqlalchemy = run_embedded("db", "url", "--sqlalchemy").stdout.strip()
    assert uri.startswith("postgresql://") and "+psycopg" not in uri
    assert sqlalchemy.startswith("postgresql+psycopg://")
    assert "host=" in conninfo and "dbname=gridgis" in conninfo
    for target in (uri, conninfo):
        psql = subprocess.run(["psql", target, "-Atc", "SELECT PostGIS_Lib_Version()"],
                              capture_output=True, text=True, timeout=60)
        assert psql.returncode == 0, psql.stderr
        assert psql.stdout.startswith("3.")
    ogr = subprocess.run(["ogrinfo", "-ro", "-so", f"PG:{conninfo}"], capture_output=True,
                         text=True, timeout=60)
    assert ogr.returncode == 0, ogr.stderr
    assert "incidents" in ogr.stdout and "published_grids" in ogr.stdout
    ogr_uri = subprocess.run(["ogrinfo", "-ro", "-so", f"PG:{uri}", "grids"],
                             capture_output=True, text=True, timeout=60)
    assert ogr_uri.returncode == 0, ogr_uri.stderr
    assert run_embedded("db", "stop").returncode == 0


def test_db_url_of_an_external_database_is_a_libpq_uri(run, db):
    uri = run("db", "url").stdout.strip()
    assert uri.startswith("postgresql://")
    psql = subprocess.run(["psql", uri, "-Atc", "SELECT 1"], capture_output=True, text=True,
                          timeout=60)
    assert psql.returncode == 0 and psql.stdout.strip() == "1", psql.stderr


def test_db_psql_stops_the_server_it_started(run_embedded, cluster_home):
    result = run_embedded("db", "psql", "-Atc", "SELECT 40 + 2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "42"
    assert not EmbeddedCluster(cluster_home).status().running


def test_db_psql_leaves_a_server_started_by_db_start_running(run_embedded, cluster_home):
    assert run_embedded("db", "start").returncode == 0
    assert run_embedded("db", "psql", "-Atc", "SELECT 1").returncode == 0
    assert EmbeddedCluster(cluster_home).status().running
    run_embedded("db", "stop")


def test_db_psql_passes_on_the_exit_code_of_psql(run_embedded):
    result = run_embedded("db", "psql", "-v", "ON_ERROR_STOP=1", "-c", "SELECT nonsense")
    assert result.returncode != 0
    assert "nonsense" in result.stderr


@pytest.fixture(autouse=True)
def _clients_installed():
    for tool in ("psql", "ogrinfo"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: scripts/bootstrap.sh --test installs it")


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_sigterm_stops_the_service_and_the_database_it_started(cluster_home):
    env = {**os.environ, "GRIDGIS_HOME": str(cluster_home)}
    env.pop("GRIDGIS_DATABASE_URL", None)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gridgis", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"), 60)
        assert EmbeddedCluster(cluster_home).status().running
        server.send_signal(signal.SIGTERM)
        server.wait(30)  # a hang fails here; the benchmark measures how fast it goes
    finally:
        server.kill()
    assert server.returncode is not None
    assert not EmbeddedCluster(cluster_home).status().running


def test_sigterm_during_the_demo_build_leaves_no_database_running(cluster_home):
    env = {**os.environ, "GRIDGIS_HOME": str(cluster_home)}
    env.pop("GRIDGIS_DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "gridgis", "demo", "--no-serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: EmbeddedCluster(cluster_home).status().running, 60)
        time.sleep(2)  # into the build
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
    finally:
        demo.kill()
    assert demo.returncode != 0
    assert not EmbeddedCluster(cluster_home).status().running


def test_desktop_roles_reach_the_embedded_server_over_tcp_with_a_password(cluster_home):
    from tests.cli.conftest import gridgis_runner

    port = free_port()
    env = {**os.environ, "GRIDGIS_HOME": str(cluster_home), "GRIDGIS_DB_LISTEN": "localhost",
           "GRIDGIS_DB_PORT": str(port)}
    env.pop("GRIDGIS_DATABASE_URL", None)
    run = gridgis_runner(env)
    assert run("init", "--srid", "32635").returncode == 0
    assert run("db", "start").returncode == 0
    reader = run("db", "url", "--role", "gis-reader").stdout.strip()
    assert reader.startswith("postgresql://gridgis_gis_reader:") and f"@localhost:{port}/" \
        in reader
    assert run("db", "url", "--role", "gis-reader").stdout.strip() == reader  # kept

    def psql(target: str, sql: str) -> subprocess.CompletedProcess:
        return subprocess.run(["psql", target, "-Atc", sql], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PGPASSWORD": "",
                                               "PGCONNECT_TIMEOUT": "10"})

    assert psql(reader, "SELECT count(*) FROM gis.areas").stdout.strip() == "0"
    assert "permission denied" in psql(reader, "SELECT * FROM public.people").stderr
    owner = psql(f"postgresql://gridgis@localhost:{port}/gridgis", "SELECT 1")
    assert owner.returncode != 0 and "password" in owner.stderr  # no password, no entry
    wrong = psql(reader.replace("gridgis_gis_reader:", "gridgis_gis_reader:x"), "SELECT 1")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    ogr = subprocess.run(["ogrinfo", "-ro", "-so", "-oo", "SCHEMAS=gis", f"PG:{reader}"],
                         capture_output=True, text=True, timeout=60)
    assert ogr.returncode == 0, ogr.stderr
    assert "incidents" in ogr.stdout and "people_per_grid" in ogr.stdout
    assert "people (" not in ogr.stdout.replace("people_per_grid", "")
    planner = run("db", "url", "--role", "planner", "--conninfo").stdout.strip()
    assert "user=gridgis_planner" in planner and "password=" in planner
    renewed = run("db", "url", "--role", "gis-reader", "--reset-password").stdout.strip()
    assert renewed != reader and psql(reader, "SELECT 1").returncode != 0
    assert psql(renewed, "SELECT 1").returncode == 0
    assert run("db", "stop").returncode == 0
