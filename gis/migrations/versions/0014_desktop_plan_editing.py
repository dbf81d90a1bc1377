"""Editing draft plans in QGIS: a view per plan in schema ``gis``, and the same rules as
the service's edits, checked by the database when a desktop edit commits.

- ``gis.plan_<id>`` (one per plan, made and dropped with it; its comment names the
  plan): the plan's grids, editable by ``gridgis_planner`` through QGIS's ordinary tools
  while the plan is a draft; published and retired plans are read-only. Inserted grids
  get the view's plan and a new id by default. The view runs with the planner's rights
  (``security_invoker``, PostgreSQL 15+); on an older server it is read-only and
  desktop edits go to ``public.grids`` (same checks).
- Before a desktop change: the plan must be a draft (its row is locked, so edits of one
  draft, desktop or service, run one after another), and a grid keeps its plan and
  community.
- A desktop edit (a transaction of ``gridgis_planner``) is checked at commit, row by
  row, against the final state of the plan: a grid may not overlap another by
  ``sliver_m2`` (10 m²) or more, reach outside its community by as much, or be cut into
  more pieces than it had; land a grid gave up or a deleted grid held must be in
  another grid, up to the same tolerance. Otherwise the commit fails with the reason,
  the grid's code and the offending geometry (WKT, WGS84) in the error's detail. With
  QGIS's snapping and topological editing, moving a shared boundary changes both grids
  in one transaction, which passes.
- Every desktop transaction is one entry of the draft's edit log (``plan_edits``, op
  ``desktop``), so that undo (API, map, ``gridgis plans undo``) reverts it too.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PLANNER = "gridgis_planner"
SLIVER_M2 = 10.0
# The statement that makes (or remakes) the view of plan ``p`` (a record with id, name,
# state). With security_invoker (PostgreSQL 15+), the planner's row-level security and
# rights apply through the view; an older server gets a read-only view (edit
# public.grids there, filtered by plan_id).
VIEW_BODY = f"""
    EXECUTE format(
        'CREATE VIEW gis.%I %s AS SELECT id, plan_id, code, name, community_id, geom '
        'FROM public.grids WHERE plan_id = %s WITH CASCADED CHECK OPTION',
        'plan_' || p.id,
        CASE WHEN current_setting('server_version_num')::int >= 150000
             THEN 'WITH (security_invoker = true)' ELSE '' END, p.id);
    EXECUTE format('ALTER VIEW gis.%I ALTER COLUMN plan_id SET DEFAULT %s',
                   'plan_' || p.id, p.id);
    EXECUTE format('ALTER VIEW gis.%I ALTER COLUMN id SET DEFAULT '
                   'nextval(''public.grids_id_seq'')', 'plan_' || p.id);
    EXECUTE format('GRANT SELECT ON gis.%I TO {PLANNER}, gridgis_app', 'plan_' || p.id);
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON gis.%I TO {PLANNER}',
                       'plan_' || p.id);
    END IF;"""


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE plan_edits ADD COLUMN txid bigint;
        CREATE UNIQUE INDEX plan_edits_desktop_idx ON plan_edits (plan_id, txid)
            WHERE txid IS NOT NULL;

        CREATE FUNCTION gridgis_plan_view() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE p record;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                EXECUTE format('DROP VIEW IF EXISTS gis.%I', 'plan_' || OLD.id);
                RETURN OLD;
            END IF;
            p := NEW;
            IF TG_OP = 'INSERT' THEN
                {VIEW_BODY}
            END IF;
            EXECUTE format('COMMENT ON VIEW gis.%I IS %L', 'plan_' || p.id,
                           'grid plan ' || p.name || ' (' || p.state || ')');
            RETURN NEW;
        END $$;
        CREATE TRIGGER grid_plans_view AFTER INSERT OR UPDATE OF name, state OR DELETE
            ON grid_plans FOR EACH ROW EXECUTE FUNCTION gridgis_plan_view();
        DO $$ DECLARE p record; BEGIN
            FOR p IN SELECT id, name, state FROM grid_plans LOOP
                {VIEW_BODY}
                EXECUTE format('COMMENT ON VIEW gis.%I IS %L', 'plan_' || p.id,
                               'grid plan ' || p.name || ' (' || p.state || ')');
            END LOOP;
        END $$;

        -- a desktop edit: the grid stays in its plan and community, the plan is a draft,
        -- and edits of one draft (desktop or service) run one after another
        CREATE FUNCTION gridgis_guard_desktop_edit() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE plan bigint;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                plan := NEW.plan_id;
            ELSE
                plan := OLD.plan_id;
            END IF;
            PERFORM 1 FROM grid_plans WHERE id = plan AND state = 'draft' FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'grid plan % is not a draft: only drafts are edited', plan
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'UPDATE' THEN
                IF NEW.plan_id IS DISTINCT FROM OLD.plan_id
                   OR NEW.community_id IS DISTINCT FROM OLD.community_id THEN
                    RAISE EXCEPTION 'grid %: a desktop edit does not move a grid to another '
                                    'plan or community', OLD.code
                        USING ERRCODE = 'check_violation';
                END IF;
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER grids_guard_desktop BEFORE INSERT OR UPDATE OR DELETE ON grids
            FOR EACH ROW WHEN (current_user = '{PLANNER}')
            EXECUTE FUNCTION gridgis_guard_desktop_edit();

        -- the edit log: one entry per desktop transaction, with what each grid was first
        CREATE FUNCTION gridgis_log_desktop_edit() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            plan bigint;
            old_id bigint;
            before_row jsonb;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                plan := NEW.plan_id;
            ELSE
                plan := OLD.plan_id;
                old_id := OLD.id;
                before_row := jsonb_build_object(
                    'id', OLD.id, 'code', OLD.code, 'name', OLD.name,
                    'community_id', OLD.community_id, 'external_id', OLD.external_id,
                    'properties', OLD.properties, 'geom', encode(ST_AsEWKB(OLD.geom), 'hex'));
            END IF;
            INSERT INTO plan_edits (plan_id, op, summary, actor, before, created, txid)
            VALUES (plan, 'desktop', 'desktop edit (' || session_user || ')', TG_ARGV[0],
                    CASE WHEN before_row IS NULL THEN '[]'::jsonb
                         ELSE jsonb_build_array(before_row) END,
                    CASE WHEN TG_OP = 'INSERT' THEN ARRAY[NEW.id] ELSE '{{}}' END,
                    txid_current())
            ON CONFLICT (plan_id, txid) WHERE txid IS NOT NULL DO UPDATE SET
                before = CASE WHEN before_row IS NULL
                                OR plan_edits.before @> jsonb_build_array(
                                       jsonb_build_object('id', old_id))
                                OR old_id = ANY(plan_edits.created)
                              THEN plan_edits.before
                              ELSE plan_edits.before || jsonb_build_array(before_row) END,
                created = plan_edits.created || EXCLUDED.created;
            RETURN NULL;
        END $$;
        CREATE TRIGGER grids_log_desktop AFTER INSERT OR UPDATE OR DELETE ON grids
            FOR EACH ROW WHEN (current_user = '{PLANNER}')
            EXECUTE FUNCTION gridgis_log_desktop_edit('{PLANNER}');

        CREATE FUNCTION gridgis_check_desktop_edit() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            sliver constant double precision := {SLIVER_M2};
            current_geom geometry;
            current_code text;
            community geometry;
            problem geometry;
            other text;
            vacated geometry;
            was_outside double precision;
            pieces_before integer;
        BEGIN
            IF TG_OP <> 'DELETE' THEN
                SELECT geom, code INTO current_geom, current_code FROM grids WHERE id = NEW.id;
            END IF;
            IF current_geom IS NOT NULL THEN  -- the row as it stands at commit
                SELECT g.code, ST_Intersection(g.geom, current_geom) INTO other, problem
                FROM grids g
                WHERE g.plan_id = NEW.plan_id AND g.id <> NEW.id
                  AND ST_Intersects(g.geom, current_geom)
                  AND ST_Area(ST_Intersection(g.geom, current_geom)) >= sliver
                LIMIT 1;
                IF other IS NOT NULL THEN
                    RAISE EXCEPTION 'grid % overlaps grid % by % m²', current_code, other,
                        round(ST_Area(problem)::numeric)
                        USING ERRCODE = 'check_violation',
                              DETAIL = ST_AsText(ST_Transform(problem, 4326), 7);
                END IF;
                SELECT a.geom INTO community FROM grids g JOIN areas a ON a.id = g.community_id
                WHERE g.id = NEW.id;
                IF community IS NOT NULL THEN  -- no further out than it was
                    problem := ST_Difference(current_geom, community);
                    was_outside := 0;
                    IF TG_OP = 'UPDATE' THEN
                        was_outside := ST_Area(ST_Difference(OLD.geom, community));
                    END IF;
                    IF ST_Area(problem) >= was_outside + sliver THEN
                        RAISE EXCEPTION 'grid % reaches % m² outside its community',
                            current_code, round(ST_Area(problem)::numeric)
                            USING ERRCODE = 'check_violation',
                                  DETAIL = ST_AsText(ST_Transform(problem, 4326), 7);
                    END IF;
                END IF;
                pieces_before := 1;
                IF TG_OP = 'UPDATE' THEN
                    pieces_before := greatest(ST_NumGeometries(OLD.geom), 1);
                END IF;
                IF TRUE THEN
                  IF ST_NumGeometries(current_geom) > pieces_before THEN
                    RAISE EXCEPTION 'grid % would be cut into % pieces: a grid is one '
                                    'contiguous area', current_code,
                                    ST_NumGeometries(current_geom)
                        USING ERRCODE = 'check_violation',
                              DETAIL = ST_AsText(ST_Transform(current_geom, 4326), 7);
                  END IF;
                END IF;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN  -- land given up must be in some grid
                vacated := CASE WHEN current_geom IS NULL THEN OLD.geom
                                ELSE ST_Difference(OLD.geom, current_geom) END;
                IF NOT ST_IsEmpty(vacated) AND ST_Area(vacated) >= sliver THEN
                    SELECT ST_Difference(vacated, coalesce(ST_Union(g.geom),
                                                           'GEOMETRYCOLLECTION EMPTY'))
                    INTO problem
                    FROM grids g
                    WHERE g.plan_id = OLD.plan_id AND ST_Intersects(g.geom, vacated);
                    IF ST_Area(problem) >= sliver THEN
                        RAISE EXCEPTION 'the edit of grid % leaves % m² in no grid',
                            OLD.code, round(ST_Area(problem)::numeric)
                            USING ERRCODE = 'check_violation',
                                  DETAIL = ST_AsText(ST_Transform(problem, 4326), 7);
                    END IF;
                END IF;
            END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER grids_check_desktop AFTER INSERT OR UPDATE OR DELETE
            ON grids DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (current_user = '{PLANNER}')
            EXECUTE FUNCTION gridgis_check_desktop_edit();
        GRANT SELECT ON public.grid_plans, public.areas TO {PLANNER};
    """)


def downgrade() -> None:
    op.execute("""
        DROP TRIGGER grids_check_desktop ON grids;
        DROP TRIGGER grids_guard_desktop ON grids;
        DROP FUNCTION gridgis_guard_desktop_edit();
        DROP FUNCTION gridgis_check_desktop_edit();
        DROP TRIGGER grids_log_desktop ON grids;
        DROP FUNCTION gridgis_log_desktop_edit();
        DROP TRIGGER grid_plans_view ON grid_plans;
        DROP FUNCTION gridgis_plan_view();
        DO $$ DECLARE v record; BEGIN
            FOR v IN SELECT viewname FROM pg_views
                     WHERE schemaname = 'gis' AND viewname ~ '^plan_[0-9]+$' LOOP
                EXECUTE format('DROP VIEW gis.%I', v.viewname);
            END LOOP;
        END $$;
        DROP INDEX plan_edits_desktop_idx;
        ALTER TABLE plan_edits DROP COLUMN txid;
    """)
