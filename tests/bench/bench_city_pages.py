"""The grid and incident pages of a city (issue #13 §2): before and after vector tiles.

    .venv/bin/python tests/bench/bench_city_pages.py [--grids 10000]
        [--incidents 1000000] [--buildings 300000] [--runs 3]

Builds a throw-away embedded cluster with irregular (Voronoi) grids over 12 x 12 km,
incidents spread over two years and small buildings, serves gridgis twice in the same
run and measures each page in headless Chromium (network cut off):
  - "tiles": as configured by default (more than GRIDGIS_API_MAP_GRIDS_EMBEDDED=2,000
    grids, or more than GRIDGIS_API_MAP_MAX_FEATURES=20,000 incidents, roads or
    buildings, are drawn from vector tiles);
  - "embedded": the pages as they were before, every layer in the page and cut at
    20,000 features (the newest 20,000 incidents of the million, the first 20,000
    buildings), built by the same page functions with tiles turned off, on bench routes
    of the same server.
Per page: the first transfer (the HTML document: its size, and the bytes the browser
received, compressed), everything transferred until the page is interactive (the
document, the map libraries and the tiles in view, as received), and time
to interactive: from navigation until the page's grids or incidents are drawn (every
tile in view loaded, or every embedded feature added) and the main thread answers.
Targets (#13): interactive <= 2 s, first transfer <= 1 MB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from tests.bench.scratch import (
    SIDE,
    SRID,
    X0,
    Y0,
    bench_token,
    import_city,
    scratch_database,
)
from tests.browser import browser_page, live_server

READY = """([collection, embedded]) => {
    if (!window.L) return false;
    const map = Object.values(window).find(v => v instanceof L.Map);
    if (!map) return false;
    let tiles = false, features = 0, markers = 0;
    map.eachLayer(l => {
        if (l._url && l._url.includes('/collections/' + collection + '/tiles') && l.isLoading
            && !l.isLoading() && Object.keys(l._tiles).length > 0) tiles = true;
        if (l.feature && l.feature.properties.code) features++;
        if (l.getAllChildMarkers) markers++;
    });
    return tiles || (collection === 'grids' ? features >= embedded : markers > 0);
}"""
TRANSFERRED = """() => {
    const page = performance.getEntriesByType('navigation');
    const entries = [...page, ...performance.getEntriesByType('resource')];
    return [page[0].transferSize,
            entries.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)];
}"""
EMBEDDED_CUT = 20_000  # what a page embedded of a layer before vector tiles
BUILDINGS = sa.text("""
    INSERT INTO buildings (use, levels, households, geom)
    SELECT 'residential', 5, 20,
           ST_Multi(ST_Expand(ST_SetSRID(ST_MakePoint(:x0 + random() * :side,
                                             :y0 + random() * :side), :srid), 6))
    FROM generate_series(1, :n)""")


def measure(base: str, path: str, collection: str, grids: int, runs: int, token: str
            ) -> dict[str, float]:
    import urllib.request

    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    document = len(urllib.request.urlopen(request, timeout=300).read())
    first_build = time.perf_counter() - started
    times, sent, moved = [], [], []
    for _ in range(runs):
        with browser_page(base, token, timed=True) as (page, log):
            started = time.perf_counter()
            page.goto(base + path, wait_until="commit", timeout=300_000)
            page.wait_for_function(READY, arg=[collection, grids], timeout=300_000,
                                   polling=50)
            page.evaluate("() => 1")  # the main thread answers: the page is interactive
            times.append(time.perf_counter() - started)
            document_sent, everything = page.evaluate(TRANSFERRED)
            sent.append(document_sent)
            moved.append(everything)
            assert not log.failed and not log.external and not log.page_errors, log
    return {"document": document, "sent": statistics.median(sent),
            "transferred": statistics.median(moved),
            "interactive": statistics.median(times), "server": first_build}


def add_embedded_pages(app: FastAPI, db) -> None:
    """The two pages as they were before vector tiles, at /bench/embedded/maps/…"""
    from gridgis.gis.access.principal import Principal
    from gridgis.maps import data
    from gridgis.maps.base import PageOptions
    from gridgis.maps.grids import GridsPageData, grids_page
    from gridgis.maps.incidents import IncidentsPageData, incidents_page

    options = PageOptions(max_features=EMBEDDED_CUT)
    who = Principal("bench", frozenset({"admin"}))

    def base(conn) -> data.BaseLayers:
        facts = data.page_facts(conn)
        return data.BaseLayers(data.roads(conn, EMBEDDED_CUT),
                               data.buildings(conn, EMBEDDED_CUT),
                               data.areas(conn, "subdistrict"), data.areas(conn, "community"),
                               facts["attribution"], facts["synthetic"])

    @app.get("/bench/embedded/maps/grids", response_class=HTMLResponse)
    def grids() -> HTMLResponse:
        with db.engine.connect() as conn:
            outside, total = data.unassigned(conn, 2_000)
            page = GridsPageData(base(conn), data.grids_with_measures(conn, None, None, who, 5),
                                 outside, total)
        return HTMLResponse(grids_page(page, options))

    @app.get("/bench/embedded/maps/incidents", response_class=HTMLResponse)
    def incidents() -> HTMLResponse:
        with db.engine.connect() as conn:
            points, total = data.incidents(conn, (), None, None, EMBEDDED_CUT, who)
            page = IncidentsPageData(base(conn), points, total)
        return HTMLResponse(incidents_page(page, options, ()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--buildings", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with scratch_database(pool_size=4) as (_, db, work):
        import_city(db, work, args.grids, args.incidents)
        with db.engine.begin() as conn:
            conn.execute(BUILDINGS, {"x0": X0, "y0": Y0, "side": SIDE, "srid": SRID,
                                     "n": args.buildings})
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        token = bench_token(db)
        app = create_app(Settings(), database=db)
        add_embedded_pages(app, db)
        figures = {}
        with live_server(app) as base:
            for mode, prefix in (("tiles", ""), ("embedded", "/bench/embedded")):
                for page, collection in (("/maps/grids", "grids"),
                                         ("/maps/incidents", "incidents")):
                    figures[(mode, page)] = measure(base, prefix + page, collection,
                                                    args.grids, args.runs, token)
    print(f"\ngrids {args.grids:,}, incidents {args.incidents:,}, buildings "
          f"{args.buildings:,}; {args.runs} browser runs each (medians)")
    for (mode, page), f in figures.items():
        print(f"  {page:16} {mode:9} document {f['document'] / 1e6:5.2f} MB, sent "
              f"{f['sent'] / 1e6:5.2f} MB (gzip)  "
              f"until interactive {f['transferred'] / 1e6:6.2f} MB  interactive "
              f"{f['interactive']:5.2f} s  (server's first answer {f['server']:.2f} s)")
    for page in ("/maps/grids", "/maps/incidents"):
        ours, before = figures[("tiles", page)], figures[("embedded", page)]
        print(f"  {page:16} tiles/embedded: first transfer "
              f"{ours['document'] / before['document']:.3f}, interactive "
              f"{ours['interactive'] / before['interactive']:.2f} "
              "(targets: interactive <= 2 s, first transfer <= 1 MB)")


if __name__ == "__main__":
    main()
