"""Writing validated chunks to PostgreSQL with COPY.

A chunk is encoded as CSV in the reader thread and sent in the caller's, so encoding
one chunk overlaps with sending the previous one. Point kinds are linked to grids here
(:class:`gis.linking.GridIndex`, the database's rule) and written with
``gridgis.trusted_grid_id`` set, which spares the per-row trigger lookup. Rows go
straight into the kind's table, or into the staging table when they must be merged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from psycopg import sql

from ..errors import Rejection
from ..linking import DISTRICTS_SQL, GridIndex
from ..partitions import DISTRICT_PARTITIONED
from .encoding import ewkb_hex, iso_utc
from .kinds import Kind
from .plan import ImportPlan
from .readers import RawChunk
from .staging import STAGE_TABLE, NewPlan, StagingTable
from .validate import PreparedChunk, prepare_chunk


@dataclass
class EncodedChunk:
    """A prepared chunk and, unless it is not to be written, its COPY payload."""

    prepared: PreparedChunk
    payload: bytes | None = None
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    unassigned: int = 0


class ChunkWriter:
    """Writes prepared rows of one kind in the caller's transaction."""

    def __init__(self, conn: sa.Connection, kind: Kind, plan: ImportPlan,
                 plan_id: int | None, srid: int, skip_invalid: bool,
                 new_plan: NewPlan | None = None) -> None:
        self.skip_invalid = skip_invalid
        self.failed = False
        self.raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        self.kind = kind
        self.plan = plan
        self.plan_id = plan_id
        self.srid = srid
        self.inserted = self.updated = self.unassigned = 0
        self.index: GridIndex | None = None
        if kind.linked and kind.geometry == "point":
            self.index = GridIndex.load(conn)
            conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'on', true)"))
        self.districts: GridIndex | None = None
        if kind.table in DISTRICT_PARTITIONED:
            self.districts = GridIndex.load(conn, DISTRICTS_SQL)
            conn.execute(sa.text(
                "SELECT set_config('gridgis.trusted_district_id', 'on', true)"))
        ref_fields = {r.field for r in kind.references} | {"grid_codes"}
        self.ref_fields = [f for f in kind.field_names if f in ref_fields
                           and (f in plan.columns or f in plan.mapping.constants)]
        self.key = ("external_id",) if plan.mapping.external_id else kind.natural_key
        self.staged = bool(self.key or self.ref_fields or kind.track)
        self.seen_keys: dict[tuple, int] = {}
        self.plan_name = new_plan.name if new_plan is not None else None \
            if plan_id is None else conn.execute(sa.text(
                "SELECT name FROM grid_plans WHERE id = :p"), {"p": plan_id}).scalar()
        self.duplicates: list[Rejection] = []
        self.stage: StagingTable | None = None
        self.dissolve = plan.mapping.dissolve
        if self.staged:
            self.stage = StagingTable(conn, kind, key=self.key, ref_fields=self.ref_fields,
                                      plan_id=plan_id, with_grid_id=self.index is not None,
                                      dissolve=self.dissolve, new_plan=new_plan)

    def prepare_and_encode(self, chunk: RawChunk) -> EncodedChunk:
        """Validate and encode one chunk (runs in the reader thread)."""
        prepared = prepare_chunk(chunk, self.plan)
        if prepared.rejections:
            self.failed = True
        if self.failed and not self.skip_invalid or prepared.frame.empty:
            return EncodedChunk(prepared)
        return self._encode(prepared)

    def _encode(self, prepared: PreparedChunk) -> EncodedChunk:
        frame = prepared.frame.copy()
        encoded = EncodedChunk(prepared)
        if self.plan_id is not None and self.kind.name == "grids":
            frame["plan_id"] = self.plan_id
        if "geom" in frame:
            geoms = frame["geom"].to_numpy()
            if self.index is not None:
                grid = self.index.locate(geoms)
                encoded.unassigned = int((grid < 0).sum())
                frame["grid_id"] = pd.array(grid, dtype="Int64")
                frame.loc[grid < 0, "grid_id"] = pd.NA
            if self.districts is not None:
                district = self.districts.locate(geoms)
                frame["district_id"] = pd.array(district, dtype="Int64")
                frame.loc[district < 0, "district_id"] = pd.NA
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

    def send(self, encoded: EncodedChunk) -> None:
        """COPY one encoded chunk (runs in the caller's thread)."""
        table = STAGE_TABLE if self.staged else self.kind.table
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
        if not self.key or self.key == ("plan_id", "code") and "code" not in frame \
                or self.dissolve:  # rows sharing a key are joined when staged
            return frame
        cols = [c for c in self.key if c in frame]
        keep = np.ones(len(frame), dtype=bool)
        for i, (row, *values) in enumerate(frame[["_row", *cols]].itertuples(index=False)):
            key = tuple(values)
            if key in self.seen_keys:
                keep[i] = False
                self.duplicates.append(Rejection(
                    row, f"duplicate {self._describe(cols, key)} (first on row "
                         f"{self.seen_keys[key]})", cols[-1]))
            else:
                self.seen_keys[key] = row
        return frame[keep]

    def _describe(self, cols: list[str], key: tuple) -> str:
        """The key as users know it: a grid's code in its plan, by the plan's name."""
        named = dict(zip(cols, key, strict=True))
        plan = named.pop("plan_id", None)
        text = "/".join(named) + " " + "/".join(repr(str(v)) for v in named.values())
        return text if plan is None else f"{text} in grid plan {self.plan_name!r}"

    def finish(self, skip_invalid: bool) -> list[Rejection]:
        """Merge the staged rows; returns rows rejected only now (duplicate keys, bad
        references)."""
        if self.stage is None:
            return []
        rejections = self.stage.finish(self.duplicates, skip_invalid)
        self.inserted, self.updated, self.unassigned = \
            self.stage.inserted, self.stage.updated, self.stage.unassigned
        return rejections

    @property
    def dissolved(self) -> list[tuple[str, int, bool]]:
        """(key, rows, attributes differed) of each key whose rows were joined."""
        return [] if self.stage is None else self.stage.dissolved

    def counts(self) -> tuple[int, int, int]:
        return self.inserted, self.updated, self.unassigned
