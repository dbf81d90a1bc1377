"""What a list request asks for, and its translation into SQLAlchemy Core clauses with
every value bound. Only the filters a resource's spec declares can reach SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .. import taxonomy
from ..errors import InvalidInput
from .specs import Filter, ResourceSpec

PUBLISHED_GRIDS = sa.table("published_grids", sa.column("id"), sa.column("code"))


@dataclass
class ListQuery:
    """A checked list request: paging, sort keys, and the value of each filter by name
    (a tuple of codes, an id, a code, a flag, a bbox; ``start``/``end`` for time).
    Build it with :meth:`build`, which refuses what the resource does not offer."""

    limit: int = 100
    offset: int = 0
    sort: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def build(cls, spec: ResourceSpec, *, limit: int = 100, offset: int = 0,
              sort: list[str] | tuple[str, ...] = (), filters: dict[str, Any] | None = None,
              start: datetime | None = None, end: datetime | None = None) -> ListQuery:
        checked: dict[str, Any] = {}
        for name, value in (filters or {}).items():
            if value is None:
                continue
            declared = spec.filter(name)
            if declared is None:
                raise InvalidInput(f"{spec.name} cannot be filtered by {name!r}", field=name)
            checked[name] = _check_value(spec, declared, value)
        if (start is not None or end is not None) and spec.filter("time") is None:
            raise InvalidInput(f"{spec.name} have no time to filter by start/end",
                               field="start" if start is not None else "end")
        if start is not None and end is not None and end <= start:
            raise InvalidInput("end must be after start", field="end")
        sort_keys = [k.strip() for item in sort for k in item.split(",") if k.strip()]
        for key in sort_keys:
            if key.lstrip("+-") not in spec.sortable:
                raise InvalidInput(f"cannot sort {spec.name} by {key.lstrip('+-')!r}; "
                                   f"sortable: {', '.join(spec.sortable)}", field="sort")
        return cls(limit, offset, sort_keys, checked, start, end)


def filter_choices(spec: ResourceSpec, declared: Filter) -> tuple[str, ...] | None:
    """The codes a filter accepts (None: any text)."""
    if declared.type == "special":
        return (*taxonomy.SPECIAL_GROUPS, "any")
    if declared.type == "codes" and declared.column:
        choices = spec.kind.field(declared.column).choices
        return tuple(choices) if choices is not None else None
    return None


def _check_value(spec: ResourceSpec, declared: Filter, value: Any) -> Any:
    if declared.type in ("codes", "special", "text"):
        values = [value] if isinstance(value, str) else list(value)
        choices = filter_choices(spec, declared)
        if choices is None:
            return tuple(sorted({v.strip() for item in values for v in str(item).split(",")
                                 if v.strip()}))
        return taxonomy.check_codes(values, dict.fromkeys(choices), declared.name)
    if declared.type == "id":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{declared.name} must be an integer id", field=declared.name)
        return value
    if declared.type == "bool":
        return bool(value)
    return value


class ListClauses:
    """WHERE and ORDER BY clauses of a list over one resource's table."""

    def __init__(self, spec: ResourceSpec, table: sa.Table, srid: int,
                 tables: dict[str, sa.Table]) -> None:
        self.spec = spec
        self.table = table
        self.srid = srid
        self.tables = tables

    def where(self, q: ListQuery) -> list[Any]:
        where: list[Any] = []
        for name, value in q.filters.items():
            if value == ():
                continue
            spec = self.spec.filter(name)
            assert spec is not None  # ListQuery.build admits declared filters only
            where.append(self._clause(spec.name, spec.type, spec.column, spec.table,
                                      spec.key, value))
        if self.spec.time_column and self.spec.filter("time"):
            column = self.table.c[self.spec.time_column]
            if q.start is not None:
                where.append(column >= q.start)
            if q.end is not None:
                where.append(column < q.end)
        return where

    def _clause(self, name: str, kind: str, column: str | None, table: str | None, key: str,
                value: Any) -> Any:
        t = self.table
        if kind == "bbox":
            envelope = sa.func.ST_Transform(sa.func.ST_MakeEnvelope(*value, 4326), self.srid)
            return sa.func.ST_Intersects(t.c.geom, envelope)
        if kind == "special":
            groups = taxonomy.SPECIAL_GROUPS if "any" in value else value
            return sa.or_(*(t.c[g].is_(True) for g in groups))
        assert column is not None  # specs give a column to every other kind of filter
        if kind in ("codes", "text"):
            return t.c[column].in_(list(value))
        if kind == "bool":
            return t.c[column].is_(bool(value))
        ids = self._ids(name, kind, table, key, value)
        if self.spec.name == "workers":  # workers reach grids through their assignments
            assignments = self.tables["grid_assignments"]
            return t.c.id.in_(sa.select(assignments.c.worker_id)
                              .where(assignments.c.grid_id.in_(ids)))
        if column in t.c:
            return t.c[column].in_(ids)
        # Located rows have no community column: they are in the community's grids.
        grids = self.tables["grids"]
        return t.c.grid_id.in_(sa.select(grids.c.id).where(grids.c.community_id.in_(ids)))

    def _ids(self, name: str, kind: str, table: str | None, key: str, value: Any) -> Any:
        if kind == "id":
            return [int(value)]
        if table == "grids":  # grid codes name grids of the published plan
            return sa.select(PUBLISHED_GRIDS.c.id).where(PUBLISHED_GRIDS.c.code == value)
        assert table is not None
        target = self.tables[table]
        return sa.select(target.c.id).where(target.c[key] == value)

    def order(self, sort: list[str]) -> list[Any]:
        order = []
        for item in sort:  # checked against the spec's sortable columns by ListQuery.build
            column = self.table.c[item.lstrip("+-")]
            order.append(column.desc().nulls_last() if item.startswith("-") else column.asc())
        return [*order, self.table.c.id.asc()]
