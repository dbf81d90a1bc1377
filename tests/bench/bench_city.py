"""A city on one machine (issue #14 §2): the generated city against the demo.

    .venv/bin/python tests/bench/bench_city.py [--scale 1] [--runs 3] [--skip-demo]

Builds, in throw-away embedded clusters and in the same run:
  - the generated city (`gridgis demo --city`: 10,000 grids, 3,000,000 people,
    1,000,000 households, 300,000 buildings, about 2,000,000 incidents over 5 years), with
    the time of each step, the peak memory of the building process and the database's
    size;
  - the baseline: the Helsinki demo (`gridgis demo`), built the same way.
Then, on each, the same measurements:
  - `relink` (every entity to its grid, in one transaction, as `gridgis relink` does);
  - Gi* on the 150 m lattice of the whole district over every incident (all five years on
    the city), through the service (`/hotspots/gi?cell=150&permutations=999`, uncached;
    a 503 "still computing" is asked again every half second);
  - the per-grid statistics (`/stats/grids` over the whole period, every grid: the
    first answer, which counts, then the median of three more, kept per data version;
    and one grid's `/grids/{id}/summary`);
  - every incident tile of the city at zooms 11 and 12 (what the incident page's view
    asks for: 512-pixel tiles of the zoom below the map's), made once clustered from the
    rows (the baseline) and once from the incidents' cells (migration 0022);
  - the grid and incident pages served as the README serves them (`gridgis serve`, a
    worker per core, freshly started) in headless Chromium without network (cut off by
    the browser's own host rules): the server's first answer (the page made), then time
    to interactive on the first visit (its vector tiles made) and again (median of
    --runs; the page and tiles kept by the server's workers).
Targets: import <= 10 min, relink <= 5 min, Gi* <= 30 s, per-grid statistics <= 2 s, the
pages as fast as on the demo; memory reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import morecantile
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from gridgis.gis.demo import CityOptions, DemoOptions, build_city, build_demo
from gridgis.gis.linking import relink
from tests.bench.bench_city_pages import measure as measure_page
from tests.bench.bench_service import start as start_server
from tests.bench.scratch import bench_token, scratch_database
from tests.browser import live_server

POLL_S = 0.5


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fetch(base: str, path: str, token: str, timeout: float = 600.0) -> tuple[float, bytes]:
    """Seconds until the answer and its body. A 503 "still computing" is asked again
    every half second, not after its Retry-After (10 s), so that the time is the
    computation's, not the wait's."""
    started = time.perf_counter()
    while True:
        request = urllib.request.Request(base + path,
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            body = urllib.request.urlopen(request, timeout=timeout).read()
            return time.perf_counter() - started, body
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                raise
            time.sleep(min(POLL_S, float(exc.headers.get("Retry-After", "1"))))


def incident_tiles(base: str, token: str, extent: tuple[float, ...], zoom: int
                   ) -> tuple[float, float]:
    """Seconds to make every incident tile of the city at ``zoom`` (each asked once, so
    made, not kept), clustered from the rows (a period from 1900 that selects every
    incident, so that the cells may not answer) and from the incidents' cells."""
    tiles = list(morecantile.tms.get("WebMercatorQuad").tiles(*extent, [zoom]))
    path = "/collections/incidents/tiles/WebMercatorQuad/{z}/{x}/{y}"
    rows = sum(fetch(base, path.format(z=t.z, x=t.x, y=t.y)
                     + "?datetime=1900-01-01T00:00:00Z/..", token)[0] for t in tiles)
    cells = sum(fetch(base, path.format(z=t.z, x=t.x, y=t.y), token)[0] for t in tiles)
    return rows, cells


