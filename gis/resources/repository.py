"""Reading and writing the grid model's resources: list, get, create, update, delete.

SQL is built with SQLAlchemy Core on reflected tables; every value is bound, and the
columns a caller may sort or filter on come from each resource's spec. Database errors
are translated here into the domain errors of :mod:`gis.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geoalchemy2  # noqa: F401 - registers the geometry type for reflection
import orjson
import shapely
import sqlalchemy as sa
from psycopg import errors as pg_errors

from ..access.principal import Principal
from ..db import require_id
from ..errors import Conflict, InvalidInput, NotFound
from ..importing.convert import properties_problem
from ..records import validate_record
from .guard import Guard
from .listing import ListClauses, ListQuery
from .specs import RESOURCES, ResourceSpec

Counter = Callable[[sa.Connection, sa.Select], int]
READ_ONLY = ("id", "version", "grid_id", "district_id", "created_at", "updated_at")


@dataclass(frozen=True)
class OutputCrs:
    """The CRS rows' geometry is given in: an EPSG code, whether its axis order is
    latitude first (EPSG:4326 proper, unlike GeoJSON's CRS84), and decimals kept."""

    srid: int = 4326
    lat_first: bool = False
    digits: int = 7


def geojson_column(geom: Any, crs: OutputCrs, storage_srid: int) -> Any:
    """A geometry column as GeoJSON text in ``crs``, labelled ``_geometry`` (see
    :func:`parsed_geometry`)."""
    if crs.srid != storage_srid:
        geom = sa.func.ST_Transform(geom, crs.srid)
    if crs.lat_first:
        geom = sa.func.ST_FlipCoordinates(geom)
    return sa.func.ST_AsGeoJSON(geom, crs.digits).label("_geometry")


def parsed_geometry(mapping) -> dict:
    """A row read with :func:`geojson_column`, its ``_geometry`` parsed."""
    row = dict(mapping)
    geometry = row.pop("_geometry", None)
    row["_geometry"] = orjson.loads(geometry) if geometry else None
    return row


def count_rows(conn: sa.Connection, statement: sa.Select) -> int:
    """A count statement's answer (a :data:`Counter` that keeps nothing)."""
    return int(conn.execute(statement).scalar_one())


class Catalog:
    """Reflected tables and the deployment SRID."""

    def __init__(self, engine: sa.Engine, srid: int) -> None:
        self.srid = srid
        self.metadata = sa.MetaData()
        self.metadata.reflect(engine, only=sorted({r.table for r in RESOURCES.values()}
                                                   | {"grid_assignments"}))

    def table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]


@contextmanager
def translate_errors(spec: ResourceSpec, *, deleting: bool = False) -> Iterator[None]:
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
            if deleting:
                raise Conflict(f"other rows still refer to this {spec.name[:-1]}: {detail} "
                               "Change or delete them first.", field=constraint) from exc
            raise InvalidInput(f"refers to a row that does not exist: {detail}",
                               field=constraint) from exc
        if isinstance(orig, pg_errors.RestrictViolation):
            raise Conflict(getattr(diag, "message_primary", None) or str(orig)) from exc
        if isinstance(orig, pg_errors.CheckViolation | pg_errors.NotNullViolation):
            column = getattr(diag, "column_name", None)
            raise InvalidInput(f"rejected by the database rule {constraint or column}: "
                               f"{getattr(diag, 'message_primary', '')}",
                               field=column or constraint) from exc
        raise


