"""Reading and writing the grid model's resources: list, get, create, update, delete.

SQL is built with SQLAlchemy Core on reflected tables; every value is bound, and the
columns a caller may sort or filter on come from each resource's allowlist. Database
errors are translated here into the domain errors of :mod:`gis.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geoalchemy2  # noqa: F401 - registers the geometry type for reflection
import shapely
import sqlalchemy as sa
from psycopg import errors as pg_errors

from .errors import Conflict, InvalidInput, NotFound
from .importing.kinds import KINDS, Field, Kind
from .records import validate_record

PLAN_KIND = Kind("grid_plans", "grid_plans", (
    Field("name", required=True),
    Field("description"),
    Field("state", choices=("draft", "published", "retired")),
    Field("valid_from", "datetime"),
    Field("valid_to", "datetime"),
), None, linked=False)

SPECIAL_GROUPS = ("community_correction", "released_prisoner", "drug_rehabilitation",
                  "serious_mental_illness", "youth_at_risk")


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    kind: Kind
    sortable: tuple[str, ...]
    filters: frozenset[str] = frozenset()
    id_fields: tuple[str, ...] = ()  # foreign keys a client may set by id
    masked: tuple[str, ...] = ()
    time_column: str | None = None
    hidden: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.kind.table

    @property
    def spatial(self) -> bool:
        return self.kind.geometry is not None


_LOCATED = frozenset({"bbox", "grid", "community", "synthetic"})
RESOURCES: dict[str, ResourceSpec] = {r.name: r for r in (
    ResourceSpec("areas", KINDS["areas"], ("id", "code", "name", "level"),
                 frozenset({"bbox", "level", "parent"}), id_fields=("parent_id",),
                 hidden=("parent_code",)),
    ResourceSpec("plans", PLAN_KIND, ("id", "name", "state", "valid_from"),
                 frozenset({"state"})),
    ResourceSpec("grids", KINDS["grids"], ("id", "code", "name"),
                 frozenset({"bbox", "plan", "community"}),
                 id_fields=("plan_id", "community_id"), hidden=("community_code",)),
    ResourceSpec("people", KINDS["people"], ("id", "name", "birth_date", "residence_type"),
                 _LOCATED | {"special", "residence_type", "household"},
                 id_fields=("building_id", "household_id"),
                 masked=("id_number", "phone"),
                 hidden=("building_id_ref", "household_id_ref")),
    ResourceSpec("buildings", KINDS["buildings"], ("id", "name", "levels", "households"),
                 _LOCATED | {"use"}),
    ResourceSpec("households", KINDS["households"], ("id", "unit", "members"),
                 _LOCATED | {"building"}, id_fields=("building_id",),
                 hidden=("building_id_ref",)),
    ResourceSpec("places", KINDS["places"], ("id", "name", "category", "risk_level"),
                 _LOCATED | {"category", "risk_level"}),
    ResourceSpec("things", KINDS["things"], ("id", "name", "type", "status"),
                 _LOCATED | {"type", "status"}),
    ResourceSpec("organisations", KINDS["organisations"], ("id", "name", "kind"),
                 _LOCATED | {"kind"}),
    ResourceSpec("incidents", KINDS["incidents"],
                 ("id", "occurred_at", "reported_at", "category", "status"),
                 _LOCATED | {"category", "status", "source", "time"},
                 time_column="occurred_at"),
    ResourceSpec("workers", KINDS["workers"], ("id", "name", "employee_no"),
                 frozenset({"grid", "active", "synthetic"}), hidden=("grid_codes",),
                 masked=("phone",)),
)}


@dataclass
class Query:
    """What a list request asks for; every field is checked before it reaches SQL."""

    limit: int = 100
    offset: int = 0
    sort: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    values: dict[str, list[str]] = field(default_factory=dict)  # category=a,b ...
    grid: str | None = None  # code in the published plan
    grid_id: int | None = None
    community: str | None = None  # area code
    community_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    special: list[str] = field(default_factory=list)
    synthetic: bool | None = None


class Catalog:
    """Reflected tables and the deployment SRID."""

    def __init__(self, engine: sa.Engine, srid: int) -> None:
        self.srid = srid
        self.metadata = sa.MetaData()
        self.metadata.reflect(engine, only=[r.table for r in RESOURCES.values()]
                              + ["grid_assignments"])

    def table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]


@contextmanager
def translate_errors(spec: ResourceSpec) -> Iterator[None]:
    """Database errors as domain errors a user can act on."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        orig = exc.orig
        diag = getattr(orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None) or ""
        if isinstance(orig, pg_errors.UniqueViolation):
            if constraint == "grid_plans_one_published":
                raise Conflict("another plan is already published; publish this plan with "
                               "POST /plans/{id}/publish, which retires the other") from exc
            detail = getattr(diag, "message_detail", None) or ""
            raise Conflict(f"a {spec.name[:-1]} with the same key exists: {detail}",
                           field=constraint) from exc
        if isinstance(orig, pg_errors.ForeignKeyViolation):
            detail = getattr(diag, "message_detail", None) or ""
            raise InvalidInput(f"refers to a row that does not exist: {detail}",
                               field=constraint) from exc
        if isinstance(orig, pg_errors.CheckViolation | pg_errors.NotNullViolation):
            column = getattr(diag, "column_name", None)
            raise InvalidInput(f"rejected by the database rule {constraint or column}: "
                               f"{getattr(diag, 'message_primary', '')}",
                               field=column or constraint) from exc
        raise


