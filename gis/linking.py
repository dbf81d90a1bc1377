"""Grid linking outside the database, for bulk writers.

The database links every located row itself (``gridgis_link`` trigger, see
``sql/schema_0001.sql``). A bulk importer may instead compute ``grid_id`` here and set
``gridgis.trusted_grid_id`` for its transaction; this class applies the same rule:
the published grids whose closed polygon contains the point, smallest code first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db import require_id
from .errors import NotFound

PUBLISHED_GRIDS_SQL = sa.text("SELECT id, code, ST_AsBinary(geom) AS wkb FROM published_grids")
# The districts incidents are partitioned by (migration 0021), by the same rule.
DISTRICTS_SQL = sa.text("SELECT id, code, ST_AsBinary(geom) AS wkb FROM areas "
                        "WHERE level = 'district'")


@dataclass
class GridIndex:
    ids: np.ndarray  # int64, ordered by the boundary rule (code, then id)
    tree: shapely.STRtree

    @classmethod
    def from_grids(cls, ids, codes, geoms) -> GridIndex:
        order = np.lexsort((np.asarray(ids), np.asarray(codes, dtype=object).astype(str)))
        geoms = np.asarray(geoms, dtype=object)[order]
        shapely.prepare(geoms)
        return cls(np.asarray(ids, dtype=np.int64)[order], shapely.STRtree(geoms))

    @classmethod
    def load(cls, conn: Connection, query: sa.TextClause = PUBLISHED_GRIDS_SQL) -> GridIndex:
        rows = conn.execute(query).all()
        return cls.from_grids([r.id for r in rows], [r.code for r in rows],
                              shapely.from_wkb([bytes(r.wkb) for r in rows]))

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, points: np.ndarray) -> np.ndarray:
        """The grid id of each point, or -1 for a point outside every grid."""
        result = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0 or len(self.ids) == 0:
            return result
        point_idx, grid_rank = self.tree.query(points, predicate="intersects")
        if len(point_idx) == 0:
            return result
        # The tree's item index is the rank in rule order: keep the smallest per point.
        order = np.lexsort((grid_rank, point_idx))
        point_idx, grid_rank = point_idx[order], grid_rank[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = self.ids[grid_rank[first]]
        return result


# The located tables, in the order the database relinks them.
LINKED_TABLES = ("buildings", "households", "people", "places", "things", "organisations",
                 "incidents")
Progress = Callable[[str], None]  # told each table as it is done
RELINK_TABLE_SQL = sa.text("""
    SELECT gridgis_relink_table(:t, ST_SetSRID(ST_GeomFromWKB(:wkb),
                                (SELECT value::int FROM gridgis_meta WHERE key = 'srid')))""")


class TimeLimit:
    """A budget for a run of statements in one transaction: before each, the statement
    timeout is set to what is left, so that the whole run, not each statement, is
    bounded (PostgreSQL cancels the statement that overruns; the caller rolls back)."""

    def __init__(self, conn: Connection, limit_ms: int | None) -> None:
        self.conn = conn
        self.deadline = None if limit_ms is None else time.monotonic() + limit_ms / 1000

    def next_statement(self) -> None:
        if self.deadline is None:
            return
        left_ms = max(1, int((self.deadline - time.monotonic()) * 1000))
        self.conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"),
                          {"ms": str(left_ms)})


def relink(conn: Connection, area_wkb: bytes | None = None,
           progress: Progress | None = None, time_limit_ms: int | None = None) -> int:
    """Re-link every located entity (or those intersecting an area, in the deployment
    CRS) in the caller's transaction, a table at a time, within ``time_limit_ms`` in all
    when given. Returns how many entities changed grid."""
    limit = TimeLimit(conn, time_limit_ms)
    changed = 0
    for table in LINKED_TABLES:
        limit.next_statement()
        changed += int(conn.execute(RELINK_TABLE_SQL, {"t": table, "wkb": area_wkb})
                       .scalar_one())
        if progress:
            progress(table)
    return changed


def publish_plan(conn: Connection, plan_id: int, progress: Progress | None = None,
                 time_limit_ms: int | None = None) -> int:
    """Retire the published plan, publish ``plan_id`` and relink everything to its grids,
    in the caller's transaction (within ``time_limit_ms`` in all when given). Returns how
    many entities changed grid."""
    started = time.monotonic()
    require_id(plan_id, "grid plan")
    if conn.execute(sa.text("SELECT 1 FROM grid_plans WHERE id = :p"),
                    {"p": plan_id}).first() is None:
        raise NotFound(f"no grid plan with id {plan_id}")
    TimeLimit(conn, time_limit_ms).next_statement()
    conn.execute(sa.text("SELECT gridgis_switch_plan(:p)"), {"p": plan_id})
    left = None if time_limit_ms is None else \
        time_limit_ms - int((time.monotonic() - started) * 1000)
    return relink(conn, progress=progress, time_limit_ms=left)


def unassigned_counts(conn: Connection, tables: tuple[str, ...] = LINKED_TABLES
                      ) -> dict[str, int]:
    """Rows outside every published grid, per located table."""
    counts = {}
    for table in tables:
        if table not in LINKED_TABLES:
            raise ValueError(f"{table} is not a located table")
        counts[table] = int(conn.execute(sa.select(sa.func.count()).select_from(
            sa.table(table, sa.column("grid_id"))).where(sa.column("grid_id").is_(None)))
            .scalar_one())
    return counts
