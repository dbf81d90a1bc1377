"""Incidents partitioned by district, then by year, so that a city or a province keeps
years of incidents in one database without every read and every vacuum touching all of
them: a read of one district or one period scans only its partitions, and a year is
archived by detaching its partition instead of deleting its rows.

- ``district_id``: the district area whose polygon holds the incident (smallest code
  first, as grids are linked), NULL outside every district. PostgreSQL routes a new
  row to its partition before any trigger of the row runs, so writers set it
  (``gridgis_district_at``; the importer locates it as it locates grids); a row
  written without it (by SQL, a desktop GIS) takes it at once from a trigger of the
  default partition it lands in. An incident moved (its geometry changed) takes its
  new district in a BEFORE UPDATE trigger (which may change the partition key: the
  row then moves), and when a district is drawn, redrawn or removed, a trigger on
  ``areas`` gives the incidents it covers their district again. All in the writer's
  transaction; a change of district alone changes neither version nor updated_at.
- ``incidents`` → ``incidents_d<district id>`` (LIST) → ``incidents_d<id>_<year>``
  (RANGE over ``occurred_at``, calendar years in UTC). Rows no partition takes land in
  a default partition (``incidents_other``, ``incidents_d<id>_other``) and are never
  refused; ``gridgis_place_incidents`` makes the missing partitions (each district's,
  ten years back to next year, and every year of a row waiting in a default) and
  moves those rows into them.
- A unique index of a partitioned table must hold the partition key, so external ids
  are kept unique in ``incident_keys`` by triggers of the same statement; a key whose
  row went without its trigger (a partition detached or dropped) is taken over by
  the next row with that id. The importer's upsert looks rows up there.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

APP, READER, PLANNER = "gridgis_app", "gridgis_gis_reader", "gridgis_planner"
YEARS_BACK = 10  # partitions made ahead of any row for a district's recent years

COLUMNS = """
    id, category, subcategory, occurred_at, reported_at, status, source, description,
    grid_id, synthetic, external_id, properties, geom, version, created_at, updated_at"""

INDEXES = """
    CREATE INDEX incidents_id_idx ON incidents (id);
    CREATE INDEX incidents_occurred_idx ON incidents (occurred_at);
    CREATE INDEX incidents_category_idx ON incidents (category, occurred_at);
    CREATE INDEX incidents_geom_idx ON incidents USING gist (geom);
    CREATE INDEX incidents_grid_idx ON incidents (grid_id);
    CREATE INDEX incidents_external_id_idx ON incidents (external_id);"""

STATEMENT_TRIGGERS = {  # name: function, as 0004, 0018 and 0019 made them
    "incidents_change_count": "gridgis_table_changed",
    "incidents_data_version": "gridgis_data_changed",
    "incidents_gridgis_notify_data": "gridgis_notify_data",
}

GIS_VIEW = """
    CREATE VIEW gis.incidents AS
        SELECT id, category, subcategory, occurred_at, reported_at, status, source,
               grid_id, geom
        FROM public.incidents;
    GRANT SELECT ON gis.incidents TO {READER}, {PLANNER}, {APP};"""

TRIGGERS = """
    -- BEFORE triggers fire in name order: the district before the grid and the version.
    CREATE TRIGGER incidents_district BEFORE UPDATE OF geom ON incidents
        FOR EACH ROW WHEN (OLD.geom IS DISTINCT FROM NEW.geom)
        EXECUTE FUNCTION gridgis_incident_moved();
    CREATE TRIGGER incidents_link BEFORE INSERT OR UPDATE ON incidents
        FOR EACH ROW EXECUTE FUNCTION gridgis_link();
    CREATE TRIGGER incidents_touch BEFORE UPDATE ON incidents
        FOR EACH ROW EXECUTE FUNCTION gridgis_touch_incident();
    CREATE TRIGGER incidents_key_insert AFTER INSERT ON incidents
        FOR EACH ROW WHEN (NEW.external_id IS NOT NULL)
        EXECUTE FUNCTION gridgis_incident_key();
    CREATE TRIGGER incidents_key_delete AFTER DELETE ON incidents
        FOR EACH ROW WHEN (OLD.external_id IS NOT NULL)
        EXECUTE FUNCTION gridgis_incident_key();
    CREATE TRIGGER incidents_key_update AFTER UPDATE OF external_id, id ON incidents
        FOR EACH ROW WHEN (OLD.external_id IS DISTINCT FROM NEW.external_id
                           OR OLD.id <> NEW.id)
        EXECUTE FUNCTION gridgis_incident_key();
    CREATE TRIGGER incidents_key_truncate AFTER TRUNCATE ON incidents
        FOR EACH STATEMENT EXECUTE FUNCTION gridgis_incident_key();
    CREATE TRIGGER incidents_other_district AFTER INSERT ON incidents_other
        FOR EACH ROW WHEN (NEW.district_id IS NULL AND current_setting(
            'gridgis.trusted_district_id', true) IS DISTINCT FROM 'on')
        EXECUTE FUNCTION gridgis_take_district();
    CREATE TRIGGER areas_district_insert AFTER INSERT ON areas
        FOR EACH ROW WHEN (NEW.level = 'district')
        EXECUTE FUNCTION gridgis_district_changed();
    CREATE TRIGGER areas_district_update AFTER UPDATE ON areas
        FOR EACH ROW WHEN ((OLD.level = 'district' OR NEW.level = 'district')
                           AND (OLD.geom IS DISTINCT FROM NEW.geom
                                OR OLD.level IS DISTINCT FROM NEW.level
                                OR OLD.code IS DISTINCT FROM NEW.code))
        EXECUTE FUNCTION gridgis_district_changed();
    CREATE TRIGGER areas_district_delete AFTER DELETE ON areas
        FOR EACH ROW WHEN (OLD.level = 'district')
        EXECUTE FUNCTION gridgis_district_changed();
    CREATE TRIGGER areas_district_truncate AFTER TRUNCATE ON areas
        FOR EACH STATEMENT EXECUTE FUNCTION gridgis_district_changed();"""

FUNCTIONS = f"""
    CREATE FUNCTION gridgis_district_at(g geometry) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT a.id FROM areas a
        WHERE a.level = 'district' AND ST_Intersects(a.geom, g)
        ORDER BY a.code, a.id
        LIMIT 1
    $$;

    CREATE TABLE incident_keys (
        external_id text PRIMARY KEY,
        incident_id bigint NOT NULL
    );
    REVOKE ALL ON incident_keys FROM {APP};
    GRANT SELECT ON incident_keys TO {APP};

    -- A key whose row is gone without its trigger (a partition detached or dropped)
    -- is taken over; a key of a live row is a duplicate.
    CREATE FUNCTION gridgis_incident_key() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE holder bigint;
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            TRUNCATE incident_keys;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.external_id IS NOT NULL THEN
            DELETE FROM incident_keys
             WHERE external_id = OLD.external_id AND incident_id = OLD.id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.external_id IS NOT NULL THEN
            INSERT INTO incident_keys (external_id, incident_id)
            VALUES (NEW.external_id, NEW.id) ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN  -- only now look for the row that holds it
                SELECT incident_id INTO holder FROM incident_keys
                 WHERE external_id = NEW.external_id;
                IF holder <> NEW.id AND EXISTS (
                        SELECT FROM incidents i
                        WHERE i.id = holder AND i.external_id = NEW.external_id) THEN
                    RAISE EXCEPTION 'duplicate key value violates unique constraint "%"',
                                    'incident_keys_pkey'
                        USING ERRCODE = 'unique_violation',
                              CONSTRAINT = 'incident_keys_pkey', TABLE = 'incident_keys',
                              DETAIL = format('Key (external_id)=(%s) already exists.',
                                              NEW.external_id);
                END IF;
                UPDATE incident_keys SET incident_id = NEW.id
                 WHERE external_id = NEW.external_id;
            END IF;
        END IF;
        RETURN NULL;
    END $$;

    -- The version and the time of change are the incident's: moving it to another
    -- partition (its district found again) changes neither.
    CREATE FUNCTION gridgis_touch_incident() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        district bigint := NEW.district_id;
    BEGIN
        IF district IS DISTINCT FROM OLD.district_id THEN
            NEW.district_id := OLD.district_id;
            IF NEW IS NOT DISTINCT FROM OLD THEN
                NEW.district_id := district;
                RETURN NEW;
            END IF;
            NEW.district_id := district;
        END IF;
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
        RETURN NEW;
    END $$;

    -- A moved incident takes the district of its new place (a BEFORE UPDATE trigger
    -- may change the partition key: the row then moves).
    CREATE FUNCTION gridgis_incident_moved() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    BEGIN
        NEW.district_id := gridgis_district_at(NEW.geom);
        RETURN NEW;
    END $$;

    -- The incidents in ``area`` (all when NULL) take their district again.
    CREATE FUNCTION gridgis_redistrict(area geometry DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
        n bigint;
        previous text := current_setting('gridgis.trusted_grid_id', true);
    BEGIN
        PERFORM set_config('gridgis.trusted_grid_id', 'on', true);  -- grids unchanged
        UPDATE incidents i SET district_id = n.district_id
        FROM (SELECT r.id, r.occurred_at,
                     (SELECT a.id FROM areas a
                      WHERE a.level = 'district' AND ST_Intersects(a.geom, r.geom)
                      ORDER BY a.code, a.id LIMIT 1) AS district_id
              FROM incidents r
              WHERE area IS NULL OR ST_Intersects(r.geom, area)) n
        WHERE i.id = n.id AND i.occurred_at = n.occurred_at
          AND i.district_id IS DISTINCT FROM n.district_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('gridgis.trusted_grid_id', coalesce(previous, 'off'), true);
        RETURN n;
    END $$;
    REVOKE EXECUTE ON FUNCTION gridgis_redistrict(geometry) FROM PUBLIC;

    -- A district drawn, redrawn or removed: the incidents it covered or covers now
    -- take their district again (and move partition), in the writer's transaction.
    CREATE FUNCTION gridgis_district_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            PERFORM gridgis_redistrict(NULL);
        ELSE
            PERFORM gridgis_redistrict(ST_Collect(
                CASE WHEN TG_OP <> 'INSERT' THEN OLD.geom END,
                CASE WHEN TG_OP <> 'DELETE' THEN NEW.geom END));
        END IF;
        RETURN NULL;
    END $$;

    -- A row that came without its district (a writer that does not know of them: SQL,
    -- a desktop GIS) takes it at once, moving from the default partition to its own (a
    -- statement per row: the importer, which locates districts itself, sets
    -- gridgis.trusted_district_id for its transaction to skip it).
    CREATE FUNCTION gridgis_take_district() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
        district bigint := gridgis_district_at(NEW.geom);
        previous text := current_setting('gridgis.trusted_grid_id', true);
    BEGIN
        IF district IS NOT NULL THEN
            PERFORM set_config('gridgis.trusted_grid_id', 'on', true);
            UPDATE incidents SET district_id = district
             WHERE id = NEW.id AND occurred_at = NEW.occurred_at AND district_id IS NULL;
            PERFORM set_config('gridgis.trusted_grid_id', coalesce(previous, 'off'), true);
        END IF;
        RETURN NULL;
    END $$;

    -- Rows moved into ``part``, a table not attached yet (whose triggers do not run):
    -- their keys, which leaving the default partition deleted, are written again.
    CREATE FUNCTION gridgis_move_incidents(source text, part text, condition text,
                                           district bigint, low timestamptz,
                                           high timestamptz) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE n bigint;
    BEGIN
        EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', source);  -- writers wait
        EXECUTE format('WITH m AS (DELETE FROM %I WHERE %s RETURNING *) '
                       'INSERT INTO %I SELECT * FROM m', source, condition, part)
           USING district, low, high;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            EXECUTE format('INSERT INTO incident_keys (external_id, incident_id) '
                           'SELECT external_id, id FROM %I WHERE external_id IS NOT NULL '
                           'ON CONFLICT DO NOTHING', part);
            EXECUTE format('ANALYZE %I', part);  -- the OGC extent estimates from it
        END IF;
        RETURN n;
    END $$;
    REVOKE EXECUTE ON FUNCTION gridgis_move_incidents(text, text, text, bigint,
                                                      timestamptz, timestamptz) FROM PUBLIC;

    -- The partitions of every district for the years from ten back to next year and
    -- every year of a row waiting in its default partition; waiting rows a new
    -- partition takes are moved into it (keeping id, version, grid and key). With
    -- redistrict, every row's district is computed again first (a repair). A district
    -- partition someone detached stays detached. Returns the number of rows moved.
    CREATE FUNCTION gridgis_place_incidents(redistrict boolean DEFAULT false)
    RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp SET lock_timeout = '10s' AS $$
    DECLARE
        this_year int := extract(year FROM now() AT TIME ZONE 'UTC')::int;
        district bigint;
        parent text;
        part text;
        y int;
        moved bigint := 0;
        years int[];
        new_parent boolean;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('gridgis_place_incidents'));
        IF redistrict THEN
            PERFORM gridgis_redistrict(NULL);
        END IF;
        FOR district IN SELECT id FROM areas WHERE level = 'district' ORDER BY id LOOP
            parent := 'incidents_d' || district;
            new_parent := to_regclass(parent) IS NULL;
            IF new_parent THEN
                SELECT array_agg(DISTINCT extract(year FROM occurred_at AT TIME ZONE 'UTC')::int)
                  INTO years FROM incidents_other WHERE district_id = district;
                EXECUTE format('CREATE TABLE %I (LIKE incidents INCLUDING DEFAULTS '
                               'INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_at)',
                               parent);
                EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT',
                               parent || '_other', parent);
                -- no direct rights for the service (the default privileges give them)
                EXECUTE format('REVOKE ALL ON %I, %I FROM {APP}', parent, parent || '_other');
            ELSIF NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = to_regclass(parent)) THEN
                CONTINUE;  -- detached (archived, or handed to another server)
            ELSE
                EXECUTE format('SELECT array_agg(DISTINCT extract(year FROM occurred_at '
                               'AT TIME ZONE ''UTC'')::int) FROM %I', parent || '_other')
                   INTO years;
            END IF;
            FOR y IN SELECT DISTINCT v FROM unnest(years || ARRAY(SELECT generate_series(
                         this_year - {YEARS_BACK}, this_year + 1))) v ORDER BY v LOOP
                part := parent || '_' || y;
                CONTINUE WHEN to_regclass(part) IS NOT NULL;
                IF new_parent THEN  -- nothing waits in it: made in place
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) '
                                   'TO (%L)', part, parent, y || '-01-01 00:00:00+00',
                                   (y + 1) || '-01-01 00:00:00+00');
                ELSE
                    EXECUTE format('CREATE TABLE %I (LIKE incidents INCLUDING DEFAULTS '
                                   'INCLUDING CONSTRAINTS)', part);
                    moved := moved + gridgis_move_incidents(
                        parent || '_other', part, 'occurred_at >= $2 AND occurred_at < $3',
                        NULL, (y || '-01-01 00:00:00+00')::timestamptz,
                        ((y + 1) || '-01-01 00:00:00+00')::timestamptz);
                    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) '
                                   'TO (%L)', parent, part, y || '-01-01 00:00:00+00',
                                   (y + 1) || '-01-01 00:00:00+00');
                END IF;
                EXECUTE format('REVOKE ALL ON %I FROM {APP}', part);
            END LOOP;
            IF new_parent THEN
                moved := moved + gridgis_move_incidents(
                    'incidents_other', parent, 'district_id = $1', district, NULL, NULL);
                EXECUTE format('ALTER TABLE incidents ATTACH PARTITION %I FOR VALUES IN (%s)',
                               parent, district);
            END IF;
        END LOOP;
        RETURN moved;
    END $$;
    REVOKE EXECUTE ON FUNCTION gridgis_place_incidents(boolean) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION gridgis_place_incidents(boolean) TO {APP};
