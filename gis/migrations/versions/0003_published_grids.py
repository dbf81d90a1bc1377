"""The published plan's grids as one view; relinking one table at a time and switching
the published plan as functions of their own, so that long relinks can report progress.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.execute("""
        CREATE VIEW published_grids AS
        SELECT g.id, g.plan_id, g.code, g.name, g.community_id, g.external_id, g.properties,
               g.geom, g.version, g.created_at, g.updated_at
        FROM grids g
        JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published';
        COMMENT ON VIEW published_grids IS
            'The grids of the one published grid plan (read-only).';

        -- Re-link the entities of one located table that intersect area (all when NULL).
        CREATE FUNCTION gridgis_relink_table(t text, area geometry DEFAULT NULL)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            n bigint;
            previous text := current_setting('gridgis.trusted_grid_id', true);
        BEGIN
            PERFORM set_config('gridgis.trusted_grid_id', 'on', true);
            EXECUTE format(
                'UPDATE %1$I e SET grid_id = n.grid_id
                   FROM (SELECT id, gridgis_grid_at(geom) AS grid_id FROM %1$I
                          WHERE $1 IS NULL OR ST_Intersects(geom, $1)) n
                  WHERE e.id = n.id AND e.grid_id IS DISTINCT FROM n.grid_id', t)
            USING area;
            GET DIAGNOSTICS n = ROW_COUNT;
            PERFORM set_config('gridgis.trusted_grid_id', coalesce(previous, 'off'), true);
            RETURN n;
        END $$;

        CREATE OR REPLACE FUNCTION gridgis_relink(area geometry DEFAULT NULL)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            t text;
            total bigint := 0;
        BEGIN
            FOREACH t IN ARRAY ARRAY['buildings', 'households', 'people', 'places', 'things',
                                     'organisations', 'incidents'] LOOP
                total := total + gridgis_relink_table(t, area);
            END LOOP;
            RETURN total;
        END $$;

        -- Retire the published plan and publish this one, leaving the relink to the caller.
        CREATE FUNCTION gridgis_switch_plan(plan bigint) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
            previous text := current_setting('gridgis.defer_relink', true);
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM grid_plans WHERE id = plan) THEN
                RAISE EXCEPTION 'grid plan % does not exist', plan
                    USING ERRCODE = 'no_data_found';
            END IF;
            PERFORM set_config('gridgis.defer_relink', 'on', true);
            UPDATE grid_plans SET state = 'retired', valid_to = now()
             WHERE state = 'published' AND id <> plan;
            UPDATE grid_plans SET state = 'published', valid_from = coalesce(valid_from, now()),
                                  valid_to = NULL
             WHERE id = plan;
            PERFORM set_config('gridgis.defer_relink', coalesce(previous, 'off'), true);
        END $$;

        CREATE OR REPLACE FUNCTION gridgis_publish_plan(plan bigint) RETURNS bigint
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM gridgis_switch_plan(plan);
            RETURN gridgis_relink(NULL);
        END $$;
    """)


def downgrade() -> None:
    op.execute("""
        CREATE OR REPLACE FUNCTION gridgis_publish_plan(plan bigint) RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            previous text := current_setting('gridgis.defer_relink', true);
            n bigint;
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM grid_plans WHERE id = plan) THEN
                RAISE EXCEPTION 'grid plan % does not exist', plan
                    USING ERRCODE = 'no_data_found';
            END IF;
            PERFORM set_config('gridgis.defer_relink', 'on', true);
            UPDATE grid_plans SET state = 'retired', valid_to = now()
             WHERE state = 'published' AND id <> plan;
            UPDATE grid_plans SET state = 'published', valid_from = coalesce(valid_from, now()),
                                  valid_to = NULL
             WHERE id = plan;
            PERFORM set_config('gridgis.defer_relink', coalesce(previous, 'off'), true);
            n := gridgis_relink(NULL);
            RETURN n;
        END $$;

        CREATE OR REPLACE FUNCTION gridgis_relink(area geometry DEFAULT NULL) RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            t text;
            n bigint;
            total bigint := 0;
            previous text := current_setting('gridgis.trusted_grid_id', true);
        BEGIN
            PERFORM set_config('gridgis.trusted_grid_id', 'on', true);
            FOREACH t IN ARRAY ARRAY['buildings', 'households', 'people', 'places', 'things',
                                     'organisations', 'incidents'] LOOP
                EXECUTE format(
                    'UPDATE %1$I e SET grid_id = n.grid_id
                       FROM (SELECT id, gridgis_grid_at(geom) AS grid_id FROM %1$I
                              WHERE $1 IS NULL OR ST_Intersects(geom, $1)) n
                      WHERE e.id = n.id AND e.grid_id IS DISTINCT FROM n.grid_id', t)
                USING area;
                GET DIAGNOSTICS n = ROW_COUNT;
                total := total + n;
            END LOOP;
            PERFORM set_config('gridgis.trusted_grid_id', coalesce(previous, 'off'), true);
            RETURN total;
        END $$;

        DROP FUNCTION gridgis_switch_plan(bigint);
        DROP FUNCTION gridgis_relink_table(text, geometry);
        DROP VIEW published_grids;
    """)