def measure(cluster, db, work: Path, runs: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        started = time.perf_counter()
        conn.execute(sa.text("VACUUM ANALYZE"))
        figures["vacuum analyze s"] = time.perf_counter() - started
        figures["database MB"] = conn.execute(sa.text(
            "SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        first, last, grids, grid_id = conn.execute(sa.text(
            "SELECT min(occurred_at), max(occurred_at), "
            "(SELECT count(*) FROM grids g JOIN grid_plans p ON p.id = g.plan_id "
            " WHERE p.state = 'published'), "
            "(SELECT min(g.id) FROM grids g JOIN grid_plans p ON p.id = g.plan_id "
            " WHERE p.state = 'published') FROM incidents")).one()
    with db.engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        started = time.perf_counter()
        figures["relink changed"] = relink(conn)
        figures["relink s"] = time.perf_counter() - started
    with db.engine.connect() as conn:
        extent = tuple(conn.execute(sa.text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
            "ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, ST_SRID(min(geom))), 4326) "
            "AS b FROM incidents) e")).one())
    token = bench_token(db)
    period = (f"start={first.date().isoformat()}&end="
              f"{(last.date() + dt.timedelta(days=1)).isoformat()}")
    app = create_app(Settings(), database=db)
    with live_server(app) as base:
        seconds, body = fetch(base, f"/hotspots/gi?cell=150&permutations=999&{period}",
                              token)
        figures["gi* 150 m s"] = seconds
        figures["gi* cells"] = len(json.loads(body)["features"])
        stats = [fetch(base, f"/stats/grids?{period}", token) for _ in range(4)]
        figures["stats/grids first s"] = stats[0][0]  # counted; then kept
        figures["stats/grids s"] = statistics.median(s for s, _ in stats[1:])
        figures["stats rows"] = json.loads(stats[0][1])["numberReturned"]
        figures["grid summary s"] = statistics.median(
            fetch(base, f"/grids/{grid_id}/summary", token)[0] for _ in range(5))
        for zoom in (11, 12):
            rows, cells = incident_tiles(base, token, extent, zoom)
            figures[f"z{zoom} incident tiles rows s"] = rows
            figures[f"z{zoom} incident tiles cells s"] = cells
    # the pages as the README serves them: `gridgis serve`, a worker per core, in its own
    # processes (a fresh start: nothing counted or kept yet)
    server, base = start_server([sys.executable, "-m", "gridgis", "serve"],
                                {**os.environ, "GRIDGIS_DATABASE_URL": cluster.url()}, work)
    try:
        for page, collection in (("/maps/grids", "grids"), ("/maps/incidents", "incidents")):
            first = measure_page(base, page, collection, grids, 1, token)
            again = measure_page(base, page, collection, grids, runs, token)
            figures[f"{page} first answer s"] = first["server"]
            figures[f"{page} first visit s"] = first["interactive"]
            figures[f"{page} again s"] = again["interactive"]
    finally:
        server.terminate()
        server.wait(30)
    figures["grids"] = grids
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    results = {}
    with scratch_database("gridgis-city-", pool_size=4) as (cluster, db, work):
        started = time.perf_counter()
        summary = build_city(db, CityOptions(scale=args.scale),
                             say=lambda step: print(f"  … {step}", flush=True))
        built = time.perf_counter() - started
        memory = peak_mb()
        print(f"\ncity built in {built:.0f} s; peak memory of the building process "
              f"{memory:,.0f} MB")
        for step, seconds in summary.steps.items():
            print(f"  {step:28} {seconds:7.1f} s")
        imported = sum(s for k, s in summary.steps.items() if k.startswith("importing"))
        print(f"  {'import (all kinds)':28} {imported:7.1f} s   (target <= 600 s)")
        print("  " + ", ".join(f"{n:,} {k}" for k, n in summary.counts.items()))
        results["city"] = measure(cluster, db, work, args.runs)
    if not args.skip_demo:
        with scratch_database("gridgis-demo-", pool_size=4) as (cluster, db, work):
            started = time.perf_counter()
            demo = build_demo(db, DemoOptions())
            print(f"\ndemo built in {time.perf_counter() - started:.0f} s: " + ", ".join(
                f"{n:,} {k}" for k, n in demo.counts.items()))
            results["demo"] = measure(cluster, db, work, args.runs)
    print(f"\n{'':28} {'city':>10} {'demo':>10} {'city/demo':>10}")
    for key, value in results["city"].items():
        base = results.get("demo", {}).get(key)
        compared = f" {base:10.2f} {value / base:10.2f}" if base else ""
        print(f"  {key:26} {value:10.2f}{compared}")
    city = results["city"]
    for zoom in (11, 12):
        rows = city[f"z{zoom} incident tiles rows s"]
        cells = city[f"z{zoom} incident tiles cells s"]
        print(f"  z{zoom} incident tiles: from the cells {cells:.2f} s, from the rows "
              f"{rows:.2f} s: {rows / cells:.1f} x")
    print("targets: relink <= 300 s, gi* 150 m <= 30 s, stats/grids <= 2 s, pages as on "
          "the demo")


if __name__ == "__main__":
    main()
