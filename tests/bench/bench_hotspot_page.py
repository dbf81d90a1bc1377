"""Hotspot map page benchmark (issue #5): the demo district's /maps/hotspots.

    .venv/bin/python tests/bench/bench_hotspot_page.py

Builds the demo in a throw-away embedded cluster, starts the service, waits for its
start-up, then measures in headless Chromium (network cut off) the time from navigation
until the map holds its Gi* layer and answers: the first request of a parameter set
(computed) and a repeat (cached), for the lattice and for the grids. Target < 3 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from gridgis.gis.demo import build_demo
from tests.bench.scratch import bench_token, scratch_database
from tests.browser import browser_page, live_server

READY = """() => {
    if (!window.L) return false;
    const map = Object.values(window).find(v => v instanceof L.Map);
    if (!map) return false;
    let n = 0;
    map.eachLayer(l => { if (l.feature) n++; });
    return n > 0 && document.querySelector('.gridgis-ranking') !== null;
}"""


def visit(base: str, path: str, token: str) -> float:
    with browser_page(base, token) as (page, log):
        started = time.perf_counter()
        page.goto(base + path, wait_until="commit", timeout=120_000)
        page.wait_for_function(READY, timeout=120_000, polling=50)
        page.evaluate("() => 1")
        elapsed = time.perf_counter() - started
        assert not log.failed and not log.external and not log.page_errors, log
    return elapsed


def main() -> None:
    with scratch_database() as (_, db, _):
        summary = build_demo(db)
        token = bench_token(db, "police")
        print(f"demo: {summary.counts['incidents']:,} incidents, "
              f"{summary.counts['grids']} grids")
        with live_server(create_app(Settings(), database=db)) as base:
            time.sleep(5)  # let the start-up warm-up finish, as a running service has
            for label, path in (("lattice", "/maps/hotspots?lang=zh"),
                                ("grids", "/maps/hotspots?lang=zh&unit=grids")):
                first = visit(base, path, token)
                again = visit(base, path, token)
                print(f"/maps/hotspots {label:8} first {first:5.2f} s, cached "
                      f"{again:5.2f} s   (target < 3 s)")


if __name__ == "__main__":
    main()
