"""Incidents counted per 64 m cell and category, kept by the database, so that a map
of a city's incidents at the zooms that show the city (a tile clustering half a
million incidents) is made from tens of thousands of cells instead of every row.

- ``incident_cells``: per cell (``cell_x``, ``cell_y``: the cell's index, floor of the
  storage CRS's metres over ``CELL_M``) and category, the incidents and the sums of
  their coordinates (a cluster's centre is their mean). Rows are deltas: every
  statement that inserts, deletes or moves incidents (or changes their category)
  appends its own rows (negative for rows gone), so that writers never wait for one
  another on a cell (a day's import and the API's new incidents alike); a cell's
  figures are the sums of its rows. ``gridgis_compact_incident_cells`` merges them
  (after imports and at the service's start).
- Kept in the writer's transaction by triggers of ``incidents``: statement-level ones
  with transition tables for inserts and deletes, a row-level one for updates of
  ``geom`` or ``category`` (PostgreSQL allows no column list beside transition tables,
  and an update of every row's grid must not copy every row twice). Statements on a
  partition itself (the moves of ``gridgis_place_incidents``: out of one partition,
  into another) change nothing here, as they change no incident. What goes round the
  triggers (a partition detached or dropped to archive a year, rows written into a
  partition by hand) is repaired by ``gridgis_rebuild_incident_cells``, which the
  service runs at its start and after incident imports when the cells' counts or
  coordinate sums per category differ from the incidents'.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

APP = "gridgis_app"
CELL_M = 64  # gis.features.cells.CELL_M: the tiles use the cells from twice this size

DELTA = """
    SELECT floor(ST_X(geom) / {cell})::int, floor(ST_Y(geom) / {cell})::int, category,
           {sign} count(*)::int, {sign} sum(ST_X(geom)), {sign} sum(ST_Y(geom)), {merged}
    FROM {rows} GROUP BY 1, 2, 3"""


def _delta(rows: str, sign: str, merged: bool = False) -> str:
    return DELTA.format(cell=CELL_M, rows=rows, sign=sign, merged=str(merged).lower())


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE incident_cells (
            cell_x   integer NOT NULL,
            cell_y   integer NOT NULL,
            category text NOT NULL,
            n        integer NOT NULL,
            sum_x    double precision NOT NULL,
            sum_y    double precision NOT NULL,
            merged   boolean NOT NULL  -- false: a delta a compaction has not merged yet
        );
        CREATE INDEX incident_cells_cell_idx ON incident_cells (cell_x, cell_y);
        CREATE INDEX incident_cells_delta_idx ON incident_cells (cell_x, cell_y, category)
            WHERE NOT merged;
        REVOKE ALL ON incident_cells FROM {APP};
        GRANT SELECT ON incident_cells TO {APP};

        CREATE FUNCTION gridgis_incident_cells_inserted() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            INSERT INTO incident_cells {_delta("added", "")};
            RETURN NULL;
        END $$;

        CREATE FUNCTION gridgis_incident_cells_deleted() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            INSERT INTO incident_cells {_delta("removed", "-")};
            RETURN NULL;
        END $$;

        -- A row moved or given another category: a row trigger of those two columns
        -- only, so that the updates that change neither (grids relinked, districts
        -- given, statuses) cost nothing here; it also sees a row an update moves to
        -- another partition (a BEFORE trigger fires on the partition it leaves).
        CREATE FUNCTION gridgis_incident_cells_updated() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            INSERT INTO incident_cells VALUES
                (floor(ST_X(OLD.geom) / {CELL_M})::int, floor(ST_Y(OLD.geom) / {CELL_M})::int,
                 OLD.category, -1, -ST_X(OLD.geom), -ST_Y(OLD.geom), false),
                (floor(ST_X(NEW.geom) / {CELL_M})::int, floor(ST_Y(NEW.geom) / {CELL_M})::int,
                 NEW.category, 1, ST_X(NEW.geom), ST_Y(NEW.geom), false);
            RETURN NEW;
        END $$;

        -- TRUNCATE, not DELETE: it waits for a compaction under way, whose merged rows
        -- a DELETE's snapshot would not see
        CREATE FUNCTION gridgis_incident_cells_truncated() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            TRUNCATE incident_cells;
            RETURN NULL;
        END $$;

        CREATE TRIGGER incidents_cells_insert AFTER INSERT ON incidents
            REFERENCING NEW TABLE AS added
            FOR EACH STATEMENT EXECUTE FUNCTION gridgis_incident_cells_inserted();
        CREATE TRIGGER incidents_cells_delete AFTER DELETE ON incidents
            REFERENCING OLD TABLE AS removed
            FOR EACH STATEMENT EXECUTE FUNCTION gridgis_incident_cells_deleted();
        CREATE TRIGGER incidents_cells_update BEFORE UPDATE OF geom, category ON incidents
            FOR EACH ROW WHEN (OLD.geom IS DISTINCT FROM NEW.geom
                               OR OLD.category IS DISTINCT FROM NEW.category)
            EXECUTE FUNCTION gridgis_incident_cells_updated();
        CREATE TRIGGER incidents_cells_truncate AFTER TRUNCATE ON incidents
            FOR EACH STATEMENT EXECUTE FUNCTION gridgis_incident_cells_truncated();

        -- One row per cell and category where deltas were added. Rows deleted here are
        -- those this statement saw; deltas committed meanwhile stay, so that a
        -- compaction running beside writers loses nothing (beside a rebuild or another
        -- compaction it waits).
        CREATE FUNCTION gridgis_compact_incident_cells() RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        SET lock_timeout = '10s' AS $$
        DECLARE written bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('gridgis_incident_cells'));
            WITH touched AS (
                SELECT DISTINCT cell_x, cell_y, category FROM incident_cells
                WHERE NOT merged
            ), gone AS (
                DELETE FROM incident_cells c USING touched t
                WHERE (c.cell_x, c.cell_y, c.category) = (t.cell_x, t.cell_y, t.category)
                RETURNING c.*
            )
            INSERT INTO incident_cells
            SELECT cell_x, cell_y, category, sum(n), sum(sum_x), sum(sum_y), true
            FROM gone GROUP BY cell_x, cell_y, category HAVING sum(n) <> 0;
            GET DIAGNOSTICS written = ROW_COUNT;
            RETURN written;
        END $$;
        REVOKE EXECUTE ON FUNCTION gridgis_compact_incident_cells() FROM PUBLIC;

        -- Counted again from the incidents (a repair): writers of incidents wait for it
        -- (a SHARE lock, had within 10 s or not at all; seconds for a city).
        CREATE FUNCTION gridgis_rebuild_incident_cells() RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        SET lock_timeout = '10s' AS $$
        DECLARE counted bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('gridgis_incident_cells'));
            LOCK TABLE incidents IN SHARE MODE;
            DELETE FROM incident_cells;
            INSERT INTO incident_cells {_delta("incidents", "", merged=True)};
            GET DIAGNOSTICS counted = ROW_COUNT;
            -- a statement on incidents that changes no row: its statement triggers move
            -- the incidents' version, so that tiles kept from the wrong cells are dropped
            UPDATE incidents SET status = status WHERE false;
            RETURN counted;
        END $$;
        REVOKE EXECUTE ON FUNCTION gridgis_rebuild_incident_cells() FROM PUBLIC;

        SELECT gridgis_rebuild_incident_cells();
    """)


def downgrade() -> None:
    op.execute("""
        DROP TRIGGER incidents_cells_insert ON incidents;
        DROP TRIGGER incidents_cells_delete ON incidents;
        DROP TRIGGER incidents_cells_update ON incidents;
        DROP TRIGGER incidents_cells_truncate ON incidents;
        DROP FUNCTION gridgis_incident_cells_inserted();
        DROP FUNCTION gridgis_incident_cells_deleted();
        DROP FUNCTION gridgis_incident_cells_updated();
        DROP FUNCTION gridgis_incident_cells_truncated();
        DROP FUNCTION gridgis_compact_incident_cells();
        DROP FUNCTION gridgis_rebuild_incident_cells();
        DROP TABLE incident_cells;
    """)
