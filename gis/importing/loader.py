"""``gridgis import``: one file, one transaction, every row in or none.

This module runs one import: it settles the deployment CRS and the grid plan, has the
chunks read and validated in a background thread while the main thread writes the
previous one (:mod:`.writer`), and reports or writes out the rejected rows.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..access import audit
from ..crs import utm_srid_for_geometries
from ..db import Database, migrate
from ..errors import ImportRejected, InvalidInput, NotInitialised, Rejection
from ..incident_cells import tend_incident_cells_quietly
from ..partitions import place_waiting_incidents
from .kinds import Kind, get_kind
from .mapping import Mapping
from .plan import ImportPlan
from .readers import RawChunk, open_source
from .staging import PENDING_PLAN, NewPlan
from .writer import ChunkWriter, EncodedChunk

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
    # (code, rows joined, their other attributes differed: the first row's were kept)
    dissolved: list[tuple[str, int, bool]] = field(default_factory=list)


def import_file(db: Database, kind_name: str, path: Path, *, mapping: Mapping | None = None,
                plan_name: str | None = None, skip_invalid: bool = False, repair: bool = True,
                timezone: str = "UTC", keep_extra: bool = True,
                rejects_path: Path | None = None,
                progress: ProgressCallback | None = None,
                actor: str = "gridgis") -> ImportReport:
    """Import one file in one transaction; see the module docstring. With
    ``skip_invalid`` the rejected rows go to ``rejects_path`` (default: beside the file).
    The import is recorded in the audit log, in its transaction, as ``actor`` (a command
    passes ``cli:`` and the operating-system user)."""
    started = time.perf_counter()
    try:
        kind = get_kind(kind_name)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="KIND") from exc
    mapping = mapping or Mapping()
    if mapping.kind and mapping.kind != kind.name:
        raise InvalidInput(f"the mapping file is for {mapping.kind}, not {kind.name}")
    if mapping.dissolve and kind.name not in ("areas", "grids"):
        raise InvalidInput("dissolve joins the polygons of rows that share a code: it is "
                           f"for areas and grids, not {kind.name}", field="--dissolve")
    if mapping.dissolve and mapping.external_id:
        raise InvalidInput("dissolve joins rows by their code, and an external id tells "
                           "rows apart: use one or the other", field="--dissolve")
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
    total = source.total_rows() if progress else None
    with db.engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        plan_id, new_plan = (_resolve_grid_plan(conn, plan_name, create=kind.name == "grids")
                             if kind.name in ("grids", "workers") else (None, None))
        writer = ChunkWriter(conn, kind, plan, plan_id, srid, skip_invalid, new_plan)
        for encoded in _in_background(chunks, writer.prepare_and_encode):
            prepared = encoded.prepared
            report.rows_read += len(prepared.frame) + len(prepared.rejections)
            report.rejections.extend(prepared.rejections)
            report.repaired.extend(prepared.repaired)
            if encoded.payload is not None and (skip_invalid or not report.rejections):
                writer.send(encoded)
            if progress:
                progress(report.rows_read, total)
        if report.rejections and not skip_invalid:
            raise ImportRejected(_rejected_message(report), report.rejections)
        late = writer.finish(skip_invalid)
        if late and not skip_invalid:
            report.rejections.extend(late)
            raise ImportRejected(_rejected_message(report), report.rejections)
        report.rejections.extend(late)
        report.inserted, report.updated, report.unassigned = writer.counts()
        report.dissolved = writer.dissolved
        audit.record(conn, None, audit.Entry(
            "import", kind.name,
            personal="unmasked" if any(f.sensitive for f in kind.fields) else None,
            detail=f"{report.inserted} inserted, {report.updated} updated, "
                   f"{len(report.rejections)} rejected"
                   + (f", {sum(n for _, n, _ in report.dissolved)} rows dissolved into "
                      f"{len(report.dissolved)}" if report.dissolved else "")
                   + f", from {Path(path).resolve()}"),
            user_name=actor)
    if kind.table == "incidents" or kind.name == "areas":
        # after the commit, in a short transaction of its own: moving rows out of a
        # default partition locks it, which must not last the whole import
        place_waiting_incidents(db.engine)
    if kind.table == "incidents":
        tend_incident_cells_quietly(db.engine)  # merges the import's deltas
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


def _in_background(chunks: Iterator[RawChunk], work: Callable[[RawChunk], EncodedChunk]
                   ) -> Iterator[EncodedChunk]:
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


def _resolve_grid_plan(conn: sa.Connection, plan_name: str | None, *, create: bool
                       ) -> tuple[int, NewPlan | None]:
    """The named plan (a new draft if missing); by default the published plan, or a new
    published plan called 'default' when there is none. A new plan is made only once
    the file's rows have passed every check (``NewPlan``; its id is ``PENDING_PLAN``
    until then), so that a refused import leaves no plan behind and takes no id."""
    if plan_name:
        plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                               {"n": plan_name}).scalar()
        if plan_id is None:
            if not create:
                raise InvalidInput(f"there is no grid plan named {plan_name!r}", field="--plan")
            return PENDING_PLAN, NewPlan(plan_name, "draft")
        return int(plan_id), None
    plan_id = conn.execute(sa.text(
        "SELECT id FROM grid_plans WHERE state = 'published'")).scalar()
    if plan_id is None:
        if not create:
            raise InvalidInput("there is no published grid plan; import grids first or name "
                               "a plan with --plan", field="--plan")
        return PENDING_PLAN, NewPlan(DEFAULT_PLAN, "published")
    return int(plan_id), None


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
