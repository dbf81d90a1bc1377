"""``gridgis import``: one file, one transaction, every row in or none.

Chunks are read and validated in a background thread while the main thread streams the
previous chunk to PostgreSQL with COPY, so parsing and writing overlap. Point kinds are
linked to grids here (:class:`gis.linking.GridIndex`, the database's rule) and written
with ``gridgis.trusted_grid_id`` set, which spares the per-row trigger lookup.

Rows with an upsert key (``--external-id``, or a natural key such as an area's code)
and rows that reference other rows by code go through a temporary staging table, from
which they are checked and merged with ``INSERT … ON CONFLICT``.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from psycopg import sql

from ..crs import utm_srid_for_geometries
from ..db import Database, migrate
from ..errors import ImportRejected, InvalidInput, NotInitialised, Rejection
from ..linking import GridIndex
from .encoding import ewkb_hex, iso_utc
from .kinds import Kind, get_kind
from .mapping import Mapping
from .readers import RawChunk, open_source
from .validate import ImportPlan, PreparedChunk, prepare_chunk

DEFAULT_PLAN = "default"
ProgressCallback = Callable[[int, int | None], None]


@dataclass
class ImportReport:
    kind: str
    path: Path
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unassigned: int = 0
    repaired: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rejects_file: Path | None = None
    seconds: float = 0.0
    srid: int | None = None


def import_file(db: Database, kind_name: str, path: Path, *, mapping: Mapping | None = None,
                plan_name: str | None = None, skip_invalid: bool = False, repair: bool = True,
                timezone: str = "UTC", keep_extra: bool = True,
                rejects_path: Path | None = None,
                progress: ProgressCallback | None = None) -> ImportReport:
    """Import one file in one transaction; see the module docstring. With
    ``skip_invalid`` the rejected rows go to ``rejects_path`` (default: beside the file)."""
    started = time.perf_counter()
    try:
        kind = get_kind(kind_name)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="KIND") from exc
    mapping = mapping or Mapping()
    if mapping.kind and mapping.kind != kind.name:
        raise InvalidInput(f"the mapping file is for {mapping.kind}, not {kind.name}")
    source = open_source(Path(path), crs=mapping.crs, layer=mapping.layer,
                         x_column=mapping.fields.get("x"), y_column=mapping.fields.get("y"),
                         wkt_column=mapping.fields.get("geometry"))
    chunks = source.chunks
    srid = _deployment_srid(db, kind, source.crs, chunks)
    if isinstance(srid, tuple):
        srid, first_chunk = srid
        chunks = _prepend(first_chunk, chunks)
    plan = ImportPlan.build(kind, source.columns, mapping, source.crs, srid,
                            timezone=mapping.timezone or timezone, repair=repair,
                            keep_extra=keep_extra)
    report = ImportReport(kind.name, Path(path), srid=srid)
    with db.engine.begin() as conn:
        writer = _Writer(conn, kind, plan, plan_name, srid, skip_invalid)
        for encoded in _in_background(chunks, writer.prepare_and_encode):
            prepared = encoded.prepared
            report.rows_read += len(prepared.frame) + len(prepared.rejections)
            report.rejections.extend(prepared.rejections)
            report.repaired.extend(prepared.repaired)
            if encoded.payload is not None and (skip_invalid or not report.rejections):
                writer.send(encoded)
            if progress:
                progress(report.rows_read, source.rows)
        if report.rejections and not skip_invalid:
            raise ImportRejected(_rejected_message(report), report.rejections)
        late = writer.finish(skip_invalid)
        if late and not skip_invalid:
            report.rejections.extend(late)
            raise ImportRejected(_rejected_message(report), report.rejections)
        report.rejections.extend(late)
        report.inserted, report.updated, report.unassigned = writer.counts()
    if report.rejections:
        report.rejects_file = write_rejects(rejects_path or rejects_beside(Path(path)),
                                            report.rejections)
    report.seconds = time.perf_counter() - started
    return report


def _rejected_message(report: ImportReport) -> str:
    first = report.rejections[0]
    return (f"{report.path.name}: {len(report.rejections)} of {report.rows_read} rows rejected; "
            f"nothing was imported. First: row {first.row}: {first.reason}. Fix the rows, or "
            "pass --skip-invalid to import the good rows and write the rejected ones to a file.")


def _prepend(first: RawChunk, rest: Iterator[RawChunk]) -> Iterator[RawChunk]:
    yield first
    yield from rest


def _deployment_srid(db: Database, kind: Kind, crs, chunks: Iterator[RawChunk]):
    """The database's SRID; on a new database, the UTM zone of this file's data."""
    try:
        return db.srid
    except NotInitialised:
        if kind.geometry is None or crs is None:
            raise
    first = next(chunks, None)
    if first is None:
        raise NotInitialised("The database has no schema and the file is empty, so no CRS "
                             "can be chosen from it. Run `gridgis init --srid EPSG` first.")
    valid = np.array([g if i not in first.geometry_errors else None
                      for i, g in enumerate(first.geometry)], dtype=object)
    srid = utm_srid_for_geometries(valid, crs)
    migrate(db.engine, srid)
    db.forget_srid()
    return srid, first


def _in_background(chunks: Iterator[RawChunk], work: Callable[[RawChunk], _Encoded]
                   ) -> Iterator[_Encoded]:
    """Run ``work`` on the next chunk while the caller writes the current one."""
    results: queue.Queue = queue.Queue(maxsize=2)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                results.put(work(chunk))
            results.put(done)
        except BaseException as exc:
            results.put(exc)

    thread = threading.Thread(target=produce, name="gridgis-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = results.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                results.get_nowait()
            except queue.Empty:
                thread.join(0.05)


@dataclass
class _Encoded:
    """A prepared chunk and, unless it is not to be written, its COPY payload."""

    prepared: PreparedChunk
    payload: bytes | None = None
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    unassigned: int = 0


class _Writer:
    """Writes prepared rows of one kind in the caller's transaction."""

    def __init__(self, conn: sa.Connection, kind: Kind, plan: ImportPlan,
                 plan_name: str | None, srid: int, skip_invalid: bool) -> None:
        self.conn = conn
        self.skip_invalid = skip_invalid
        self.failed = False
        self.raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        self.kind = kind
        self.plan = plan
        self.srid = srid
        self.columns: list[str] | None = None
        self.inserted = self.updated = self.unassigned = 0
        self.plan_id: int | None = None
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        if kind.name in ("grids", "workers"):
            self.plan_id = _resolve_plan(conn, plan_name, create=kind.name == "grids")
        if kind.name == "grids":
            conn.execute(sa.text("SELECT set_config('gridgis.defer_relink', 'on', true)"))
        self.index: GridIndex | None = None
        if kind.linked and kind.geometry == "point":
            self.index = GridIndex.load(conn)
            conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'on', true)"))
        ref_fields = {r.field for r in kind.references} | {"grid_codes"}
        self.ref_fields = [f for f in kind.field_names if f in ref_fields
                           and (f in plan.columns or f in plan.mapping.constants)]
        self.key = ("external_id",) if plan.mapping.external_id else kind.natural_key
        self.staged = bool(self.key or self.ref_fields)
        self.seen_keys: dict[tuple, int] = {}
        self.duplicates: list[Rejection] = []
        if self.staged:
            self._create_stage()

    # -- writing ------------------------------------------------------------------------

    def prepare_and_encode(self, chunk: RawChunk) -> _Encoded:
        """Validate and encode one chunk (runs in the reader thread)."""
        prepared = prepare_chunk(chunk, self.plan)
        if prepared.rejections:
            self.failed = True
        if self.failed and not self.skip_invalid or prepared.frame.empty:
            return _Encoded(prepared)
        return self._encode(prepared)

    def _encode(self, prepared: PreparedChunk) -> _Encoded:
        frame = prepared.frame.copy()
        encoded = _Encoded(prepared)
        if self.plan_id is not None and self.kind.name == "grids":
            frame["plan_id"] = self.plan_id
        if "geom" in frame:
            geoms = frame["geom"].to_numpy()
            if self.index is not None:
                grid = self.index.locate(geoms)
                encoded.unassigned = int((grid < 0).sum())
                frame["grid_id"] = pd.array(grid, dtype="Int64")
                frame.loc[grid < 0, "grid_id"] = pd.NA
            frame["geom"] = ewkb_hex(geoms, self.srid)
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                frame[column] = iso_utc(frame[column])
        if self.staged:
            frame = self._drop_duplicate_keys(frame)
        else:
            frame = frame.drop(columns=["_row"])
        unused = self._unused_fields()
        encoded.columns = [c for c in frame.columns if c not in unused
                           and (self.staged or c not in self.ref_fields)]
        buffer = io.StringIO()
        frame[encoded.columns].to_csv(buffer, header=False, index=False, na_rep="",
                                      quoting=csv.QUOTE_MINIMAL)
        encoded.payload = buffer.getvalue().encode("utf-8")
        encoded.rows = len(frame)
        return encoded

    def send(self, encoded: _Encoded) -> None:
        """COPY one encoded chunk (runs in the caller's thread)."""
        table = "_gridgis_stage" if self.staged else self.kind.table
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, encoded.columns)))
        with self.raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.write(encoded.payload or b"")
        if not self.staged:
            self.inserted += encoded.rows
            self.unassigned += encoded.unassigned

    def _unused_fields(self) -> set[str]:
        """Fields the file does not provide keep their column default."""
        provided = set(self.plan.columns) | set(self.plan.mapping.constants) \
            | set(self.plan.mapping.datetimes)
        return {f for f in self.kind.field_names if f not in provided}

    def _drop_duplicate_keys(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.key or self.key == ("plan_id", "code") and "code" not in frame:
            return frame
        cols = [c for c in self.key if c in frame]
        keep = np.ones(len(frame), dtype=bool)
        for i, (row, *values) in enumerate(frame[["_row", *cols]].itertuples(index=False)):
            key = tuple(values)
            if key in self.seen_keys:
                keep[i] = False
                self.duplicates.append(Rejection(row, f"duplicate {'/'.join(cols)} "
                                                 f"{'/'.join(map(str, key))} (first on row "
                                                 f"{self.seen_keys[key]})", cols[-1]))
            else:
                self.seen_keys[key] = row
        return frame[keep]

    # -- staging ------------------------------------------------------------------------

    def _create_stage(self) -> None:
        self.conn.execute(sa.text(
            f"CREATE TEMP TABLE _gridgis_stage (LIKE {self.kind.table} INCLUDING DEFAULTS) "
            "ON COMMIT DROP"))
        for name in [*self.ref_fields, "_row"]:
            kind = "bigint" if name == "_row" else "text"
            self.conn.execute(sa.text(f"ALTER TABLE _gridgis_stage ADD COLUMN {name} {kind}"))

    def finish(self, skip_invalid: bool) -> list[Rejection]:
        """Merge the staging table; returns rows rejected only now (bad references)."""
        if not self.staged:
            return []
        rejections = list(self.duplicates) + self._check_references()
        if rejections and not skip_invalid:
            return rejections
        if rejections:
            self.conn.execute(sa.text("DELETE FROM _gridgis_stage WHERE _row = ANY(:rows)"),
                              {"rows": [r.row for r in rejections]})
        self._merge()
        if self.kind.name == "grids":
            self.conn.execute(sa.text("SELECT set_config('gridgis.defer_relink', 'off', true)"))
            published = self.conn.execute(sa.text(
                "SELECT state = 'published' FROM grid_plans WHERE id = :id"),
                {"id": self.plan_id}).scalar_one()
            if published:
                self.conn.execute(sa.text("SELECT gridgis_relink(NULL)"))
        return rejections

    def _check_references(self) -> list[Rejection]:
        rejections = []
        for ref in self.kind.references:
            if ref.field not in self.ref_fields:
                continue
            same_table = ref.table == self.kind.table
            also_stage = (f" OR EXISTS (SELECT 1 FROM _gridgis_stage s2 "
                          f"WHERE s2.{ref.key} = s.{ref.field})") if same_table else ""
            rows = self.conn.execute(sa.text(
                f"SELECT s._row, s.{ref.field} AS value FROM _gridgis_stage s "
                f"WHERE s.{ref.field} IS NOT NULL AND NOT (EXISTS (SELECT 1 FROM {ref.table} t "
                f"WHERE t.{ref.key} = s.{ref.field}){also_stage}) ORDER BY s._row")).all()
            rejections += [Rejection(r._row, f"no {ref.table} row has {ref.key} {r.value!r}",
                                     ref.field) for r in rows]
        if self.kind.name == "workers" and "grid_codes" in self.ref_fields:
            rows = self.conn.execute(sa.text("""
                SELECT s._row, trim(c.code) AS code
                FROM _gridgis_stage s, unnest(string_to_array(s.grid_codes, ',')) c(code)
                WHERE trim(c.code) <> '' AND NOT EXISTS (
                    SELECT 1 FROM grids g WHERE g.code = trim(c.code) AND g.plan_id = :plan)
                ORDER BY s._row"""), {"plan": self.plan_id}).all()
            rejections += [Rejection(r._row, f"no grid with code {r.code!r} in the plan",
                                     "grid_codes") for r in rows]
        return sorted(rejections, key=lambda r: r.row)

    def _merge(self) -> None:
        target = self.kind.table
        stage_cols = {c for (c,) in self.conn.execute(sa.text(
            "SELECT attname FROM pg_attribute WHERE attrelid = '_gridgis_stage'::regclass "
            "AND attnum > 0 AND NOT attisdropped"))}
        excluded = {"_row", "version", "created_at", "updated_at", *self.ref_fields}
        columns = [c for c in self._target_columns() if c in stage_cols and c not in excluded]
        if self.index is None:
            columns = [c for c in columns if c != "grid_id"]
        if self.key:
            updates = [c for c in columns if c not in (*self.key, "id")]
            conflict = (f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET "
                        + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates))
        else:
            conflict = ""
        col_list = ", ".join(columns)
        result = self.conn.execute(sa.text(
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM _gridgis_stage "
            f"ORDER BY _row {conflict} RETURNING (xmax = 0) AS inserted, grid_id IS NULL "
            f"AS unassigned" if self.kind.linked else
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM _gridgis_stage "
            f"ORDER BY _row {conflict} RETURNING (xmax = 0) AS inserted, false")).all()
        self.inserted = sum(1 for r in result if r[0])
        self.updated = len(result) - self.inserted
        self.unassigned = sum(1 for r in result if r[1])
        self._resolve_references()

    def _resolve_references(self) -> None:
        key_join = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in self.key) \
            if self.key else "t.id = s.id"
        for ref in self.kind.references:
            if ref.field not in self.ref_fields:
                continue
            self.conn.execute(sa.text(
                f"UPDATE {self.kind.table} t SET {ref.column} = r.id FROM _gridgis_stage s "
                f"JOIN {ref.table} r ON r.{ref.key} = s.{ref.field} WHERE {key_join}"))
        if self.kind.name == "workers" and "grid_codes" in self.ref_fields:
            self.conn.execute(sa.text(f"""
                INSERT INTO grid_assignments (worker_id, grid_id, role)
                SELECT t.id, g.id, CASE WHEN c.ord = 1 THEN 'primary' ELSE 'secondary' END
                FROM _gridgis_stage s JOIN workers t ON {key_join},
                     unnest(string_to_array(s.grid_codes, ',')) WITH ORDINALITY c(code, ord)
                JOIN grids g ON g.code = trim(c.code) AND g.plan_id = :plan
                ON CONFLICT (worker_id, grid_id) DO UPDATE SET role = EXCLUDED.role"""),
                {"plan": self.plan_id})
        if self.kind.name == "grids" and "community_code" not in self.ref_fields:
            # Without explicit codes a grid belongs to the community containing its
            # interior point.
            self.conn.execute(sa.text("""
                UPDATE grids g SET community_id = a.id
                FROM areas a
                WHERE g.plan_id = :plan AND g.community_id IS NULL AND a.level = 'community'
                  AND ST_Intersects(a.geom, ST_PointOnSurface(g.geom))"""),
                {"plan": self.plan_id})

    def _target_columns(self) -> list[str]:
        return [c for (c,) in self.conn.execute(sa.text(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"t": self.kind.table})]

    def counts(self) -> tuple[int, int, int]:
        return self.inserted, self.updated, self.unassigned


