"""The server's log carries no values a request sent: uvicorn's access line keeps the
path and leaves out the query string (a searched name, a stated purpose)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from tests.accounts import bearer, token_for
from tests.browser import free_port

PURPOSE = "协查王小明 case 4711"


def test_the_access_log_leaves_out_query_strings(seeded):
    db, _ = seeded
    token = token_for(db, "police")
    port = free_port()
    env = {**os.environ, "GRIDGIS_DATABASE_URL":
           db.engine.url.render_as_string(hide_password=False),
           "GRIDGIS_API_ANALYTICS_WARM": "false"}
    server = subprocess.Popen([sys.executable, "-m", "gridgis", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.3)
        answer = httpx.get(base + "/people", params={"purpose": PURPOSE, "limit": 1},
                           headers=bearer(token), timeout=30)
        assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert '"GET /people?… HTTP/1.1" 200' in log, log
    assert "purpose" not in log and "王小明" not in log and "4711" not in log
    assert token not in log
