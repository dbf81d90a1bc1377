"""Relinking a table as one spatial join instead of one lookup per row.

``gridgis_relink_table`` used to call ``gridgis_grid_at`` for every row: a function call
and an index probe of all plans' grids per entity, about 50 µs each, so relinking a city
of 4 million entities took minutes whether anything changed or not. Now, for a whole
table, the published grids are the outer side of one join with the table's spatial
index, so each grid's prepared geometry is reused for every entity inside it; ties (an
entity on a shared boundary) go to the smallest code, then the smallest id, and an
entity in no grid gets NULL: the rule of ``gridgis_grid_at``, which still links single
rows on insert and update.

A relink limited to an ``area`` (a published grid changed) keeps the lookup per entity:
the entities meeting the area are few, and a polygon meeting it may lie, by its point
on surface, in a grid that does not.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_PER_ROW = """
        'UPDATE %1$I e SET grid_id = n.grid_id
           FROM (SELECT id, gridgis_grid_at(geom) AS grid_id FROM %1$I
                  WHERE $1 IS NULL OR ST_Intersects(geom, $1)) n
          WHERE e.id = n.id AND e.grid_id IS DISTINCT FROM n.grid_id'"""

_ONE_JOIN = """
        $q$
        WITH published AS MATERIALIZED (
            SELECT g.id, g.code, g.geom FROM grids g
            JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'),
        hits AS (
            SELECT DISTINCT ON (e.id) e.id, g.id AS grid_id
            FROM published g
            JOIN %1$I e ON g.geom && e.geom
             AND ST_Intersects(g.geom, CASE WHEN GeometryType(e.geom) = 'POINT' THEN e.geom
                                            ELSE ST_PointOnSurface(e.geom) END)
            ORDER BY e.id, g.code, g.id)
        UPDATE %1$I e SET grid_id = h.grid_id
        FROM %1$I l LEFT JOIN hits h ON h.id = l.id
        WHERE e.id = l.id AND e.grid_id IS DISTINCT FROM h.grid_id
        $q$"""

_FUNCTION = """
        CREATE OR REPLACE FUNCTION gridgis_relink_table(t text, area geometry DEFAULT NULL)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            n bigint;
            previous text := current_setting('gridgis.trusted_grid_id', true);
        BEGIN
            PERFORM set_config('gridgis.trusted_grid_id', 'on', true);
            IF area IS NULL THEN
                EXECUTE format({whole}, t) USING area;
            ELSE
                EXECUTE format({per_row}, t) USING area;
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            PERFORM set_config('gridgis.trusted_grid_id', coalesce(previous, 'off'), true);
            RETURN n;
        END $$;"""


def upgrade() -> None:
    op.execute(_FUNCTION.format(whole=_ONE_JOIN, per_row=_PER_ROW))


def downgrade() -> None:
    op.execute(_FUNCTION.format(whole=_PER_ROW, per_row=_PER_ROW))
