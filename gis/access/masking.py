"""Masking personal fields, and withholding small counts, for whoever may not see them.

Masking is visible: a masked identifier keeps its first three and last four characters
(``110***********1234``), a name its first character (``张**``), a date its year
(``1985-**-**``); free text, flags and the values of free-form ``properties`` become
``***``. The same rule serves the API, its CSV, the maps and the exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from typing import Any

from ..importing.kinds import KINDS
from .roles import LOCATED

HIDDEN = "***"
PROPERTIES = "properties"  # unmapped source columns: may hold anything


@cache  # fixed by the kinds: computed once per resource, not once per row
def personal_fields(resource: str) -> tuple[str, ...]:
    """The fields of a resource masked for those who may not see personal data."""
    kind = KINDS.get(resource)
    fields = tuple(f.name for f in kind.fields if f.sensitive) if kind else ()
    if resource in (*LOCATED, "workers"):
        fields += (PROPERTIES,)
    return fields


def mask_identifier(value: str) -> str:
    """First three and last four characters kept (ID and phone numbers)."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 2)


def mask_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == PROPERTIES:
        return {key: HIDDEN for key in value} if isinstance(value, dict) else HIDDEN
    if name in ("id_number", "phone"):
        return mask_identifier(str(value))
    if name == "name":
        return mask_name(str(value))
    if isinstance(value, dt.date):
        return f"{value.year:04d}-**-**"
    return HIDDEN


def mask_row(resource: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row with the resource's personal fields masked (a new dict)."""
    masked = dict(row)
    for name in personal_fields(resource):
        value = masked.get(name)
        if value is not None:
            masked[name] = mask_value(name, value)
    return masked


def suppress_small_counts(rows: Iterable[dict[str, Any]], columns: Iterable[str],
                          threshold: int) -> list[dict[str, Any]]:
    """Counts of people between 1 and ``threshold`` - 1 withheld (None): a count of
    one or two in a grid can name a person."""
    columns = tuple(columns)
    out = []
    for row in rows:
        row = dict(row)
        for column in columns:
            value = row.get(column)
            if isinstance(value, int) and 0 < value < threshold:
                row[column] = None
        out.append(row)
    return out
