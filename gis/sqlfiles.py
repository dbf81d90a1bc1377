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
INCIDENT_FILTER = """(CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
  AND (CAST(:start AS timestamptz) IS NULL OR occurred_at >= :start)
  AND (CAST(:end AS timestamptz) IS NULL OR occurred_at < :end)"""

_GROUPS = taxonomy.identifiers(taxonomy.SPECIAL_GROUPS)
FRAGMENTS = {
    "incident_filter": INCIDENT_FILTER,
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