def _resolve_plan(conn: sa.Connection, plan_name: str | None, *, create: bool) -> int:
    """The named plan (created as a draft if missing); by default the published plan,
    or a new published plan called 'default' when there is none."""
    if plan_name:
        plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                               {"n": plan_name}).scalar()
        if plan_id is None:
            if not create:
                raise InvalidInput(f"there is no grid plan named {plan_name!r}", field="--plan")
            plan_id = conn.execute(sa.text(
                "INSERT INTO grid_plans (name, state) VALUES (:n, 'draft') RETURNING id"),
                {"n": plan_name}).scalar_one()
        return int(plan_id)
    plan_id = conn.execute(sa.text(
        "SELECT id FROM grid_plans WHERE state = 'published'")).scalar()
    if plan_id is None:
        if not create:
            raise InvalidInput("there is no published grid plan; import grids first or name "
                               "a plan with --plan", field="--plan")
        plan_id = conn.execute(sa.text(
            "INSERT INTO grid_plans (name, state, valid_from) "
            "VALUES (:n, 'published', now()) RETURNING id"), {"n": DEFAULT_PLAN}).scalar_one()
    return int(plan_id)


def rejects_beside(source: Path, directory: Path | None = None) -> Path:
    """``NAME.rejected.csv`` in ``directory`` (default: the source's own)."""
    return (directory or source.parent) / (source.name.split(".")[0] + ".rejected.csv")


def write_rejects(target: Path, rejections: list[Rejection]) -> Path:
    """The rejected rows with their row number, field and reason."""
    frame = pd.DataFrame([{**r.values, "_row": r.row, "_field": r.field or "",
                           "_reason": r.reason} for r in rejections])
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    return target
