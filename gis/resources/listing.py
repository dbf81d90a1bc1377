"""What a list request asks for, and its translation into SQLAlchemy Core clauses with
every value bound. Only the filters a resource's spec declares can reach SQL, and a
value that names nothing (an unknown code, a grid that does not exist) is refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .. import taxonomy
from ..crs import deployment_area
from ..errors import InvalidInput
from .specs import Filter, ResourceSpec

PUBLISHED_GRIDS = sa.table("published_grids", sa.column("id"), sa.column("code"))
NOUNS = {"published_grids": "grid of the published plan", "grids": "grid", "areas": "area",
         "grid_plans": "grid plan", "households": "household", "buildings": "building"}
SHOWN_VALUES = 20  # known values named in an error
BBOX_SEGMENT_DEG = 0.05  # about 5 km: the projected box strays metres from the true one


@dataclass
class ListQuery:
    """A checked list request: paging, sort keys, and the values of each filter by name
    (a tuple for most, a flag or a bbox); ``start``/``end`` for time. Build it with
    :meth:`build`, which refuses what the resource does not offer."""

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
        sort_keys = split_values(sort)
        for key in sort_keys:
            if key.lstrip("+-") not in spec.sortable:
                raise InvalidInput(f"cannot sort {spec.name} by {key.lstrip('+-')!r}; "
                                   f"sortable: {', '.join(spec.sortable)}", field="sort")
        return cls(limit, offset, sort_keys, checked, start, end)


def split_values(values: Any) -> list[str]:
    """Repeated values and comma-separated lists alike, blanks dropped, order kept."""
    items = [values] if isinstance(values, str | int) else list(values)
    return list(dict.fromkeys(v.strip() for item in items for v in str(item).split(",")
                              if v.strip()))


def filter_choices(spec: ResourceSpec, declared: Filter) -> tuple[str, ...] | None:
    """The codes a filter accepts whatever the data (None: checked against the data)."""
    if declared.type == "special":
        return (*taxonomy.SPECIAL_GROUPS, "any")
    if declared.type == "codes" and declared.column:
        choices = spec.kind.field(declared.column).choices
        return tuple(choices) if choices is not None else None
    return None


def _check_value(spec: ResourceSpec, declared: Filter, value: Any) -> Any:
    if declared.type in ("bool", "bbox"):
        return value
    choices = filter_choices(spec, declared)
    if choices is not None:
        return taxonomy.check_codes(split_values(value), choices, declared.name)
    values = split_values(value)
    if declared.type == "ref" and declared.key == "id":
        bad = [v for v in values if not v.isdigit()]
        if bad:
            raise InvalidInput(f"{declared.name} {bad[0]!r} is not an id (a whole number)",
                               field=declared.name)
        return tuple(int(v) for v in values)
    return tuple(values)


class ListClauses:
    """WHERE and ORDER BY clauses of a list over one resource's table."""

    def __init__(self, spec: ResourceSpec, table: sa.Table, srid: int,
                 tables: dict[str, sa.Table]) -> None:
        self.spec = spec
        self.table = table
        self.srid = srid
        self.tables = tables

    def _target(self, declared: Filter) -> Any:
        if declared.table == "published_grids":
            return PUBLISHED_GRIDS
        if declared.table is None:  # a value of this resource's own column
            return self.table
        return self.tables[declared.table]

    def check_known(self, conn: sa.Connection, q: ListQuery) -> None:
        """Refuse values that name nothing: references to rows that do not exist, and
        free-text values no row has."""
        for name, values in q.filters.items():
            declared = self.spec.filter(name)
            if declared is None or declared.type not in ("ref", "text") or not values:
                continue
            target = self._target(declared)
            column = target.c[declared.key if declared.type == "ref" else declared.column]
            found = set(conn.execute(sa.select(column).where(column.in_(values))).scalars())
            unknown = [v for v in values if v not in found]
            if not unknown:
                continue
            what = (f"no {NOUNS[declared.table or '']} has {declared.key} {unknown[0]!r}"
                    if declared.type == "ref" else
                    f"none of the {self.spec.name} has {declared.column} {unknown[0]!r}")
            if declared.type == "text":
                known = conn.execute(sa.select(column).distinct().where(column.isnot(None))
                                     .order_by(column).limit(SHOWN_VALUES)).scalars().all()
                what += f"; values present include: {', '.join(map(str, known))}"
            raise InvalidInput(f"unknown {name}: {what}", field=name)

    def where(self, q: ListQuery) -> list[Any]:
        where: list[Any] = []
        for name, value in q.filters.items():
            declared = self.spec.filter(name)
            assert declared is not None  # ListQuery.build admits declared filters only
            if value != ():
                where.append(self._clause(declared, value))
        if self.spec.time_column and self.spec.filter("time"):
            column = self.table.c[self.spec.time_column]
            if q.start is not None:
                where.append(column >= q.start)
            if q.end is not None:
                where.append(column < q.end)
        return where

    def _clause(self, declared: Filter, value: Any) -> Any:
        t = self.table
        if declared.type == "bbox":
            # Only the part of the box where the deployment's CRS applies can hold rows
            # (and only it can be projected).
            inside = deployment_area(self.srid).clip(value)
            if inside is None:
                return sa.false()
            # Densified first: a parallel is a curve once projected, not the straight
            # line between the box's corners.
            envelope = sa.func.ST_Transform(sa.func.ST_Segmentize(
                sa.func.ST_MakeEnvelope(*inside, 4326), BBOX_SEGMENT_DEG), self.srid)
            return sa.func.ST_Intersects(t.c.geom, envelope)
        if declared.type == "special":
            groups = taxonomy.SPECIAL_GROUPS if "any" in value else value
            return sa.or_(*(t.c[g].is_(True) for g in groups))
        assert declared.column is not None  # specs give every other filter a column
        if declared.type in ("codes", "text"):
            return t.c[declared.column].in_(list(value))
        if declared.type == "bool":
            return t.c[declared.column].is_(bool(value))
        target = self._target(declared)
        ids = sa.select(target.c.id).where(target.c[declared.key].in_(list(value)))
        if self.spec.name == "workers":  # workers reach grids through their assignments
            assignments = self.tables["grid_assignments"]
            return t.c.id.in_(sa.select(assignments.c.worker_id)
                              .where(assignments.c.grid_id.in_(ids)))
        if declared.column in t.c:
            return t.c[declared.column].in_(ids)
        # Located rows have no community column: they are in the community's grids.
        grids = self.tables["grids"]
        return t.c.grid_id.in_(sa.select(grids.c.id).where(grids.c.community_id.in_(ids)))

    def order(self, sort: list[str]) -> list[Any]:
        order = []
        for item in sort:  # checked against the spec's sortable columns by ListQuery.build
            column = self.table.c[item.lstrip("+-")]
            order.append(column.desc().nulls_last() if item.startswith("-") else column.asc())
        return [*order, self.table.c.id.asc()]
