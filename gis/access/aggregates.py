"""Aggregates for those who may not see individuals: only the grids in their scope, and
counts of people below a threshold withheld (a count of one or two can name a person;
so can a rate computed from one)."""

from __future__ import annotations

from typing import Any

import shapely
import sqlalchemy as sa

from ..taxonomy import SPECIAL_GROUPS
from .principal import Principal

PEOPLE_COUNTS = ("people", "floating", "special_groups", "registered", "special",
                 "unwatched_special")
DERIVED_FROM_PEOPLE = ("incidents_per_1000",)


def in_scope(rows: list[dict[str, Any]], who: Principal, key: str = "id"
             ) -> list[dict[str, Any]]:
    if who.grid_ids is None:
        return rows
    return [r for r in rows if r.get(key) in who.grid_ids]


def withhold_small(row: dict[str, Any], who: Principal, min_count: int) -> dict[str, Any]:
    """The row with counts of people in 1 .. min_count - 1 set to None (and whatever is
    computed from them), unless ``who`` may see the people themselves."""
    if who.sees_personal("people"):
        return row
    row = dict(row)
    withheld = False
    for key, value in list(row.items()):
        if isinstance(value, dict) and key == "people":
            row[key] = {k: _small(v, min_count) for k, v in value.items()}
        elif key in PEOPLE_COUNTS or key in SPECIAL_GROUPS:
            row[key] = _small(value, min_count)
            withheld = withheld or (row[key] is None and value is not None)
    if withheld:
        for key in DERIVED_FROM_PEOPLE:
            if key in row:
                row[key] = None
    return row


def _small(value: Any, min_count: int) -> Any:
    """None for a count (or a share of people, such as a load per worker) in
    (0, min_count)."""
    return None if isinstance(value, int | float) and not isinstance(value, bool) \
        and 0 < value < min_count else value


def scope_area(conn: sa.Connection, who: Principal) -> shapely.Geometry | None:
    """The union of the user's scope grids in WGS84 (None: no scope, everywhere)."""
    if who.grid_ids is None:
        return None
    wkb = conn.execute(sa.text(
        "SELECT ST_AsBinary(ST_Transform(ST_Union(geom), 4326)) FROM grids "
        "WHERE id = ANY(:ids)"), {"ids": sorted(who.grid_ids)}).scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else shapely.Polygon()
