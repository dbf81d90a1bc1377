"""``gridgis serve --workers N``: N processes answering on one port, each told its share
of the database's connections, so that together they stay within max_connections."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.gis.connections import plan_connections, server_limits
from tests.accounts import bearer, token_for
from tests.browser import free_port
from tests.helpers import X0, Y0

TO_WGS84 = Transformer.from_crs(32635, 4326, always_xy=True)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _listeners(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'gridgis-listener'")).scalar_one()


def test_workers_share_the_port_and_the_connections(seeded, tmp_path: Path):
    db, _ = seeded
    token = token_for(db, "viewer")
    port = free_port()
    env = {**os.environ, "GRIDGIS_DATABASE_URL":
           db.engine.url.render_as_string(hide_password=False),
           "GRIDGIS_API_ANALYTICS_WARM": "false", "GRIDGIS_API_ANALYTICS_SLOTS": "2"}
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gridgis", "serve", "--workers", "2", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        # each worker listens for changes as it starts; the port answers a little later
        while _listeners(db) < 2 or not _answers(base):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        lon, lat = TO_WGS84.transform(X0 + 50, Y0 + 50)
        with httpx.Client(base_url=base, headers=bearer(token), timeout=30) as client, \
                concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(
                lambda _: client.get("/grids/at", params={"lon": lon, "lat": lat}).status_code,
                range(64)))
        assert answers == [200] * 64
        with db.engine.connect() as conn:
            plan = plan_connections(*server_limits(conn), workers=2, analytics_slots=2)
        workers = [p for p in psutil.Process(server.pid).children()
                   if "spawn_main" in " ".join(p.cmdline())]  # not the resource tracker
        assert len(workers) == 2
        for worker in workers:
            environ = worker.environ()
            assert (int(environ["GRIDGIS_API_DB_POOL_SIZE"]),
                    int(environ["GRIDGIS_API_DB_MAX_OVERFLOW"]),
                    int(environ["GRIDGIS_API_ANALYTICS_SLOTS"])) == \
                (plan.pool_size, plan.max_overflow, 1)
    finally:
        server.terminate()
        server.wait(30)
    assert f"2 workers, each with {plan.pool_size}+{plan.max_overflow} database " \
           f"connections and 1 analysis process" in log.read_text()
    assert _listeners(db) == 0
