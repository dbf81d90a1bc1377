"""OGC API – Features and vector tiles against tipg (issue #13): the same database, the
same requests, 32 concurrent clients, in the same run.

    .venv/bin/python tests/bench/bench_features.py [--incidents 300000] [--seconds 10]
        [--rounds 2]

Builds the demo district in a throw-away embedded cluster and adds ``--incidents``
incidents around the demo's own (each moved up to 150 m), then serves it twice, one
server at a time, each its own uvicorn process with one worker: gridgis as `gridgis
serve` starts it, and tipg (installed from the package registry into a virtual
environment of its own under the work directory). `wrk` (apt install wrk), 2 threads and
32 connections, asks each for:
  - items: the first page of 1,000 incidents (`limit=1000`);
  - tile: the z14 vector tile holding the most incidents.
gridgis keeps tiles per version of their tables (a repeated tile is made once): it is
served twice, as configured by default ("gridgis") and with no tile kept
(GRIDGIS_API_VECTOR_TILE_CACHE_MB=0, "gridgis-cold": every request makes the tile).
tipg keeps none. gridgis's z14 tile clusters every incident in it (counts per 8-pixel
cell); tipg's carries the first 10,000 incidents one by one and leaves the rest out.
Prints requests/s, p50 and p99 of each, and gridgis/tipg ratios (target: gridgis at most
as slow, p50 and p99 ratios <= 1.0). gridgis checks a police officer's token, masks and
audits every read of incidents (they may hold personal details); tipg does none of it,
and reads as the database role gridgis gives desktop GIS (gridgis_gis_reader), from its
view gis.incidents (the incidents without their personal field).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import morecantile
import sqlalchemy as sa

from tests.bench.bench_auth import wrk
from tests.bench.scratch import bench_token, scratch_database
from tests.browser import free_port

TIPG = "tipg==1.6.1"
MORE_INCIDENTS = sa.text("""
    INSERT INTO incidents (category, occurred_at, status, source, geom)
    SELECT i.category, i.occurred_at - random() * interval '365 days', i.status, i.source,
           ST_Translate(i.geom, (random() - 0.5) * 300, (random() - 0.5) * 300)
    FROM incidents i, generate_series(1, :copies) AS k
    LIMIT :n""")


def tipg_python(work: Path) -> Path:
    venv = work / "tipg-venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", TIPG, "uvicorn"],
                       check=True, stderr=subprocess.DEVNULL)
    return venv / "bin" / "python"


def densest_tile(db, zoom: int) -> morecantile.Tile:
    tms = morecantile.tms.get("WebMercatorQuad")
    with db.engine.connect() as conn:
        lon, lat = conn.execute(sa.text("""
            SELECT ST_X(c), ST_Y(c) FROM (
                SELECT ST_Transform(ST_Centroid(ST_Collect(geom)), 4326) AS c, count(*) AS n
                FROM incidents GROUP BY ST_SnapToGrid(ST_Transform(geom, 3857), :cell)
                ORDER BY n DESC LIMIT 1) d"""),
            {"cell": 2 * 20037508.34 / 2 ** zoom}).one()
    return tms.tile(lon, lat, zoom)


def serve(command: list[str], env: dict[str, str], port: int, work: Path, probe: str,
          headers: dict[str, str]) -> subprocess.Popen:
    log = work / f"{Path(command[0]).name}-{port}.log"
    server = subprocess.Popen(command, env=env, cwd=work, stdout=subprocess.DEVNULL,
                              stderr=log.open("w"))
    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", headers=headers,
                         timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    try:
        listed = httpx.get(f"http://127.0.0.1:{port}/collections", headers=headers,
                           timeout=5).text[:2000]
    except httpx.HTTPError as exc:
        listed = str(exc)
    server.kill()
    raise SystemExit(f"{' '.join(command)} did not answer {probe}:\n"
                     f"{log.read_text()[-3000:]}\n/collections: {listed}")


def main() -> None:
    from gridgis.gis.db_roles import role_password
    from gridgis.gis.demo import build_demo

    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    # tipg's settings take a URL with a host: the cluster listens on TCP as well
    with scratch_database(tcp_port=free_port()) as (cluster, db, work):
        build_demo(db)
        with db.engine.begin() as conn:
            have = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
            conn.execute(MORE_INCIDENTS, {"n": args.incidents,
                                          "copies": args.incidents // have + 1})
            conn.execute(sa.text("ANALYZE incidents"))
            total = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
        tile = densest_tile(db, 14)
        token = bench_token(db, "police")
        python = tipg_python(work)
        ours = {"GRIDGIS_DATABASE_URL": cluster.url()}
        signed_in = {"Authorization": f"Bearer {token}"}
        servers = {
            "gridgis": ([sys.executable, "-m", "gridgis", "serve"], "incidents", ours,
                        signed_in, ("items", "tile")),
            "gridgis-cold": ([sys.executable, "-m", "gridgis", "serve"], "incidents",
                             {**ours, "GRIDGIS_API_VECTOR_TILE_CACHE_MB": "0"}, signed_in,
                             ("tile",)),
            "tipg": ([str(python), "-m", "uvicorn", "tipg.main:app", "--workers", "1"],
                     "gis.incidents",
                     {"DATABASE_URL": cluster.tcp_uri("gridgis_gis_reader", role_password(
                         db.engine, "gis-reader", work / "secrets", reset=True)),
                      "TIPG_DB_SCHEMAS": '["gis"]'}, {}, ("items", "tile"))}
        figures: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
        for round_ in range(args.rounds):
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            for name in order:
                command, collection, extra, headers, labels = servers[name]
                port = free_port()
                server = serve([*command, "--port", str(port)], {**os.environ, **extra},
                               port, work, f"/collections/{collection}", headers)
                base = f"http://127.0.0.1:{port}"
                token_arg = token if name.startswith("gridgis") else None
                try:
                    routes = {
                        "items": f"/collections/{collection}/items?limit=1000",
                        "tile": f"/collections/{collection}/tiles/WebMercatorQuad/"
                                f"{tile.z}/{tile.x}/{tile.y}"}
                    for label in labels:
                        route = routes[label]
                        wrk(base, route, token_arg, 3, work)  # warm-up
                        figures.setdefault((name, label), []).append(
                            wrk(base, route, token_arg, args.seconds, work))
                finally:
                    server.terminate()
                    server.wait(30)
        print(f"demo district + {args.incidents:,} incidents ({total:,} in all); densest z14 "
              f"tile {tile.z}/{tile.x}/{tile.y}; wrk 2 threads, 32 connections, "
              f"{args.seconds:.0f} s x {args.rounds} rounds, one uvicorn worker each")
        for label in ("items", "tile"):
            rows = {name: figures[(name, label)] for name in servers
                    if (name, label) in figures}
            best = {name: (max(r[0] for r in runs), min(r[1] for r in runs),
                           min(r[2] for r in runs), sum(r[3] for r in runs))
                    for name, runs in rows.items()}
            for name, (rate, p50, p99, errors) in best.items():
                print(f"  {label:5} {name:8} {rate:8.1f} req/s  p50 {p50:8.1f} ms  "
                      f"p99 {p99:8.1f} ms  errors {errors}")
            theirs = best["tipg"]
            for name in (n for n in best if n != "tipg"):
                ours = best[name]
                print(f"  {label:5} {name}/tipg: p50 {ours[1] / theirs[1]:.2f}, p99 "
                      f"{ours[2] / theirs[2]:.2f}, throughput {ours[0] / theirs[0]:.2f} "
                      "(target: latency ratios <= 1.0)")


if __name__ == "__main__":
    main()
