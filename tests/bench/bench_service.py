"""Throughput benchmark (issue #14): a district's morning briefing, 32 concurrent clients
on the demo, as the README serves it.

    .venv/bin/python tests/bench/bench_service.py [--seconds 10] [--workers N]

Builds the demo district in a throw-away embedded cluster and serves it two ways, one
server at a time, both the same application code:
  - before: one uvicorn process on the pure-Python HTTP parser and asyncio's event loop
    (how `gridgis serve` started the service until #14);
  - serve: `gridgis serve` as the README starts it (a worker per core, uvloop and
    httptools, each worker's share of the database connections).
Each route is driven by `wrk` (2 threads, 32 connections; apt install wrk) with a police
officer's token and `Accept-Encoding: gzip`, as a browser asks; /grids/at at random
points of the district. Targets: /grids/at >= 1,000 req/s with p99 <= 50 ms and at least
half the throughput of /health (a trivial JSON endpoint) on the same server; /maps/grids
>= 100 req/s warm; the cached analytics >= 200 req/s warm. The first build of each page
and analysis (after a data change) is timed on its own, and a revalidation with the
page's ETag (304) is measured beside the full answer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from tests.bench.bench_auth import POINTS_SQL, RANDOM_POINT, wrk
from tests.bench.scratch import bench_token, scratch_database
from tests.browser import free_port

ROUTES = ["/health", "/grids/at", "/maps/grids", "/maps/grids (304)", "/hotspots/gi",
          "/hotspots/areas", "/blindspots/scorecard"]
TARGETS = {"/grids/at": 1000, "/maps/grids": 100, "/hotspots/gi": 200,
           "/hotspots/areas": 200, "/blindspots/scorecard": 200}
BEFORE = [sys.executable, "-m", "uvicorn", "--factory", "gridgis.api.app:create_app",
          "--loop", "asyncio", "--http", "h11", "--workers", "1"]


def start(command: list[str], env: dict[str, str], work: Path, log: Path | None = None
          ) -> tuple[subprocess.Popen, str]:
    """A server started with ``command`` (its output to ``log``, else dropped), and its
    address once it answers."""
    port = free_port()
    output = subprocess.DEVNULL if log is None else log.open("w")
    server = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=work, stdout=output, stderr=output,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit(f"{command} did not start")


def first_build(base: str, route: str, token: str) -> tuple[float, str | None]:
    """Seconds of the first answer (waiting out a 503 of an analysis still computing),
    and its ETag."""
    started = time.perf_counter()
    while True:
        answer = httpx.get(base + route, headers={"Authorization": f"Bearer {token}",
                                                  "Accept-Encoding": "gzip"}, timeout=300)
        if answer.status_code != 503:
            break
        time.sleep(0.2)
    if answer.status_code != 200:
        raise SystemExit(f"{route}: {answer.status_code} {answer.text[:300]}")
    return time.perf_counter() - started, answer.headers.get("etag")


def run(base: str, token: str, seconds: float, work: Path) -> dict[str, tuple]:
    figures: dict[str, tuple] = {}
    for route in ROUTES:
        path = route.split(" ")[0]
        headers = ["Accept-Encoding: gzip"]
        build = None
        if path not in ("/health", "/grids/at"):
            build, etag = first_build(base, path, token)
            if route.endswith("(304)"):
                if etag is None:
                    figures[route] = None
                    continue
                headers.append(f"If-None-Match: {etag}")
        # warm-up: long enough for every worker to have made its own copy
        wrk(base, path, token, max(2.0, 3 * (build or 0)), work, headers)
        rate, p50, p99, errors = wrk(base, path, token, seconds, work, headers)
        if errors:
            raise SystemExit(f"{route}: {errors} answers were not 2xx or 3xx")
        figures[route] = (rate, p50, p99, build)
    return figures


def main() -> None:
    from gridgis.gis.demo import build_demo
    from gridgis.gis.services.hotspot_inputs import data_version

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=None,
                        help="gridgis serve --workers (default: its own, one per core)")
    parser.add_argument("--routes", default=None,
                        help="comma-separated routes to measure (default: all)")
    args = parser.parse_args()
    if args.routes:
        ROUTES[:] = [r for r in ROUTES if r.split(" ")[0] in args.routes.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt install wrk")
    with scratch_database() as (cluster, db, work):
        build_demo(db)
        token = bench_token(db, "police")
        with db.engine.connect() as conn:
            points = conn.execute(POINTS_SQL).all()
            version = data_version(conn)
        (work / "random_point.lua").write_text(RANDOM_POINT % ", ".join(
            f"{{{x:.6f}, {y:.6f}}}" for x, y in points))
        env = {**os.environ, "GRIDGIS_DATABASE_URL": cluster.url()}
        serve = [sys.executable, "-m", "gridgis", "serve"]
        if args.workers:
            serve += ["--workers", str(args.workers)]
        results = {}
        for name, command in (("before", BEFORE), ("serve", serve)):
            server, base = start(command, env, work)
            try:
                results[name] = run(base, token, args.seconds, work)
            finally:
                server.terminate()
                server.wait(30)
    print(f"demo district (data version {version}); wrk 2 threads, 32 connections, "
          f"{args.seconds:.0f} s per route, {os.cpu_count()} cores; police token, gzip")
    print(f"{'route':24} {'server':7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'first s':>8} {'x before':>9} {'target':>7}")
    for route in ROUTES:
        for name in ("before", "serve"):
            row = results[name].get(route)
            if row is None:
                print(f"{route:24} {name:7} {'(no ETag)':>8}")
                continue
            rate, p50, p99, build = row
            ratio = rate / results["before"][route][0] if name == "serve" and \
                results["before"].get(route) else None
            target = TARGETS.get(route.split(" ")[0])
            print(f"{route:24} {name:7} {rate:8.0f} {p50:8.1f} {p99:8.1f} "
                  f"{'' if build is None else f'{build:8.2f}':>8} "
                  f"{'' if ratio is None else f'{ratio:8.1f}x':>9} "
                  f"{'' if target is None or name != 'serve' else target:>7}")
    for name in ("before", "serve"):
        if "/health" not in ROUTES or "/grids/at" not in ROUTES:
            break
        share = results[name]["/grids/at"][0] / results[name]["/health"][0]
        print(f"{name}: /grids/at at {share:.0%} of /health's throughput (target >= 50 %)")


if __name__ == "__main__":
    main()
