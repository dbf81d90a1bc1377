"""Where incidents are kept: partitions by district, then by calendar year (migration
0021). PostgreSQL routes each row to its partition; rows that no partition takes yet (a
new district, a year beyond the partitions made) wait in a default partition, are read
like any other, and are moved to their own partition here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
DISTRICT_PARTITIONED = ("incidents",)  # tables with a district_id partition key
PLACE_SQL = sa.text("SELECT gridgis_place_incidents(:redistrict)")
LAYOUT_SQL = sa.text("""
    WITH RECURSIVE tree AS (
        SELECT inhrelid AS oid FROM pg_inherits WHERE inhparent = 'incidents'::regclass
        UNION ALL
        SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,
           c.relkind = 'p' AS partitioned
    FROM tree t JOIN pg_class c ON c.oid = t.oid
    ORDER BY c.relname""")


@dataclass(frozen=True)
class IncidentPartition:
    name: str
    bound: str  # PostgreSQL's: FOR VALUES IN (…), FOR VALUES FROM (…) TO (…), DEFAULT
    partitioned: bool  # a district's, itself split by year


def place_incidents(conn: Connection, *, redistrict: bool = False) -> int:
    """Make the missing partitions (every district's, ten years back to next year, and
    every year a row waits in a default partition for) and move the waiting rows into
    them, in ``conn``'s transaction; with ``redistrict``, compute every incident's
    district again first (a repair: the database keeps districts as areas change).
    Returns the number of rows moved."""
    conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
    return int(conn.execute(PLACE_SQL, {"redistrict": redistrict}).scalar_one())


def place_waiting_incidents(engine: Engine) -> None:
    """``place_incidents`` as the service's start and the importer call it, after their
    own transaction: if it cannot have its locks (10 s) or fails, the rows stay where
    they are, read like any other, until the next start or import; it is logged."""
    try:
        with engine.begin() as conn:
            place_incidents(conn)
    except sa.exc.DBAPIError as exc:
        log.warning("incident partitions not made now (%s): rows wait in a default "
                    "partition until the next start or import",
                    type(exc.orig).__name__)


def rows_per_partition(conn: Connection) -> dict[str, int]:
    """The incidents in each partition that holds rows (a count: reads every row)."""
    return dict(conn.execute(sa.text(
        "SELECT tableoid::regclass::text, count(*) FROM incidents GROUP BY 1")).all())


def incident_partitions(conn: Connection) -> list[IncidentPartition]:
    return [IncidentPartition(r.name, r.bound, r.partitioned)
            for r in conn.execute(LAYOUT_SQL)]
