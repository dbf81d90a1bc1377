"""Grid linking outside the database, for bulk writers.

The database links every located row itself (``gridgis_link`` trigger, see
``sql/schema_0001.sql``). A bulk importer may instead compute ``grid_id`` here and set
``gridgis.trusted_grid_id`` for its transaction; this class applies the same rule:
the published grids whose closed polygon contains the point, smallest code first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

PUBLISHED_GRIDS_SQL = sa.text("""
    SELECT g.id, g.code, ST_AsBinary(g.geom) AS wkb
    FROM grids g JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
""")


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
    def load(cls, conn: Connection) -> GridIndex:
        rows = conn.execute(PUBLISHED_GRIDS_SQL).all()
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


def relink(conn: Connection, area_wkb: bytes | None = None) -> int:
    """Re-link every located entity (or those intersecting an area) in the caller's
    transaction. Returns how many entities changed grid."""
    if area_wkb is None:
        return int(conn.execute(sa.text("SELECT gridgis_relink(NULL)")).scalar_one())
    return int(conn.execute(sa.text(
        "SELECT gridgis_relink(ST_SetSRID(ST_GeomFromWKB(:wkb), "
        "(SELECT value::int FROM gridgis_meta WHERE key = 'srid')))"),
        {"wkb": area_wkb}).scalar_one())
