"""Map page benchmark (issue #3): the grids page with 10,000 grids.

    .venv/bin/python tests/bench/bench_maps.py [--grids 10000] [--incidents 200000]

Builds a throw-away embedded cluster with irregular (Voronoi) grids and incidents, serves
gridgis, and measures in headless Chromium (network cut off):
  - the size of /maps/grids (HTML with its embedded data), target < 3 MB;
  - time to interactive: from navigation to the grid layer holding every grid and the
    page answering, target < 3 s;
against a baseline in the same run: the same grids drawn the straightforward Folium way
(unsimplified geometry at full precision, every summary field embedded in a popup).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from gridgis.gis import stats
from gridgis.gis.db import Database
from gridgis.maps.offline import render
from tests.bench.scratch import (
    bench_token,
    import_city,
    scratch_database,
)
from tests.browser import browser_page, live_server

READY = """(expected) => {
    if (!window.L) return false;
    const map = Object.values(window).find(v => v instanceof L.Map);
    if (!map) return false;
    let n = 0;
    map.eachLayer(l => { if (l.feature && l.feature.properties.code) n++; });
    return n >= expected;
}"""


def naive_page(db: Database) -> str:
    """What the page would be without simplification, rounding or lazy popups."""
    with db.engine.connect() as conn:
        grids = gpd.read_postgis("SELECT g.id, g.code, ST_Transform(g.geom, 4326) AS geom "
                                 "FROM grids g", conn, geom_col="geom")
        table = pd.DataFrame(stats.grid_stats(conn))
    grids = grids.merge(table.drop(columns=["code"]), on="id")
    grids = grids.astype({c: str for c in grids.columns if c not in ("geom",)})
    m = folium.Map(tiles=None, maxZoom=19)
    fields = [c for c in grids.columns if c != "geom"]
    folium.GeoJson(grids, name="grids",
                   style_function=lambda f: {"fillColor": "#fd8d3c", "weight": 0.6},
                   popup=folium.GeoJsonPopup(fields=fields),
                   tooltip=folium.GeoJsonTooltip(fields=["code"])).add_to(m)
    m.fit_bounds(grids.total_bounds[[1, 0, 3, 2]].reshape(2, 2).tolist())
    return render(m)


def measure(url: str, base: str, expected: int, runs: int, token: str
            ) -> tuple[int, list[float], list[float]]:
    import urllib.request

    server = []
    for _ in range(runs):
        started = time.perf_counter()
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        size = len(urllib.request.urlopen(request, timeout=120).read())
        server.append(time.perf_counter() - started)
    times = []
    for _ in range(runs):
        with browser_page(base, token) as (page, log):
            started = time.perf_counter()
            page.goto(url, wait_until="commit", timeout=120_000)
            page.wait_for_function(READY, arg=expected, timeout=120_000, polling=50)
            page.evaluate("() => 1")  # the main thread answers: the page is interactive
            times.append(time.perf_counter() - started)
            assert not log.failed and not log.external and not log.page_errors, log
    return size, times, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with scratch_database(pool_size=4) as (_, db, work):
        import_city(db, work, args.grids, args.incidents)

        app = create_app(Settings(), database=db)
        baseline_html = naive_page(db)

        @app.get("/bench/naive", response_class=HTMLResponse)
        def naive() -> HTMLResponse:
            return HTMLResponse(baseline_html)

        run(app, args, bench_token(db))


def run(app: FastAPI, args, token: str) -> None:
    with live_server(app) as base:
        ours_size, ours, ours_server = measure(f"{base}/maps/grids", base, args.grids,
                                               args.runs, token)
        naive_size, naive, naive_server = measure(f"{base}/bench/naive", base, args.grids,
                                                  args.runs, token)
    print()
    print(f"grids: {args.grids:,}   incidents: {args.incidents:,}   runs: {args.runs}")
    print(f"/maps/grids   size {ours_size / 1e6:6.2f} MB   (target < 3 MB)   "
          f"interactive {statistics.median(ours):5.2f} s median (target < 3 s; runs "
          + ", ".join(f"{t:.2f}" for t in ours) + ")")
    print(f"naive folium  size {naive_size / 1e6:6.2f} MB                     "
          f"interactive {statistics.median(naive):5.2f} s median (runs "
          + ", ".join(f"{t:.2f}" for t in naive) + ")")
    print(f"of which the server's response: ours {statistics.median(ours_server):.2f} s, "
          f"naive (pre-rendered) {statistics.median(naive_server):.2f} s")
    print(f"ratio ours/naive: size {ours_size / naive_size:.2f}, time "
          f"{statistics.median(ours) / statistics.median(naive):.2f}")


if __name__ == "__main__":
    main()
