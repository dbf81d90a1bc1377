"""Durability under faults (issue #16), the long version of
tests/api/test_durability.py:

    .venv/bin/python tests/bench/bench_durability.py [--cycles 5] [--seconds 4]

32 clients create incidents over HTTP against a service on a throw-away embedded
cluster; every few seconds the database is stopped (``-m immediate``) or its postmaster
and backends are killed with SIGKILL, then restarted. At the end every row the writers
were answered 2xx for must be stored, and no row they were refused for (0 lost,
0 phantom). Prints the counts per cycle and in all.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from gridgis.gis.db import migrate
from tests.bench.scratch import bench_token, scratch_database
from tests.browser import live_server
from tests.faults import WRITERS, Writers, crash, stop_immediately


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    lost_all = phantom_all = acknowledged_all = 0
    with scratch_database(pool_size=8) as (cluster, db, _):
        migrate(db.engine, 32635)
        token = bench_token(db)
        with live_server(create_app(Settings(), database=db)) as base:
            for cycle in range(args.cycles):
                fault = (stop_immediately, crash)[cycle % 2]
                marker = uuid.uuid4().hex
                with Writers(base, marker, token) as writers:
                    time.sleep(args.seconds / 2)
                    fault(cluster)
                    time.sleep(1.0)
                    cluster.start(autostop=True)
                    time.sleep(args.seconds / 2)
                with db.engine.connect() as conn:
                    stored = set(conn.execute(sa.text(
                        "SELECT id FROM incidents WHERE description = :m"),
                        {"m": marker}).scalars())
                acknowledged = set(writers.acknowledged)
                lost, phantom = acknowledged - stored, stored - acknowledged
                lost_all += len(lost)
                phantom_all += len(phantom)
                acknowledged_all += len(acknowledged)
                print(f"cycle {cycle + 1} ({fault.__name__:16}) {WRITERS} writers: "
                      f"{len(acknowledged):5} acknowledged, {len(stored):5} stored, "
                      f"{len(lost)} lost, {len(phantom)} phantom; answers "
                      f"{dict(sorted(writers.statuses.items()))}")
    print(f"in all: {acknowledged_all} acknowledged writes, {lost_all} lost, "
          f"{phantom_all} phantom (target 0 and 0)")


if __name__ == "__main__":
    main()