"""


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE incidents RENAME TO incidents_unpartitioned;
        CREATE TABLE incidents (
            LIKE incidents_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
            district_id bigint
        ) PARTITION BY LIST (district_id);
        CREATE TABLE incidents_other PARTITION OF incidents DEFAULT;
        REVOKE ALL ON incidents_other FROM {APP};
        ALTER SEQUENCE incidents_id_seq OWNED BY incidents.id;
        {FUNCTIONS}
        SELECT gridgis_place_incidents();
        INSERT INTO incidents ({COLUMNS}, district_id)
        SELECT {', '.join(f'o.{c.strip()}' for c in COLUMNS.split(','))}, d.id
        FROM incidents_unpartitioned o
        LEFT JOIN LATERAL (SELECT a.id FROM areas a
                           WHERE a.level = 'district' AND ST_Intersects(a.geom, o.geom)
                           ORDER BY a.code, a.id LIMIT 1) d ON true;
        INSERT INTO incident_keys (external_id, incident_id)
        SELECT external_id, id FROM incidents_unpartitioned WHERE external_id IS NOT NULL;
        SELECT gridgis_place_incidents();  -- the years before the ten made ahead
        DROP VIEW gis.incidents;
        DROP TABLE incidents_unpartitioned;
        {INDEXES}
        {TRIGGERS}
        {_statement_triggers("incidents")}
        GRANT SELECT, INSERT, UPDATE, DELETE ON incidents TO {APP};
        {GIS_VIEW.format(READER=READER, PLANNER=PLANNER, APP=APP)}
        ANALYZE incidents;
    """)


