"""Partitioned incidents benchmark (issue #14 §3): what keeping incidents by district and
year (migration 0021) gains and costs, against the same incidents in one table (the
schema before it, 0020), in the same run and the same cluster.

    .venv/bin/python tests/bench/bench_partitions.py [--incidents 2000000] [--rounds 3]

Two databases of one throw-away embedded cluster: ``flat`` at revision 0020 (the
baseline) and ``parted`` at the newest. Both get the same four districts (quadrants of a
12 km square), 400 published grids and the same incidents over five years (2021-2025,
spread evenly in time and space, deterministic, each with an external id), then:
  - load: the incidents inserted in one statement (their district found by arithmetic:
    the importer locates it in Python beforehand), then relinked to their grids
    (``gridgis_relink``);
  - reads through the service's own query (``hotspot_incidents.sql``, as every analysis
    reads): the last 30 days, the last year, all five years;
  - one district's year (a province-wide database; ``district_id`` against the
    baseline's ``ST_Intersects`` with the district);
  - 2,000 lookups by id (GET /incidents/{id});
  - archiving the oldest year (DELETE, then VACUUM, against detaching its partitions).
Reads are the median of ``--rounds`` runs; the ratio is baseline / partitioned (above 1:
partitioned is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg
import sqlalchemy as sa
from alembic import command

from gridgis.gis.db import Database, _alembic_config, create_db_engine, ensure_postgis, migrate
from gridgis.gis.partitions import place_incidents
from gridgis.gis.services import hotspot_inputs as inputs
from tests.bench.scratch import SIDE, SRID, X0, Y0, scratch_database, voronoi_grids

START, END = datetime(2021, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
HALF = SIDE / 2

DISTRICTS_SQL = f"""
    INSERT INTO areas (level, code, name, geom)
    SELECT 'district', 'D' || q, 'district ' || q,
           ST_Multi(ST_MakeEnvelope({X0} + (q % 2) * {HALF}, {Y0} + (q / 2) * {HALF},
                                    {X0} + (q % 2 + 1) * {HALF}, {Y0} + (q / 2 + 1) * {HALF},
                                    {SRID}))
    FROM generate_series(0, 3) q"""

# Deterministic and identical in both databases: evenly spread in time, scattered in
# space by two coprime strides (a low-discrepancy lattice, no random state to share).
INCIDENTS_SQL = f"""
    INSERT INTO incidents (category, occurred_at, status, external_id,
                           geom{{district_column}})
    SELECT (ARRAY['property_crime', 'violent_crime', 'dispute', 'traffic'])[1 + i % 4],
           timestamptz '{START.isoformat()}'
               + (i::float8 / :n) * (timestamptz '{END.isoformat()}'
                                     - timestamptz '{START.isoformat()}'),
           'closed', 'CASE-' || i, p.geom{{district_value}}
    FROM generate_series(0::bigint, :n - 1) i,
    LATERAL (SELECT ST_SetSRID(ST_MakePoint(
                 {X0} + {SIDE} * ((i * 7919) % 100003) / 100003.0,
                 {Y0} + {SIDE} * ((i * 104729) % 99991) / 99991.0), {SRID}) AS geom) p"""


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_time(action, rounds: int) -> float:
    return statistics.median(timed(action) for _ in range(rounds))


def add_districts_and_grids(db: Database) -> None:
    """Four districts (quadrants of the square) and 400 published grids."""
    with db.engine.begin() as conn:
        conn.execute(sa.text(DISTRICTS_SQL))
        plan = conn.execute(sa.text("INSERT INTO grid_plans (name, state) VALUES "
                                    "('bench', 'published') RETURNING id")).scalar_one()
        for i, cell in enumerate(voronoi_grids(400, seed=7)):
            conn.execute(sa.text("INSERT INTO grids (plan_id, code, geom) VALUES "
                                 "(:p, :c, ST_Multi(ST_GeomFromText(:w, :s)))"),
                         {"p": plan, "c": f"G{i:04d}", "w": cell.wkt, "s": SRID})


def build(db: Database, n: int, partitioned: bool) -> dict[str, float]:
    figures = {}
    add_districts_and_grids(db)
    if partitioned:
        with db.engine.begin() as conn:
            place_incidents(conn)
    # The importer locates districts in Python (0.5 s a million points): here, the
    # quadrant by arithmetic, so that the load measures storing, not locating.
    quadrant = (f"'D' || ((ST_X(p.geom) >= {X0 + HALF})::int "
                f"+ 2 * (ST_Y(p.geom) >= {Y0 + HALF})::int)")
    sql = INCIDENTS_SQL.format(
        district_column=", district_id" if partitioned else "",
        district_value=f", (SELECT id FROM areas WHERE code = {quadrant})"
        if partitioned else "")

    def load() -> None:
        with db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL gridgis.trusted_grid_id = on"))
            conn.execute(sa.text(sql), {"n": n})

    def relink() -> None:
        with db.engine.begin() as conn:
            conn.execute(sa.text("SELECT gridgis_relink(NULL)"))

    figures["load"] = timed(load)
    figures["relink"] = timed(relink)
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("VACUUM ANALYZE incidents"))
    return figures


def reads(db: Database, rounds: int, partitioned: bool) -> dict[str, float]:
    figures = {}
    periods = {"read last 30 days": datetime(2025, 12, 2, tzinfo=UTC),
               "read last year": datetime(2025, 1, 1, tzinfo=UTC), "read five years": None}
    for name, start in periods.items():
        def read(start=start) -> None:
            with db.engine.connect() as conn:
                inputs.incidents(conn, SRID, inputs.Selection(start=start, end=END))
        figures[name] = median_time(read, rounds)
    district = ("SELECT count(*), sum(ST_X(geom)) FROM incidents WHERE district_id = "
                "(SELECT id FROM areas WHERE code = 'D2')" if partitioned else
                "SELECT count(*), sum(ST_X(i.geom)) FROM incidents i JOIN areas a "
                "ON a.code = 'D2' AND ST_Intersects(a.geom, i.geom)")
    district += " AND occurred_at >= '2024-01-01' AND occurred_at < '2025-01-01'" \
        if partitioned else " WHERE i.occurred_at >= '2024-01-01' " \
        "AND i.occurred_at < '2025-01-01'"

    def one_district() -> None:
        with db.engine.connect() as conn:
            conn.execute(sa.text(district)).one()
    figures["one district's year"] = median_time(one_district, rounds)
    with db.engine.connect() as conn:
        top = conn.execute(sa.text("SELECT max(id) FROM incidents")).scalar_one()
    ids = [1 + (i * 7919) % top for i in range(2000)]

    def lookups() -> None:
        with db.engine.connect() as conn:
            for i in ids:
                conn.execute(sa.text("SELECT * FROM incidents WHERE id = :i"), {"i": i}).first()
    figures["2,000 lookups by id"] = median_time(lookups, rounds)
    return figures


def archive(db: Database, url: str, partitioned: bool) -> float:
    """Remove 2021 (a fifth of the rows) and leave the table ready for use."""
    started = time.perf_counter()
    if partitioned:
        with db.engine.begin() as conn:
            parts = conn.execute(sa.text(
                "SELECT c.relname, p.relname FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
                "WHERE c.relname LIKE 'incidents_d%_2021'")).all()
            for part, parent in parts:
                conn.execute(sa.text(f"ALTER TABLE {parent} DETACH PARTITION {part}"))
                conn.execute(sa.text(f"DROP TABLE {part}"))
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM incidents WHERE occurred_at < '2022-01-01'"))
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                             autocommit=True) as raw:
            raw.execute("VACUUM incidents")
    return time.perf_counter() - started


def size_mb(db: Database) -> float:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT sum(pg_total_relation_size(c.oid)) / 1e6 FROM pg_class c "
            "WHERE (c.relname LIKE 'incidents%' OR c.relname = 'incident_keys') "
            "AND c.relkind = 'r'")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with scratch_database("gridgis-bench-parts-", pool_size=2) as (cluster, parted, _work):
        with parted.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("CREATE DATABASE flat"))
        flat_url = cluster.url("flat")
        flat = Database(create_db_engine(flat_url, pool_size=2, statement_timeout_ms=0))
        ensure_postgis(flat.engine)
        with flat.engine.begin() as conn:
            command.upgrade(_alembic_config(conn, SRID), "0020")
        migrate(parted.engine, SRID)
        results: dict[str, dict[str, float]] = {"flat": {}, "parted": {}}
        for name, db in (("flat", flat), ("parted", parted)):
            print(f"building {name}: {args.incidents:,} incidents", flush=True)
            results[name].update(build(db, args.incidents, name == "parted"))
            results[name]["size MB"] = size_mb(db)
        for name, db in (("flat", flat), ("parted", parted)):
            results[name].update(reads(db, args.rounds, name == "parted"))
        for name, db in (("flat", flat), ("parted", parted)):
            url = cluster.url("flat" if name == "flat" else "gridgis")
            results[name]["archive 2021"] = archive(db, url, name == "parted")
        with parted.engine.connect() as conn:
            partitions = conn.execute(sa.text(
                "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE c.relkind IN ('r', 'p') AND c.relname LIKE 'incidents%'")).scalar_one()
        flat.engine.dispose()
    print(f"\n{args.incidents:,} incidents over 2021-2025, 4 districts, 400 grids; "
          f"partitioned: {partitions} partitions; "
          f"reads median of {args.rounds}\n")
    print(f"{'':24} {'one table (0020)':>17} {'partitioned':>12} {'ratio':>7}")
    for key in results["flat"]:
        base, new = results["flat"][key], results["parted"][key]
        unit = "" if key == "size MB" else " s"
        print(f"{key:24} {base:>15.2f}{unit:2} {new:>10.2f}{unit:2} {base / new:>7.2f}")


if __name__ == "__main__":
    main()
