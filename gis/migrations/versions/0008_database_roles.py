"""Database roles that mirror the application's, so that nothing connects as the owner
but migrations and commands run by the administrator:

- ``gridgis_app``: the service. Reads and writes the data, may only insert into and
  read the audit log, owns nothing and is no superuser.
- ``gridgis_gis_reader``: desktop GIS and scripts (QGIS, GDAL, psql). Reads the views
  of schema ``gis``, which leave out every personal field (people appear only as
  counts per grid, small counts withheld).
- ``gridgis_planner``: desktop editing of grid plans. Reads what the reader reads and
  the grid tables; may insert, change and delete the grids of draft plans only
  (row-level security), each change audited by trigger.

Roles belong to the whole PostgreSQL cluster: they are created when missing (this
needs CREATEROLE) and granted rights in this database. Tables created by later
migrations are granted to the service by default privileges.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APP, READER, PLANNER = "gridgis_app", "gridgis_gis_reader", "gridgis_planner"
DATA_TABLES = ("areas", "grid_plans", "grids", "workers", "grid_assignments", "buildings",
               "households", "people", "places", "things", "organisations", "incidents",
               "roads", "gridgis_data_version", "gridgis_commit_tokens", "app_users",
               "app_credentials")
SMALL_COUNT = 5  # counts of people below it are withheld from the reader


def upgrade() -> None:
    for role in (APP, READER, PLANNER):
        op.execute(f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
                        NOREPLICATION NOBYPASSRLS;
                END IF;
            EXCEPTION WHEN duplicate_object THEN NULL;  -- another process was first
            END $$""")
    tables = ", ".join(DATA_TABLES)
    op.execute(f"""
        GRANT USAGE ON SCHEMA public TO {APP}, {READER}, {PLANNER};
        GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {APP};
        GRANT SELECT ON gridgis_meta, alembic_version, published_grids TO {APP};
        GRANT SELECT, INSERT ON audit_log TO {APP};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP};

        -- Statement triggers that keep the data version run with the owner's rights, so
        -- that a planner's desktop edit of a grid can bump it.
        ALTER FUNCTION gridgis_data_changed() SECURITY DEFINER
            SET search_path = public, pg_temp;
    """)
    op.execute(f"""
        CREATE SCHEMA gis;
        COMMENT ON SCHEMA gis IS
            'gridgis layers for desktop GIS, without personal fields (read-only)';
        CREATE VIEW gis.areas AS
            SELECT id, level, code, name, name_en, parent_id, geom FROM public.areas;
        CREATE VIEW gis.grid_plans AS
            SELECT id, name, description, state, valid_from, valid_to FROM public.grid_plans;
        CREATE VIEW gis.grids AS
            SELECT id, plan_id, code, name, community_id, version, geom FROM public.grids;
        CREATE VIEW gis.published_grids AS
            SELECT id, plan_id, code, name, community_id, geom FROM public.published_grids;
        CREATE VIEW gis.buildings AS
            SELECT id, name, address, use, levels, households, grid_id, geom
            FROM public.buildings;
        CREATE VIEW gis.households AS
            SELECT id, unit, members, building_id, grid_id, geom FROM public.households;
        CREATE VIEW gis.places AS
            SELECT id, name, category, risk_level, address, grid_id, geom FROM public.places;
        CREATE VIEW gis.things AS
            SELECT id, type, name, status, range_m, fov_deg, bearing_deg, grid_id, geom
            FROM public.things;
        CREATE VIEW gis.organisations AS
            SELECT id, name, kind, address, grid_id, geom FROM public.organisations;
        CREATE VIEW gis.incidents AS
            SELECT id, category, subcategory, occurred_at, reported_at, status, source,
                   grid_id, geom
            FROM public.incidents;
        CREATE VIEW gis.workers AS
            SELECT id, name, employee_no, active FROM public.workers;
        CREATE VIEW gis.grid_assignments AS
            SELECT worker_id, grid_id, role FROM public.grid_assignments;
        CREATE VIEW gis.roads AS SELECT id, name, highway, geom FROM public.roads;
        CREATE VIEW gis.people_per_grid AS
            SELECT g.id, g.code, g.name,
                   CASE WHEN coalesce(p.people, 0) BETWEEN 1 AND {SMALL_COUNT - 1} THEN NULL
                        ELSE coalesce(p.people, 0) END AS people,
                   CASE WHEN coalesce(p.floating, 0) BETWEEN 1 AND {SMALL_COUNT - 1}
                        THEN NULL ELSE coalesce(p.floating, 0) END AS floating,
                   g.geom
            FROM public.published_grids g
            LEFT JOIN (SELECT grid_id, count(*) AS people,
                              count(*) FILTER (WHERE residence_type = 'floating') AS floating
                       FROM public.people GROUP BY grid_id) p ON p.grid_id = g.id;
        COMMENT ON VIEW gis.people_per_grid IS
            'residents per published grid; counts from 1 to {SMALL_COUNT - 1} withheld';

        GRANT USAGE ON SCHEMA gis TO {READER}, {PLANNER}, {APP};
        GRANT SELECT ON ALL TABLES IN SCHEMA gis TO {READER}, {PLANNER}, {APP};
        GRANT SELECT ON public.grid_plans, public.areas TO {PLANNER};
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.grids TO {PLANNER};
        GRANT USAGE, SELECT ON SEQUENCE public.grids_id_seq TO {PLANNER};
    """)
    op.execute(f"""
        ALTER TABLE grids ENABLE ROW LEVEL SECURITY;
        CREATE POLICY grids_service ON grids TO {APP} USING (true) WITH CHECK (true);
        CREATE POLICY grids_planner_read ON grids FOR SELECT TO {PLANNER} USING (true);
        CREATE POLICY grids_planner_insert ON grids FOR INSERT TO {PLANNER}
            WITH CHECK (plan_id IN (SELECT id FROM grid_plans WHERE state = 'draft'));
        CREATE POLICY grids_planner_update ON grids FOR UPDATE TO {PLANNER} USING (true)
            WITH CHECK (plan_id IN (SELECT id FROM grid_plans WHERE state = 'draft'));
        CREATE POLICY grids_planner_delete ON grids FOR DELETE TO {PLANNER}
            USING (plan_id IN (SELECT id FROM grid_plans WHERE state = 'draft'));

        -- Desktop edits bypass the service, so the database audits them itself (as the
        -- owner: the trigger's argument names the role the edit was made as).
        CREATE FUNCTION gridgis_audit_desktop_edit() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'geom' END;
            new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'geom' END;
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.geom IS DISTINCT FROM NEW.geom THEN
                new_row := new_row || jsonb_build_object('geometry_changed', true);
            END IF;
            INSERT INTO audit_log (user_name, roles, client, action, route, resource,
                                   record_ids, before, after)
            VALUES (session_user, ARRAY[TG_ARGV[0]],
                    host(inet_client_addr()), lower(TG_OP), 'database', TG_TABLE_NAME,
                    ARRAY[coalesce(NEW.id, OLD.id)], old_row, new_row);
            RETURN NULL;
        END $$;
        CREATE TRIGGER grids_audit_desktop AFTER INSERT OR UPDATE OR DELETE ON grids
            FOR EACH ROW WHEN (current_user = '{PLANNER}')
            EXECUTE FUNCTION gridgis_audit_desktop_edit('{PLANNER}');
    """)


def downgrade() -> None:
    op.execute(f"""
        DROP TRIGGER grids_audit_desktop ON grids;
        DROP FUNCTION gridgis_audit_desktop_edit();
        DROP POLICY grids_service ON grids;
        DROP POLICY grids_planner_read ON grids;
        DROP POLICY grids_planner_insert ON grids;
        DROP POLICY grids_planner_update ON grids;
        DROP POLICY grids_planner_delete ON grids;
        ALTER TABLE grids DISABLE ROW LEVEL SECURITY;
        DROP SCHEMA gis CASCADE;
        ALTER FUNCTION gridgis_data_changed() SECURITY INVOKER;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP};
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP}, {READER}, {PLANNER};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP}, {PLANNER};
        REVOKE USAGE ON SCHEMA public FROM {APP}, {READER}, {PLANNER};
    """)
