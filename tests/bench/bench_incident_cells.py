"""Incident cells benchmark (issue #14 §2): what keeping incidents per 64 m cell and
category in the database (migration 0022) costs writers and gains the map tiles, in the
same run and the same database.

    .venv/bin/python tests/bench/bench_incident_cells.py [--incidents 1000000] [--rounds 2]

One throw-away embedded cluster with four districts, 400 published grids and
``--incidents`` incidents over five years (deterministic, as bench_partitions.py makes
them). Writes, each timed with the cells' triggers disabled (the baseline: the schema
before 0022) and enabled, on the same rows, best of ``--rounds``:
  - load: the incidents inserted in one statement;
  - relink: every incident given its grid (one UPDATE of every row: the largest
    statement the triggers see, whose transition tables hold every row twice);
  - a tenth of the incidents moved by 100 m, a tenth given another category, a tenth
    deleted;
  - the merge of the load's deltas (after an import) and the check that cells and
    incidents agree (at every start).
Reads: every incident tile of the area at zooms 11 and 12, each made once through the
service, clustered from the rows (a period from 1900, which the cells may not answer)
and from the cells.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.api.settings import Settings
from gridgis.gis.db import Database, migrate
from gridgis.gis.incident_cells import disagreeing_categories, tend_incident_cells
from gridgis.gis.partitions import place_incidents
from tests.bench.bench_city import incident_tiles
from tests.bench.bench_partitions import HALF, INCIDENTS_SQL, add_districts_and_grids
from tests.bench.scratch import SRID, X0, Y0, bench_token, scratch_database
from tests.browser import live_server

TRIGGERS = ("incidents_cells_insert", "incidents_cells_update", "incidents_cells_delete")
QUADRANT = (f"'D' || ((ST_X(p.geom) >= {X0 + HALF})::int "
            f"+ 2 * (ST_Y(p.geom) >= {Y0 + HALF})::int)")
LOAD_SQL = INCIDENTS_SQL.format(
    district_column=", district_id",
    district_value=f", (SELECT id FROM areas WHERE code = {QUADRANT})")


def timed(db: Database, sql: str, params: dict | None = None, trusted: bool = False) -> float:
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        if trusted:
            conn.execute(sa.text("SET LOCAL gridgis.trusted_grid_id = on"))
        conn.execute(sa.text(sql), params or {})
    return time.perf_counter() - started


def setup(db: Database) -> None:
    migrate(db.engine, SRID)
    add_districts_and_grids(db)
    with db.engine.begin() as conn:
        place_incidents(conn)


def writes(db: Database, n: int, cells: bool) -> dict[str, float]:
    with db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE incidents"))  # its trigger empties incident_keys
        for trigger in TRIGGERS:
            conn.execute(sa.text(f"ALTER TABLE incidents {'ENABLE' if cells else 'DISABLE'} "
                                 f"TRIGGER {trigger}"))
    figures = {"load": timed(db, LOAD_SQL, {"n": n}, trusted=True),
               "relink (every row updated)": timed(db, "SELECT gridgis_relink(NULL)")}
    if cells:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            tend_incident_cells(conn)
        figures["merge the load's deltas, check"] = time.perf_counter() - started
        started = time.perf_counter()
        with db.engine.connect() as conn:
            assert disagreeing_categories(conn) == []
        figures["check at a start"] = time.perf_counter() - started
    figures["move a tenth by 100 m"] = timed(
        db, "UPDATE incidents SET geom = ST_Translate(geom, 100, 0) WHERE id % 10 = 1")
    figures["recategorise a tenth"] = timed(
        db, "UPDATE incidents SET category = 'fire' WHERE id % 10 = 2")
    figures["delete a tenth"] = timed(db, "DELETE FROM incidents WHERE id % 10 = 3")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[bool, dict[str, float]] = {False: {}, True: {}}
    with scratch_database("gridgis-bench-cells-", pool_size=4) as (_, db, _work):
        setup(db)
        for round_ in range(args.rounds):
            for cells in (False, True):
                print(f"round {round_ + 1}: writes with the cells' triggers "
                      f"{'on' if cells else 'off'}", flush=True)
                for key, seconds in writes(db, args.incidents, cells).items():
                    results[cells][key] = min(seconds, results[cells].get(key, seconds))
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("VACUUM ANALYZE"))
            extent = tuple(conn.execute(sa.text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                "ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, :s), 4326) AS b "
                "FROM incidents) e"), {"s": SRID}).one())
            kept = conn.execute(sa.text("SELECT count(*) FROM incident_cells")).scalar_one()
            rows = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
        token = bench_token(db)
        tiles = {}
        with live_server(create_app(Settings(), database=db)) as base:
            for zoom in (11, 12):
                tiles[zoom] = incident_tiles(base, token, extent, zoom)
    print(f"\n{args.incidents:,} incidents loaded, 4 districts, 400 grids; best of "
          f"{args.rounds}\n")
    print(f"{'write':34} {'no cells (before 0022)':>23} {'cells kept':>11} {'ratio':>7}")
    for key, new in results[True].items():
        base = results[False].get(key)
        if base is None:
            print(f"{key:34} {'':>21}   {new:>9.2f} s")
        else:
            print(f"{key:34} {base:>21.2f} s {new:>9.2f} s {new / base:>7.2f}")
    print(f"\n{rows:,} incidents in {kept:,} cells")
    for zoom, (from_rows, from_cells) in tiles.items():
        print(f"every incident tile at zoom {zoom}: from the rows {from_rows:.2f} s, from "
              f"the cells {from_cells:.2f} s: {from_rows / from_cells:.1f} x faster")


if __name__ == "__main__":
    main()
