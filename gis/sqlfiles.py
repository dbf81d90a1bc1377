"""The SQL shipped in ``gis/sql``, and the fragments several queries share.

Queries name a shared fragment as ``$name`` (``string.Template``), so that the incident
filter and the special-group columns are written once, here, from the taxonomy.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from . import taxonomy

# Bound parameters :cats (text[] or NULL for all), :start and :end (NULL for open).
# A period as one range over occurred_at (no "IS NULL OR"), so that a prepared plan too
# reads only the period's partitions of incidents.
INCIDENT_FILTER = """(CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
  AND occurred_at >= coalesce(CAST(:start AS timestamptz), '-infinity')
  AND occurred_at < coalesce(CAST(:end AS timestamptz), 'infinity')"""

# A grid's community, subdistrict and district (grids g): what /grids/at answers with,
# from the database and from the index of published grids alike.
GRID_HIERARCHY = """c.id AS community_id, c.code AS community_code, c.name AS community,
       s.id AS subdistrict_id, s.code AS subdistrict_code, s.name AS subdistrict,
       d.id AS district_id, d.code AS district_code, d.name AS district"""
GRID_HIERARCHY_JOINS = """LEFT JOIN areas c ON c.id = g.community_id
LEFT JOIN areas s ON s.id = c.parent_id
LEFT JOIN areas d ON d.id = s.parent_id"""

_GROUPS = taxonomy.identifiers(taxonomy.SPECIAL_GROUPS)
FRAGMENTS = {
    "incident_filter": INCIDENT_FILTER,
    "grid_hierarchy": GRID_HIERARCHY,
    "grid_hierarchy_joins": GRID_HIERARCHY_JOINS,
    "special_any": " OR ".join(_GROUPS),
    "special_counts": ",\n".join(f"'{g}', count(*) FILTER (WHERE {g})" for g in _GROUPS),
}


@cache
def read_sql(name: str) -> str:
    """A file of ``gis/sql`` as it is (migrations format their own placeholders)."""
    return files("gridgis.gis").joinpath("sql", name).read_text(encoding="utf-8")


@cache
def read_query(name: str) -> str:
    """A query of ``gis/sql`` with its shared fragments filled in."""
    return Template(read_sql(name)).substitute(FRAGMENTS)


def incident_filter_params(categories: tuple[str, ...] | list[str] = (),
                           start: datetime | None = None,
                           end: datetime | None = None) -> dict[str, Any]:
    return {"cats": list(categories) or None, "start": start, "end": end}