class Repository:
    """The rows of one resource as ``who`` may see and change them (see :class:`Guard`)."""

    def __init__(self, catalog: Catalog, spec: ResourceSpec, who: Principal) -> None:
        self.catalog = catalog
        self.spec = spec
        self.table = catalog.table(spec.table)
        self.guard = Guard(who, spec, self.table, catalog.metadata.tables)

    # -- reading ---------------------------------------------------------------------

    def _columns(self, crs: OutputCrs | None = None) -> list[Any]:
        cols: list[Any] = [c for c in self.table.c
                           if c.name != "geom" and c.name not in self.spec.hidden]
        if self.spec.spatial:
            cols.append(geojson_column(self.table.c.geom, crs or OutputCrs(),
                                       self.catalog.srid))
        return cols

    def list(self, conn: sa.Connection, q: ListQuery, *, extra: Sequence[Any] = (),
             crs: OutputCrs | None = None, count: Counter | None = None
             ) -> tuple[list[dict], int]:
        """A page of rows and the number of rows matched; ``extra`` conditions narrow
        the list further (a collection's, a filter's), ``crs`` is the geometry's,
        ``count`` counts the matches (e.g. from a cache; by default, a query)."""
        self.guard.check_read()
        self.guard.check_query(q)
        clauses = ListClauses(self.spec, self.table, self.catalog.srid,
                              self.catalog.metadata.tables)
        clauses.check_known(conn, q)
        where = clauses.where(q) + self.guard.visible() + list(extra)
        total = (count or count_rows)(conn, sa.select(sa.func.count())
                                      .select_from(self.table).where(*where))
        rows = [self._raw(r._mapping) for r in conn.execute(
            sa.select(*self._columns(crs)).where(*where)
            .order_by(*clauses.order(q.sort)).limit(q.limit).offset(q.offset))]
        self.guard.audit_read(conn, [r["id"] for r in rows])
        return [self.guard.out(r) for r in rows], int(total)

    def get(self, conn: sa.Connection, row_id: int, *, extra: Sequence[Any] = (),
            crs: OutputCrs | None = None) -> dict:
        self.guard.check_read()
        row = self._read(conn, row_id, extra, crs)
        self.guard.audit_read(conn, [row_id])
        return self.guard.out(row)

    def _read(self, conn: sa.Connection, row_id: int, extra: Sequence[Any] = (),
              crs: OutputCrs | None = None) -> dict:
        """The row unmasked, if this user reaches it (and it meets ``extra``)."""
        require_id(row_id, self.spec.name[:-1])
        row = conn.execute(sa.select(*self._columns(crs))
                           .where(self.table.c.id == row_id, *self.guard.visible(),
                                  *extra)).first()
        if row is None:
            raise NotFound(f"no {self.spec.name} row with id {row_id}")
        return self._raw(row._mapping)

    def _raw(self, mapping) -> dict:
        if self.spec.spatial:
            return parsed_geometry(mapping)
        row = dict(mapping)
        row.pop("_geometry", None)
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
        problem = None if extra is None else properties_problem(
            json.dumps(extra, ensure_ascii=False))
        if problem:
            raise InvalidInput(problem, field="properties")
        own_ids = {"external_id": values.pop("external_id")} if "external_id" in values \
            and "external_id" in self.table.c else {}
        for name in (*READ_ONLY, *self.spec.hidden):
            if name in values:
                raise InvalidInput(f"{name} cannot be written here: "
                                   + ("the database maintains it" if name in READ_ONLY else
                                      "it names a row by code for imports; set the id field"),
                                   field=name)
        checked = validate_record(self.spec.kind, values, geometry, srid=self.catalog.srid,
                                  partial=partial, repair=repair)
        # Fields the client did not send keep their column defaults.
        checked = {k: v for k, v in checked.items() if k in values or k == "geom"}
        if "geom" in checked:
            geom = checked["geom"]
            checked["geom"] = sa.func.ST_GeomFromEWKB(
                shapely.to_wkb(shapely.set_srid(geom, self.catalog.srid), include_srid=True))
        if extra is not None:
            checked["properties"] = extra
        checked.update(ids)
        checked.update(own_ids)
        return checked

    def create(self, conn: sa.Connection, values: dict[str, Any], geometry: dict | None,
               *, repair: bool = False) -> dict:
        self.guard.check_write()
        row = self._values(dict(values), geometry, partial=False, repair=repair)
        if "district_id" in self.table.c and "geom" in row:
            # the partition key, set before routing (an update's is the trigger's)
            row["district_id"] = sa.func.gridgis_district_at(row["geom"])
        with translate_errors(self.spec):
            new_id = conn.execute(sa.insert(self.table).values(**row)
                                  .returning(self.table.c.id)).scalar_one()
        self.guard.check_row(conn, new_id, after=True)
        after = self._read(conn, new_id)
        self.guard.audit_write(conn, "create", new_id, None, after)
        return self.guard.out(after)

    def update(self, conn: sa.Connection, row_id: int, version: int, values: dict[str, Any],
               geometry: dict | None, *, repair: bool = False) -> dict:
        self.guard.check_write()
        require_id(row_id, self.spec.name[:-1])
        row = self._values(dict(values), geometry, partial=True, repair=repair)
        if not row:
            raise InvalidInput("nothing to update: give at least one field or a geometry")
        self.guard.check_row(conn, row_id)
        if self.spec.name == "grids" and "geom" in row:
            self._refuse_draft_reshape(conn, row_id)
        before = self._read(conn, row_id)
        with translate_errors(self.spec):
            updated = conn.execute(sa.update(self.table).values(**row)
                                   .where(self.table.c.id == row_id,
                                          self.table.c.version == version)
                                   .returning(self.table.c.id)).scalar()
        if updated is None:
            self._missing_or_stale(conn, row_id, version)
        self.guard.check_row(conn, row_id, after=True)
        after = self._read(conn, row_id)
        self.guard.audit_write(conn, "update", row_id, before, after)
        return self.guard.out(after)

    def delete(self, conn: sa.Connection, row_id: int, version: int | None) -> None:
        self.guard.check_write()
        require_id(row_id, self.spec.name[:-1])
        self.guard.check_row(conn, row_id)
        before = self._read(conn, row_id)
        condition = [self.table.c.id == row_id]
        if version is not None:
            condition.append(self.table.c.version == version)
        with translate_errors(self.spec, deleting=True):
            deleted = conn.execute(sa.delete(self.table).where(*condition)
                                   .returning(self.table.c.id)).scalar()
        if deleted is None:
            self._missing_or_stale(conn, row_id, version)
        self.guard.audit_write(conn, "delete", row_id, before, None)

    def _refuse_draft_reshape(self, conn: sa.Connection, grid_id: int) -> None:
        """A draft grid's shape changes through the plan's edits, which keep the draft a
        partition and can be undone; here it would do neither."""
        plan = conn.execute(sa.text(
            "SELECT p.id FROM grids g JOIN grid_plans p ON p.id = g.plan_id "
            "WHERE g.id = :g AND p.state = 'draft'"), {"g": grid_id}).scalar()
        if plan is not None:
            raise Conflict(f"a draft grid's shape changes with POST /plans/{plan}/edits "
                           "(split, merge, reassign, redraw), which keeps the draft a "
                           "partition and can be undone", field="geometry")

    def _missing_or_stale(self, conn: sa.Connection, row_id: int, version: int | None):
        current = conn.execute(sa.select(self.table.c.version)
                               .where(self.table.c.id == row_id)).scalar()
        if current is None:
            raise NotFound(f"no {self.spec.name} row with id {row_id}")
        raise Conflict(f"{self.spec.name} {row_id} was changed by someone else (you sent "
                       f"version {version}, it is now {current}); reload it and apply your "
                       "change again", field="version", current_version=current)