def mask(value: str | None) -> str | None:
    """Keep the first three and last four characters of an identifier."""
    if not value or len(value) <= 7:
        return None if value is None else "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


class Repository:
    def __init__(self, catalog: Catalog, spec: ResourceSpec) -> None:
        self.catalog = catalog
        self.spec = spec
        self.table = catalog.table(spec.table)

    # -- reading ---------------------------------------------------------------------

    def _columns(self) -> list[Any]:
        cols: list[Any] = [c for c in self.table.c
                           if c.name != "geom" and c.name not in self.spec.hidden]
        if self.spec.spatial:
            cols.append(sa.func.ST_AsGeoJSON(sa.func.ST_Transform(self.table.c.geom, 4326), 7)
                        .label("_geometry"))
        return cols

    def _where(self, q: Query) -> list[Any]:
        t, spec = self.table, self.spec
        where: list[Any] = []
        allowed = spec.filters
        if q.bbox is not None and "bbox" in allowed:
            envelope = sa.func.ST_Transform(sa.func.ST_MakeEnvelope(*q.bbox, 4326),
                                            self.catalog.srid)
            where.append(sa.func.ST_Intersects(t.c.geom, envelope))
        for name, values in q.values.items():
            if name not in allowed or name not in t.c:
                raise InvalidInput(f"{spec.name} cannot be filtered by {name!r}", field=name)
            where.append(t.c[name].in_(values))
        if (q.grid is not None or q.grid_id is not None) and "grid" in allowed:
            grid_ids = self._grid_ids(q.grid, q.grid_id)
            if spec.name == "workers":
                assignments = self.catalog.table("grid_assignments")
                where.append(t.c.id.in_(sa.select(assignments.c.worker_id)
                                        .where(assignments.c.grid_id.in_(grid_ids))))
            else:
                where.append(t.c.grid_id.in_(grid_ids))
        if (q.community is not None or q.community_id is not None) and "community" in allowed:
            community = self._area_id(q.community, q.community_id)
            if spec.name == "grids":
                where.append(t.c.community_id == community)
            else:
                grids = self.catalog.table("grids")
                where.append(t.c.grid_id.in_(sa.select(grids.c.id)
                                             .where(grids.c.community_id == community)))
        if spec.time_column and "time" in allowed:
            if q.start is not None:
                where.append(t.c[spec.time_column] >= q.start)
            if q.end is not None:
                where.append(t.c[spec.time_column] < q.end)
        if q.special and "special" in allowed:
            unknown = [s for s in q.special if s not in (*SPECIAL_GROUPS, "any")]
            if unknown:
                raise InvalidInput(f"unknown special group {unknown[0]!r}; use any of "
                                   f"{', '.join(SPECIAL_GROUPS)} or 'any'", field="special")
            groups = SPECIAL_GROUPS if "any" in q.special else q.special
            where.append(sa.or_(*(t.c[g].is_(True) for g in groups)))
        if q.synthetic is not None and "synthetic" in allowed:
            where.append(t.c.synthetic.is_(q.synthetic))
        return where

    def _grid_ids(self, code: str | None, grid_id: int | None) -> sa.Select:
        grids, plans = self.catalog.table("grids"), self.catalog.table("grid_plans")
        if grid_id is not None:
            return sa.select(grids.c.id).where(grids.c.id == grid_id)
        return (sa.select(grids.c.id).join(plans, plans.c.id == grids.c.plan_id)
                .where(grids.c.code == code, plans.c.state == "published"))

    def _area_id(self, code: str | None, area_id: int | None) -> sa.ScalarSelect:
        areas = self.catalog.table("areas")
        if area_id is not None:
            return sa.select(areas.c.id).where(areas.c.id == area_id).scalar_subquery()
        return sa.select(areas.c.id).where(areas.c.code == code).scalar_subquery()

    def _order(self, sort: list[str]) -> list[Any]:
        order = []
        for key in sort:
            name = key.lstrip("+-")
            if name not in self.spec.sortable:
                raise InvalidInput(f"cannot sort {self.spec.name} by {name!r}; sortable: "
                                   f"{', '.join(self.spec.sortable)}", field="sort")
            column = self.table.c[name]
            order.append(column.desc().nulls_last() if key.startswith("-") else column.asc())
        return [*order, self.table.c.id.asc()]

    def list(self, conn: sa.Connection, q: Query, extra_where: list[Any] | None = None
             ) -> tuple[list[dict], int]:
        where = self._where(q) + (extra_where or [])
        total = conn.execute(sa.select(sa.func.count()).select_from(self.table)
                             .where(*where)).scalar_one()
        rows = conn.execute(sa.select(*self._columns()).where(*where)
                            .order_by(*self._order(q.sort)).limit(q.limit).offset(q.offset))
        return [self._out(r._mapping) for r in rows], int(total)

    def get(self, conn: sa.Connection, row_id: int) -> dict:
        row = conn.execute(sa.select(*self._columns())
                           .where(self.table.c.id == row_id)).first()
        if row is None:
            raise NotFound(f"no {self.spec.name} row with id {row_id}")
        return self._out(row._mapping)

    def _out(self, mapping) -> dict:
        row = dict(mapping)
        for name in self.spec.masked:
            if name in row:
                row[name] = mask(row[name])
        geometry = row.pop("_geometry", None)
        if self.spec.spatial:
            row["_geometry"] = json.loads(geometry) if geometry else None
        return row

    # -- writing ---------------------------------------------------------------------

    def _values(self, values: dict[str, Any], geometry: dict | None, *, partial: bool,
                repair: bool) -> dict[str, Any]:
        ids = {}
        for name in self.spec.id_fields:
            if name in values:
                raw = values.pop(name)
                if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
                    raise InvalidInput(f"{name} must be an integer id", field=name)
                ids[name] = raw
        extra = values.pop("properties", None)
        if extra is not None and not isinstance(extra, dict):
            raise InvalidInput("properties must be a JSON object", field="properties")
        for name in ("id", "version", "grid_id", "created_at", "updated_at"):
            values.pop(name, None)
        checked = validate_record(self.spec.kind, values, geometry, srid=self.catalog.srid,
                                  partial=partial, repair=repair)
        # Fields the client did not send keep their column defaults.
        checked = {k: v for k, v in checked.items() if k in values or k == "geom"}
        for name in self.spec.hidden:
            checked.pop(name, None)
        if "geom" in checked:
            geom = checked["geom"]
            checked["geom"] = sa.func.ST_GeomFromEWKB(
                shapely.to_wkb(shapely.set_srid(geom, self.catalog.srid), include_srid=True))
        if extra is not None:
            checked["properties"] = extra
        checked.update(ids)
        return checked

    def create(self, conn: sa.Connection, values: dict[str, Any], geometry: dict | None,
               *, repair: bool = False) -> dict:
        row = self._values(dict(values), geometry, partial=False, repair=repair)
        with translate_errors(self.spec):
            new_id = conn.execute(sa.insert(self.table).values(**row)
                                  .returning(self.table.c.id)).scalar_one()
        return self.get(conn, new_id)

    def update(self, conn: sa.Connection, row_id: int, version: int, values: dict[str, Any],
               geometry: dict | None, *, repair: bool = False) -> dict:
        row = self._values(dict(values), geometry, partial=True, repair=repair)
        if not row:
            raise InvalidInput("nothing to update: give at least one field or a geometry")
        with translate_errors(self.spec):
            updated = conn.execute(sa.update(self.table).values(**row)
                                   .where(self.table.c.id == row_id,
                                          self.table.c.version == version)
                                   .returning(self.table.c.id)).scalar()
        if updated is None:
            self._missing_or_stale(conn, row_id, version)
        return self.get(conn, row_id)

    def delete(self, conn: sa.Connection, row_id: int, version: int | None) -> None:
        condition = [self.table.c.id == row_id]
        if version is not None:
            condition.append(self.table.c.version == version)
        with translate_errors(self.spec):
            deleted = conn.execute(sa.delete(self.table).where(*condition)
                                   .returning(self.table.c.id)).scalar()
        if deleted is None:
            self._missing_or_stale(conn, row_id, version)

    def _missing_or_stale(self, conn: sa.Connection, row_id: int, version: int | None):
        current = conn.execute(sa.select(self.table.c.version)
                               .where(self.table.c.id == row_id)).scalar()
        if current is None:
            raise NotFound(f"no {self.spec.name} row with id {row_id}")
        raise Conflict(f"{self.spec.name} {row_id} was changed by someone else (you sent "
                       f"version {version}, it is now {current}); reload it and apply your "
                       "change again", field="version", current_version=current)
