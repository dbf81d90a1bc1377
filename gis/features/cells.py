"""Incident clusters of a vector tile counted from ``incident_cells`` (migration 0022:
incidents per 64 m cell and category, kept by the database) instead of from every
incident, where the tile's selection allows it: everything, or some categories, read by
a user who reaches every incident (a scoped user's incidents are few and are clustered
from the rows). A period, a box or any other filter needs the rows themselves."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .items import FeatureRequest, FeatureSource

CELL_M = 64  # migration 0022's cell side, in the storage CRS's metres
CELLS = sa.table("incident_cells", sa.column("cell_x"), sa.column("cell_y"),
                 sa.column("category"), sa.column("n"), sa.column("sum_x"),
                 sa.column("sum_y"))


def cell_categories(features: FeatureSource, request: FeatureRequest | None
                    ) -> tuple[str, ...] | None:
    """The categories whose incidents a tile clusters, when ``incident_cells`` can
    answer (``()``: all of them); None when the rows themselves must be read."""
    if features.found.id != "incidents" or features.visible() \
            or features.found.where(features.table):
        return None
    if request is None:
        return ()
    if request.timed or request.bbox is not None or set(request.equals) - {"category"}:
        return None
    chosen = {request.equals["category"]} if "category" in request.equals else None
    if request.filter is not None:
        named = _categories_of(request.filter)
        if named is None:
            return None
        chosen = named if chosen is None else chosen & named
    return () if chosen is None else tuple(sorted(chosen)) or ("",)


def _categories_of(cql2: Any) -> set[str] | None:
    """The categories a CQL2 filter of the form ``category = 'x'`` or
    ``category IN ('x', …)`` keeps; None for any other filter."""
    if not isinstance(cql2, dict) or cql2.get("op") not in ("=", "in"):
        return None
    args = cql2.get("args")
    if not (isinstance(args, list) and len(args) == 2
            and args[0] == {"property": "category"}):
        return None
    values = args[1] if cql2["op"] == "in" else [args[1]]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    return set(values)


def cell_clusters(reach: Any, cluster_m: float, categories: tuple[str, ...]) -> sa.Subquery:
    """Clusters (``count``, ``x``, ``y`` in the storage CRS) of ``k`` × ``k`` cells, ``k``
    the whole number of cells nearest to ``cluster_m`` (so that every cluster covers
    the same ground), over the cells whose index lies within ``reach``'s box."""
    k = max(1, round(cluster_m / CELL_M))
    c = CELLS.c
    def index(edge: Any) -> Any:  # an integer, so that the cells' index is used
        return sa.cast(sa.func.floor(edge / CELL_M), sa.Integer)

    where = [c.cell_x.between(index(sa.func.ST_XMin(reach)), index(sa.func.ST_XMax(reach))),
             c.cell_y.between(index(sa.func.ST_YMin(reach)), index(sa.func.ST_YMax(reach)))]
    if categories:
        where.append(c.category.in_(categories))
    count = sa.func.sum(c.n)
    return sa.select(count.label("count"), (sa.func.sum(c.sum_x) / count).label("x"),
                     (sa.func.sum(c.sum_y) / count).label("y")).where(*where).group_by(
        sa.func.floor(c.cell_x / float(k)), sa.func.floor(c.cell_y / float(k))
    ).having(count > 0).subquery("clusters")
