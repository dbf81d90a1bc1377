"""Import benchmark (issue #2): bulk import with grid linking against a bare COPY.

    .venv/bin/python tests/bench/bench_import.py [--grids 10000] [--points 1000000] [--naive]

Builds a throw-away embedded cluster, imports 10,000 irregular (Voronoi) grid polygons,
generates 1,000,000 incident points as a lon/lat CSV, then measures in the same run:

  (a) baseline: a bare COPY of the same points, already in the database's format (hex
      EWKB in the deployment CRS), into the incidents table with the linking trigger
      disabled — the floor for getting the rows in with the same indexes;
  (b) ``gridgis import incidents points.csv`` end to end in a separate process (parse,
      validate, reproject, link, COPY), with its peak memory;
  (c) a single point-to-grid lookup in the database (server-side mean over 10,000).
  --naive adds the orientation figure: COPY then ``UPDATE … FROM grids`` linking.

  (d) the same points as a GeoJSON FeatureCollection, a quarter and the whole: the
      import's peak memory, against json.loads of the whole file (the old reader).

Targets: (b) <= 1.5 x (a); peak memory of (b) <= 1.5 GB; (c) <= 1 ms; (d) the peak
memory flat in the file's size.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import Database, migrate
from tests.bench.scratch import (
    SIDE,
    SRID,
    X0,
    Y0,
    make_points,
    scratch_database,
    voronoi_grids,
    write_grids_geojson,
)


def peak_rss_mb(pid: int, proc: subprocess.Popen) -> float:
    import psutil

    peak = 0
    process = psutil.Process(pid)
    while proc.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    return peak / 2**20


def timed_import(gridgis: list[str], path: Path, env: dict) -> tuple[float, float, str]:
    """``gridgis import incidents PATH`` in its own process: seconds, peak MB, output."""
    started = time.perf_counter()
    proc = subprocess.Popen([*gridgis, "import", "incidents", str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = peak_rss_mb(proc.pid, proc)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"import of {path.name} failed: {err.decode()}")
    return time.perf_counter() - started, peak, out.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()

    with scratch_database() as (cluster, db, work):
        run(cluster, db, work, args)


def run(cluster: EmbeddedCluster, db: Database, work: Path, args) -> None:
    url = cluster.url()
    migrate(db.engine, SRID)
    env = {**os.environ, "GRIDGIS_DATABASE_URL": url}
    gridgis = [sys.executable, "-m", "gridgis"]

    print(f"generating {args.grids} grids and {args.points} points …", flush=True)
    write_grids_geojson(voronoi_grids(args.grids, args.seed), work / "grids.geojson")
    started = time.perf_counter()
    subprocess.run([*gridgis, "import", "grids", str(work / "grids.geojson")], env=env,
                   check=True, capture_output=True)
    print(f"grids imported in {time.perf_counter() - started:.1f} s")

    points = make_points(args.points, args.seed)
    lon, lat = Transformer.from_crs(SRID, 4326, always_xy=True).transform(points.x, points.y)
    csv_path = work / "points.csv"
    pd.DataFrame({"category": points.category,
                  "occurred_at": points.occurred_at.dt.strftime("%Y-%m-%dT%H:%M:%S"),
                  "lon": np.round(lon, 7), "lat": np.round(lat, 7)}).to_csv(csv_path,
                                                                           index=False)
    copy_path = work / "points.copy.csv"
    geoms = shapely.set_srid(shapely.points(points.x, points.y), SRID)
    pd.DataFrame({"category": points.category,
                  "occurred_at": points.occurred_at.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "geom": shapely.to_wkb(geoms, hex=True, include_srid=True)}).to_csv(
        copy_path, index=False, header=False)
    del points, geoms

    conninfo = cluster.conninfo()

    def bare_copy() -> float:
        with psycopg.connect(conninfo) as conn:
            conn.execute("TRUNCATE incidents")
            conn.commit()
            conn.execute("ALTER TABLE incidents DISABLE TRIGGER incidents_link")
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(
                    "COPY incidents (category, occurred_at, geom) FROM STDIN (FORMAT csv)"
            ) as copy, open(copy_path, "rb") as handle:
                while block := handle.read(1 << 20):
                    copy.write(block)
            conn.execute("ALTER TABLE incidents ENABLE TRIGGER incidents_link")
            conn.commit()
            return time.perf_counter() - started

    def gridgis_import() -> tuple[float, float]:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("TRUNCATE incidents")
            conn.execute("CHECKPOINT")
        elapsed, peak, out = timed_import(gridgis, csv_path, env)
        print("   ", out.strip().replace("\n", " "))
        return elapsed, peak

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    baseline_runs = [bare_copy() for _ in range(2)]
    import_runs = [gridgis_import() for _ in range(2)]
    baseline = min(baseline_runs)
    imported = min(t for t, _ in import_runs)
    peak = max(p for _, p in import_runs)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    with psycopg.connect(conninfo) as conn:
        linked, unassigned, wrong = conn.execute(
            "SELECT count(grid_id), count(*) - count(grid_id), "
            "count(*) FILTER (WHERE grid_id IS DISTINCT FROM gridgis_grid_at(geom)) "
            "FROM incidents").fetchone()
        server_ms = _server_lookup_ms(conn, 10_000)
        client = []
        rng = np.random.default_rng(1)
        for x, y in zip(rng.uniform(X0, X0 + SIDE, 1000), rng.uniform(Y0, Y0 + SIDE, 1000),
                        strict=True):
            t = time.perf_counter()
            conn.execute("SELECT gridgis_grid_at(ST_SetSRID(ST_MakePoint(%s, %s), %s))",
                         (x, y, SRID)).fetchone()
            client.append(time.perf_counter() - t)

    naive = None
    if args.naive:
        bare_copy()
        with psycopg.connect(conninfo) as conn:
            conn.execute("ALTER TABLE incidents DISABLE TRIGGER incidents_link")
            started = time.perf_counter()
            conn.execute("""
                UPDATE incidents i SET grid_id = g.id FROM grids g
                WHERE ST_Contains(g.geom, i.geom)""")
            conn.commit()
            naive = baseline + time.perf_counter() - started

    print()
    print(f"points: {args.points:,}   grids: {args.grids:,}   "
          f"linked: {linked:,}   outside every grid: {unassigned:,}   mislinked: {wrong}")
    print(f"(a) bare COPY, no linking          {baseline:7.2f} s   (runs: "
          + ", ".join(f"{t:.2f}" for t in baseline_runs) + ")")
    print(f"(b) gridgis import with linking    {imported:7.2f} s   ratio b/a = "
          f"{imported / baseline:.2f}   (target <= 1.5; runs: "
          + ", ".join(f"{t:.2f}" for t, _ in import_runs) + ")")
    if naive is not None:
        print(f"    naive COPY + UPDATE … ST_Contains {naive:7.2f} s   ratio = "
              f"{naive / baseline:.2f}")
    print(f"    peak memory of the import       {peak:7.0f} MB  (target <= 1536 MB; "
          f"ru_maxrss of children {children:.0f} MB)")
    print(f"(c) point-to-grid lookup, server  {server_ms:8.3f} ms  (target <= 1 ms)")
    print(f"    same, client round trip        {np.median(client) * 1000:7.3f} ms median, "
          f"p99 {np.percentile(client, 99) * 1000:.3f} ms")
    geojson_memory(csv_path, work, gridgis, env, conninfo)


def geojson_memory(csv_path: Path, work: Path, gridgis: list[str], env: dict,
                   conninfo: str) -> None:
    """(d) the same points as a GeoJSON FeatureCollection, whole and a quarter of it:
    the import's peak memory must not grow with the file (issue #12), against reading
    the whole document with json.loads (what the reader did before) in the same run."""
    frame = pd.read_csv(csv_path)
    sizes = {"quarter": len(frame) // 4, "whole": len(frame)}
    print()
    for label, n in sizes.items():
        path = work / f"points-{label}.geojson"
        with path.open("w") as out:
            out.write('{"type": "FeatureCollection", "features": [\n')
            rows = frame.iloc[:n].itertuples(index=False)
            out.write(",\n".join(
                f'{{"type": "Feature", "properties": {{"category": "{r.category}", '
                f'"occurred_at": "{r.occurred_at}"}}, "geometry": {{"type": "Point", '
                f'"coordinates": [{r.lon}, {r.lat}]}}}}' for r in rows))
            out.write("\n]}\n")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("TRUNCATE incidents")
        elapsed, peak, _ = timed_import(gridgis, path, env)
        loads = subprocess.Popen([sys.executable, "-c",
                                  f"import json; json.loads(open({str(path)!r}, 'rb').read())"])
        whole = peak_rss_mb(loads.pid, loads)
        print(f"(d) GeoJSON, {n:,} features ({path.stat().st_size / 2**20:.0f} MB): import "
              f"{elapsed:.1f} s, peak memory {peak:.0f} MB; json.loads of the whole file "
              f"alone (the old reader's first step) {whole:.0f} MB")


def _server_lookup_ms(conn: psycopg.Connection, n: int) -> float:
    """Mean time of one gridgis_grid_at call, timed inside the server."""
    start = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    conn.execute(f"""
        SELECT count(gridgis_grid_at(ST_SetSRID(ST_MakePoint({X0} + random() * {SIDE},
                                                             {Y0} + random() * {SIDE}),
                                                {SRID})))
        FROM generate_series(1, {n})""").fetchone()
    end = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    return (end - start).total_seconds() * 1000 / n


if __name__ == "__main__":
    main()
