"""The staging table: rows that must be checked against the database before they land.

Rows with an upsert key (``--external-id``, or a natural key such as an area's code)
and rows that reference other rows by code are copied into a temporary table first.
Once the whole file is in, the references are checked and the rows merged into the
kind's table with ``INSERT … ON CONFLICT``, in file order.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..db import table_columns
from ..errors import Rejection
from .kinds import Kind, Reference
from .tracks import check_tracks, snap_to_roads

STAGE_TABLE = "_gridgis_stage"
# Tables whose external ids are kept unique by a table of their own (migration 0021):
# the key table and its column of row ids.
KEY_TABLES = {"incidents": ("incident_keys", "incident_id")}
PENDING_PLAN = -1  # the plan id of staged grids whose plan is made at the merge


@dataclass(frozen=True)
class NewPlan:
    """A grid plan the import makes once its rows have passed every check."""

    name: str
    state: str  # draft, or published when there is no plan yet

    def create(self, conn: sa.Connection) -> int:
        return int(conn.execute(sa.text(
            "INSERT INTO grid_plans (name, state, valid_from) VALUES (:n, :s, CASE WHEN "
            ":s = 'published' THEN now() END) RETURNING id"),
            {"n": self.name, "s": self.state}).scalar_one())


class StagingTable:
    """The temporary table of one import, dropped when its transaction ends."""

    def __init__(self, conn: sa.Connection, kind: Kind, *, key: tuple[str, ...],
                 ref_fields: list[str], plan_id: int | None, with_grid_id: bool,
                 dissolve: bool = False, new_plan: NewPlan | None = None) -> None:
        self.conn = conn
        self.new_plan = new_plan
        self.dissolve = dissolve
        self.dissolved: list[tuple[str, int, bool]] = []
        self.kind = kind
        self.key = key
        self.ref_fields = ref_fields
        self.plan_id = plan_id
        self.with_grid_id = with_grid_id
        self.inserted = self.updated = self.unassigned = 0
        if kind.name == "grids":
            # Relink points to grids once after the merge, not once per grid row.
            conn.execute(sa.text("SELECT set_config('gridgis.defer_relink', 'on', true)"))
        conn.execute(sa.text(
            f"CREATE TEMP TABLE _gridgis_stage (LIKE {kind.table} INCLUDING DEFAULTS) "
            "ON COMMIT DROP"))
        for name in [*ref_fields, "_row"]:
            column_type = "bigint" if name == "_row" else "text"
            conn.execute(sa.text(f"ALTER TABLE _gridgis_stage ADD COLUMN {name} {column_type}"))

    def finish(self, earlier: list[Rejection], skip_invalid: bool) -> list[Rejection]:
        """Merge the staged rows; returns ``earlier`` plus the rows with bad references.
        Nothing is merged if there are any and ``skip_invalid`` is off."""
        self.conn.execute(sa.text("ANALYZE _gridgis_stage"))  # temp tables get no autovacuum
        rejections = list(earlier) + self._check_references()
        if self.kind.track:
            rejections = sorted(rejections + check_tracks(self.conn), key=lambda r: r.row)
        if rejections and not skip_invalid:
            return rejections
        if rejections:
            self.conn.execute(sa.text("DELETE FROM _gridgis_stage WHERE _row = ANY(:rows)"),
                              {"rows": [r.row for r in rejections]})
        if self.dissolve:  # of the rows that passed: a rejected part is in the rejects
            self.dissolved = self._dissolve()
        if self.kind.track:
            snap_to_roads(self.conn)
        if self.new_plan is not None and self.conn.execute(sa.text(
                "SELECT EXISTS (SELECT 1 FROM _gridgis_stage)")).scalar_one():
            self.plan_id = self.new_plan.create(self.conn)
            self.conn.execute(sa.text("UPDATE _gridgis_stage SET plan_id = :p"),
                              {"p": self.plan_id})
        self._merge()
        if self.kind.name == "grids":
            self.conn.execute(sa.text("SELECT set_config('gridgis.defer_relink', 'off', true)"))
            published = self.conn.execute(sa.text(
                "SELECT state = 'published' FROM grid_plans WHERE id = :id"),
                {"id": self.plan_id}).scalar()  # none: every row refused, no plan made
            if published:
                self.conn.execute(sa.text("SELECT gridgis_relink(NULL)"))
        return rejections

    def _dissolve(self) -> list[tuple[str, int, bool]]:
        """Join the rows that share a key into the first of them (its attributes kept),
        their polygons unioned; returns each joined key, how many rows it had, and
        whether their other attributes differed."""
        keys = ", ".join(self.key)
        self.conn.execute(sa.text(f"""
            CREATE TEMP TABLE _gridgis_dissolved ON COMMIT DROP AS
            SELECT {keys}, min(_row) AS first, count(*) AS rows,
                   count(DISTINCT to_jsonb(s) - 'geom' - '_row' - 'id' - 'external_id')
                       > 1 AS differed,
                   ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom
            FROM _gridgis_stage s GROUP BY {keys} HAVING count(*) > 1"""))
        same = " AND ".join(f"s.{k} IS NOT DISTINCT FROM d.{k}" for k in self.key)
        self.conn.execute(sa.text(
            "UPDATE _gridgis_stage s SET geom = d.geom FROM _gridgis_dissolved d "
            "WHERE s._row = d.first"))
        self.conn.execute(sa.text(
            f"DELETE FROM _gridgis_stage s USING _gridgis_dissolved d WHERE {same} "
            "AND s._row <> d.first"))
        shown = self.key[-1]
        joined = [(str(r[0]), int(r[1]), bool(r[2])) for r in self.conn.execute(sa.text(
            f"SELECT {shown}, rows, differed FROM _gridgis_dissolved ORDER BY first"))]
        self.conn.execute(sa.text("DROP TABLE _gridgis_dissolved"))
        return joined

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
            rejections += [Rejection(r._row, f"no {ref.table} row has {ref.key} {r.value!r} "
                                     f"(if the file writes it differently, map it in the "
                                     f"mapping file: [values.{ref.field}] "
                                     f"\"{r.value}\" = \"…\")", ref.field) for r in rows]
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
        for ref in self._references(same_table=False):
            # resolved in the stage, so the rows go in whole, not inserted then updated
            self.conn.execute(sa.text(
                f"UPDATE _gridgis_stage s SET {ref.column} = r.id FROM {ref.table} r "
                f"WHERE r.{ref.key} = s.{ref.field}"))
        stage_cols = set(table_columns(self.conn, STAGE_TABLE))
        excluded = {"_row", "version", "created_at", "updated_at", *self.ref_fields}
        columns = [c for c in table_columns(self.conn, target)
                   if c in stage_cols and c not in excluded]
        if not self.with_grid_id:
            columns = [c for c in columns if c != "grid_id"]
        if self.key == ("external_id",) and target in KEY_TABLES:
            result = self._upsert_by_key_table(columns, *KEY_TABLES[target])
        else:
            result = self._upsert(columns)
        self.inserted = sum(1 for r in result if r[0])
        self.updated = len(result) - self.inserted
        self.unassigned = sum(1 for r in result if r[1])
        self._resolve_references()

    def _upsert(self, columns: list[str]) -> list[sa.Row]:
        target = self.kind.table
        if self.key:
            updates = [c for c in columns if c not in (*self.key, "id")]
            conflict = (f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET "
                        + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates))
        else:
            conflict = ""
        col_list = ", ".join(columns)
        return list(self.conn.execute(sa.text(
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM _gridgis_stage "
            f"ORDER BY _row {conflict} RETURNING (xmax = 0) AS inserted, grid_id IS NULL "
            f"AS unassigned" if self.kind.linked else
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM _gridgis_stage "
            f"ORDER BY _row {conflict} RETURNING (xmax = 0) AS inserted, false")).all())

    def _upsert_by_key_table(self, columns: list[str], keys: str, id_column: str
                             ) -> list[sa.Row]:
        """The upsert of a partitioned table, whose external ids are kept unique by a
        table of their own (``ON CONFLICT`` needs a unique index, which a partitioned
        table can have only on its partition key): the staged rows whose key names a
        live row update it (moving it to another partition if its date or district
        changed), the others are inserted. Imports of the table merge one at a time."""
        target = self.kind.table
        self.conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": keys})
        self.conn.execute(sa.text(f"ALTER TABLE {STAGE_TABLE} ADD COLUMN _merged boolean"))
        updates = ", ".join(f"{c} = s.{c}" for c in columns if c not in ("external_id", "id"))
        updated = self.conn.execute(sa.text(
            f"WITH u AS (UPDATE {target} t SET {updates} FROM {STAGE_TABLE} s "
            f"JOIN {keys} k ON k.external_id = s.external_id "
            f"WHERE t.id = k.{id_column} AND t.external_id = k.external_id "
            "RETURNING s._row, t.grid_id IS NULL AS unassigned) "
            f"UPDATE {STAGE_TABLE} m SET _merged = true FROM u WHERE m._row = u._row "
            "RETURNING false, u.unassigned")).all()
        col_list = ", ".join(columns)
        inserted = self.conn.execute(sa.text(
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM {STAGE_TABLE} "
            "WHERE _merged IS NOT TRUE ORDER BY _row RETURNING true, grid_id IS NULL")).all()
        return [*updated, *inserted]

    def _references(self, *, same_table: bool) -> list[Reference]:
        """The references the file gives, to this kind's own table or to others."""
        return [ref for ref in self.kind.references if ref.field in self.ref_fields
                and (ref.table == self.kind.table) == same_table]

    def _resolve_references(self) -> None:
        # Key values are never null (an empty external id or code is refused), so the
        # join is an equality the planner can hash: IS NOT DISTINCT FROM made it a nested
        # loop, quadratic in the rows (a million households took hours).
        key_join = " AND ".join(f"t.{k} = s.{k}" for k in self.key) \
            if self.key else "t.id = s.id"
        for ref in self._references(same_table=True):  # the rows they name are in now
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