def downgrade() -> None:
    op.execute(f"""
        ALTER TABLE incidents RENAME TO incidents_partitioned;
        CREATE TABLE incidents (
            LIKE incidents_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
        ALTER TABLE incidents DROP COLUMN district_id;
        ALTER TABLE incidents ADD PRIMARY KEY (id), ADD UNIQUE (external_id);
        ALTER SEQUENCE incidents_id_seq OWNED BY incidents.id;
        INSERT INTO incidents ({COLUMNS}) SELECT {COLUMNS} FROM incidents_partitioned;
        DROP VIEW gis.incidents;
        DROP TABLE incidents_partitioned;
        DROP TRIGGER areas_district_insert ON areas;
        DROP TRIGGER areas_district_update ON areas;
        DROP TRIGGER areas_district_delete ON areas;
        DROP TRIGGER areas_district_truncate ON areas;
        DROP FUNCTION gridgis_place_incidents(boolean);
        DROP FUNCTION gridgis_move_incidents(text, text, text, bigint, timestamptz,
                                             timestamptz);
        DROP FUNCTION gridgis_take_district();
        DROP FUNCTION gridgis_district_changed();
        DROP FUNCTION gridgis_redistrict(geometry);
        DROP FUNCTION gridgis_incident_moved();
        DROP FUNCTION gridgis_touch_incident();
        DROP FUNCTION gridgis_incident_key();
        DROP TABLE incident_keys;
        DROP FUNCTION gridgis_district_at(geometry);
        {"".join(line + chr(10) for line in INDEXES.splitlines()
                 if "incidents_id_idx" not in line and "external_id_idx" not in line)}
        CREATE TRIGGER incidents_link BEFORE INSERT OR UPDATE ON incidents
            FOR EACH ROW EXECUTE FUNCTION gridgis_link();
        CREATE TRIGGER incidents_touch BEFORE UPDATE ON incidents
            FOR EACH ROW EXECUTE FUNCTION gridgis_touch();
        {_statement_triggers("incidents")}
        GRANT SELECT, INSERT, UPDATE, DELETE ON incidents TO {APP};
        {GIS_VIEW.format(READER=READER, PLANNER=PLANNER, APP=APP)}
    """)


def _statement_triggers(table: str) -> str:
    return "\n".join(
        f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        for name, function in STATEMENT_TRIGGERS.items())
