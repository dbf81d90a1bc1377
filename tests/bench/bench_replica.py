"""Read replica benchmark (issue #14 §3): what runs where when the service has a
streaming replica, and what it costs.

    .venv/bin/python tests/bench/bench_replica.py [--seconds 10] [--rounds 3]

Builds the demo district in a throw-away embedded cluster (the primary), copies it into
a second cluster that streams the primary's changes (a hot standby, made with
pg_basebackup), and serves it with `gridgis serve` twice, both the same code:
  - primary only (the baseline);
  - with GRIDGIS_REPLICA_URL naming the standby.
In each, `wrk` (2 threads, 32 connections) asks /stats/grids (read from the database on
every request: nothing keeps it) while 4 writers create incidents through the API; then
/maps/grids with a writer (every write changes the data, so pages are rebuilt). Printed:
reads/s and their p50/p99, writes/s and their p50/p99, the rows each server read
(pg_stat_database: where the reads ran), the replica's replay lag, and how many reads
the replica could not take (it was behind by more than GRIDGIS_REPLICA_WAIT_S).

Both servers share this machine's cores, so the figures show the placement and the
price of the read-your-writes wait, not the relief a replica on its own machine gives.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg

from tests.bench.bench_auth import wrk
from tests.bench.bench_service import start
from tests.bench.scratch import bench_token, scratch_database
from tests.faults import Writers

WRITERS = 4
ROUTES = ("/stats/grids", "/maps/grids")
ROWS_READ = "SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = 'gridgis'"


def rows_read(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(ROWS_READ).fetchone()[0]


def max_lag_ms(primary: str, stop: threading.Event, seen: list[float]) -> None:
    """Sample the standby's replay lag (bytes behind, as milliseconds of the primary's
    clock reported by pg_stat_replication) until stopped."""
    with psycopg.connect(primary, autocommit=True) as conn:
        while not stop.is_set():
            lag = conn.execute("SELECT extract(epoch FROM replay_lag) * 1000 "
                               "FROM pg_stat_replication").fetchone()
            if lag and lag[0] is not None:
                seen.append(float(lag[0]))
            time.sleep(0.05)


def measure(base: str, route: str, tokens: dict[str, str], seconds: float, work: Path,
            servers: dict[str, str]) -> dict:
    wrk(base, route, tokens["police"], 2, work, ["Accept-Encoding: gzip"])  # warm-up
    before = {name: rows_read(info) for name, info in servers.items()}
    lags: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=max_lag_ms, args=(servers["primary"], stop, lags))
    sampler.start()
    with Writers(base, "bench-replica", tokens["admin"], WRITERS) as writers:
        rate, p50, p99, errors = wrk(base, route, tokens["police"], seconds, work,
                                     ["Accept-Encoding: gzip"])
    stop.set()
    sampler.join()
    failed = sum(n for status, n in writers.statuses.items() if status != 201)
    if errors or failed:
        raise SystemExit(f"{route}: {errors} reads and {failed} writes failed")
    after = {name: rows_read(info) for name, info in servers.items()}
    writes = sorted(writers.seconds)
    return {"reads/s": rate, "read p50": p50, "read p99": p99,
            "writes/s": len(writes) / seconds,
            "write p50": statistics.median(writes) * 1000,
            "write p99": writes[int(0.99 * (len(writes) - 1))] * 1000,
            "rows": {name: after[name] - before[name] for name in servers},
            "lag": max(lags, default=0.0)}


def median_round(runs: list[dict]) -> dict:
    """Each figure's median over the rounds."""
    figures = {key: statistics.median(run[key] for run in runs)
               for key in runs[0] if key != "rows"}
    figures["rows"] = {name: int(statistics.median(run["rows"][name] for run in runs))
                       for name in runs[0]["rows"]}
    return figures


def main() -> None:
    from gridgis.gis.demo import build_demo

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt install wrk")
    with scratch_database() as (primary, db, work):
        build_demo(db)
        tokens = {role: bench_token(db, role) for role in ("police", "admin")}
        replica = primary.make_replica(work / "replica")
        try:
            servers = {"primary": primary.conninfo(), "replica": replica.conninfo()}
            env = {**os.environ, "GRIDGIS_DATABASE_URL": primary.url()}
            setups = {"primary only": env,
                      "with replica": {**env, "GRIDGIS_REPLICA_URL": replica.url()}}
            rounds: dict[tuple[str, str], list[dict]] = {}
            passed_over = dict.fromkeys(setups, 0)
            for turn in range(args.rounds):  # the setups take turns: the machine drifts
                for name, setup_env in setups.items():
                    log = work / f"serve-{name.replace(' ', '-')}-{turn}.log"
                    server, base = start([sys.executable, "-m", "gridgis", "serve"],
                                         setup_env, work, log)
                    try:
                        for route in ROUTES:
                            rounds.setdefault((name, route), []).append(
                                measure(base, route, tokens, args.seconds, work,
                                        servers))
                    finally:
                        server.terminate()
                        server.wait(30)
                    passed_over[name] += log.read_text().count("reading from the primary")
            results = {key: median_round(runs) for key, runs in rounds.items()}
        finally:
            replica.stop()
    print(f"demo district; wrk 2 threads, 32 connections, {args.seconds:.0f} s per route, "
          f"{WRITERS} writers beside it; medians of {args.rounds} rounds; "
          f"{os.cpu_count()} cores shared by both servers")
    print(f"{'route':14} {'setup':13} {'reads/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'x base':>7} {'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'rows read: primary':>19} {'replica':>10} {'max lag ms':>11}")
    for route in ROUTES:
        base_rate = results["primary only", route]["reads/s"]
        for name in setups:
            r = results[name, route]
            print(f"{route:14} {name:13} {r['reads/s']:8.0f} {r['read p50']:7.1f} "
                  f"{r['read p99']:7.1f} {r['reads/s'] / base_rate:6.2f}x "
                  f"{r['writes/s']:9.1f} {r['write p50']:7.1f} {r['write p99']:7.1f} "
                  f"{r['rows']['primary']:19,} {r['rows']['replica']:10,} "
                  f"{r['lag']:11.1f}")
    for name, count in passed_over.items():
        print(f"{name}: {count} reads went to the primary because the replica was behind")


if __name__ == "__main__":
    main()
