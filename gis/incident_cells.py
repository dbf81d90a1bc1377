"""The upkeep of ``incident_cells`` (migration 0022: incidents per 64 m cell and
category, from which tiles cluster a city's incidents). The database keeps the cells
in every writer's statement, as deltas; here they are merged, and counted again from
the incidents if something went round the triggers (a partition detached or dropped
to archive a year: run ``SELECT gridgis_rebuild_incident_cells()`` after one, or they
are counted again at the next start)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

COMPACT_SQL = sa.text("SELECT gridgis_compact_incident_cells()")
REBUILD_SQL = sa.text("SELECT gridgis_rebuild_incident_cells()")
# The categories whose cells and incidents disagree: in number, or in the sums of their
# coordinates (rounding aside: floating sums of millions of metres).
DISAGREEING_SQL = sa.text("""
    WITH kept AS (SELECT category, sum(n)::bigint AS n, sum(sum_x) AS sx, sum(sum_y) AS sy
                  FROM incident_cells GROUP BY category HAVING sum(n) <> 0),
         held AS (SELECT category, count(*) AS n, sum(ST_X(geom)) AS sx,
                         sum(ST_Y(geom)) AS sy
                  FROM incidents GROUP BY category)
    SELECT coalesce(k.category, h.category) FROM kept k FULL JOIN held h USING (category)
    WHERE k.n IS DISTINCT FROM h.n
       OR abs(k.sx - h.sx) > 1e-9 * abs(h.sx) + 1e-3
       OR abs(k.sy - h.sy) > 1e-9 * abs(h.sy) + 1e-3""")


def disagreeing_categories(conn: Connection) -> list[str]:
    return list(conn.execute(DISAGREEING_SQL).scalars())


def tend_incident_cells(conn: Connection) -> bool:
    """Merge the cells' deltas, and count them again if they disagree with the
    incidents; True when they had to be counted again."""
    conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
    conn.execute(COMPACT_SQL)
    wrong = disagreeing_categories(conn)
    if wrong:
        log.warning("incident cells disagree with the incidents in %d categories "
                    "(a partition detached or written directly?): counted again", len(wrong))
        conn.execute(REBUILD_SQL)
    return bool(wrong)


def tend_incident_cells_quietly(engine: Engine) -> None:
    """``tend_incident_cells`` as the service's start and the importer call it, in a
    transaction of its own after theirs: a failure (its locks not had in 10 s) is
    logged, and tiles meanwhile count from cells that are merely less compact, or,
    after an archive, too many until the next start."""
    try:
        with engine.begin() as conn:
            tend_incident_cells(conn)
    except sa.exc.DBAPIError as exc:
        log.warning("incident cells not tended now (%s)", type(exc.orig).__name__)


def counted_incidents(conn: Connection, categories: tuple[str, ...] = ()) -> int:
    """How many incidents there are (of ``categories``; all when empty), from the cells:
    a city's two million are not counted row by row for a page's "N shown"."""
    return int(conn.execute(sa.text(
        "SELECT coalesce(sum(n), 0) FROM incident_cells "
        "WHERE CAST(:cats AS text[]) IS NULL OR category = ANY (CAST(:cats AS text[]))"),
        {"cats": list(categories) or None}).scalar_one())
