-- gridgis base schema. {srid} is the deployment's metric SRID, an integer checked by
-- the migration before substitution. Geometry is stored in that CRS so areas and
-- distances are exact; the API converts to and from WGS84.

CREATE TABLE gridgis_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO gridgis_meta (key, value) VALUES ('srid', '{srid}');

-- Columns every editable resource has.
-- version: optimistic concurrency (bumped by gridgis_touch on every update).
-- external_id: the key of the row in the system it was imported from; re-imports upsert on it.

CREATE TABLE areas (
    id          bigserial PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('district', 'subdistrict', 'community')),
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    name_en     text,
    parent_id   bigint REFERENCES areas (id) ON DELETE RESTRICT,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(MultiPolygon, {srid}) NOT NULL CHECK (ST_IsValid(geom)),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX areas_geom_idx ON areas USING gist (geom);
CREATE INDEX areas_parent_idx ON areas (parent_id);

CREATE TABLE grid_plans (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text,
    state       text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published', 'retired')),
    valid_from  timestamptz,
    valid_to    timestamptz,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
-- Exactly one plan is published at a time.
CREATE UNIQUE INDEX grid_plans_one_published ON grid_plans ((true)) WHERE state = 'published';

CREATE TABLE grids (
    id           bigserial PRIMARY KEY,
    plan_id      bigint NOT NULL REFERENCES grid_plans (id) ON DELETE CASCADE,
    code         text NOT NULL,
    name         text,
    community_id bigint REFERENCES areas (id) ON DELETE SET NULL,
    external_id  text,
    properties   jsonb NOT NULL DEFAULT '{{}}',
    geom         geometry(MultiPolygon, {srid}) NOT NULL CHECK (ST_IsValid(geom)),
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plan_id, code),
    UNIQUE (plan_id, external_id)
);
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_community_idx ON grids (community_id);

CREATE TABLE workers (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    phone       text,
    employee_no text,
    active      boolean NOT NULL DEFAULT true,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN workers.phone IS 'sensitive: personal data';

CREATE TABLE grid_assignments (
    worker_id bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    grid_id   bigint NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    role      text NOT NULL DEFAULT 'primary' CHECK (role IN ('primary', 'secondary')),
    since     date NOT NULL DEFAULT current_date,
    PRIMARY KEY (worker_id, grid_id)
);
CREATE INDEX grid_assignments_grid_idx ON grid_assignments (grid_id);

-- Located entities. grid_id is maintained by the gridgis_link trigger (never by clients);
-- it has no foreign key because grid changes relink through gridgis_grid_changed, and a
-- per-row RI check would double the cost of bulk imports.

CREATE TABLE buildings (
    id          bigserial PRIMARY KEY,
    name        text,
    address     text,
    use         text,
    levels      integer CHECK (levels IS NULL OR levels BETWEEN 0 AND 200),
    households  integer CHECK (households IS NULL OR households >= 0),
    grid_id     bigint,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(MultiPolygon, {srid}) NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE households (
    id          bigserial PRIMARY KEY,
    building_id bigint REFERENCES buildings (id) ON DELETE CASCADE,
    unit        text,
    members     integer CHECK (members IS NULL OR members >= 0),
    grid_id     bigint,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(Point, {srid}) NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX households_building_idx ON households (building_id);

CREATE TABLE people (
    id                     bigserial PRIMARY KEY,
    name                   text NOT NULL,
    id_number              text,
    phone                  text,
    sex                    text CHECK (sex IN ('male', 'female', 'unknown')),
    birth_date             date,
    residence_type         text NOT NULL DEFAULT 'registered'
                           CHECK (residence_type IN ('registered', 'floating')),
    community_correction   boolean NOT NULL DEFAULT false,
    released_prisoner      boolean NOT NULL DEFAULT false,
    drug_rehabilitation    boolean NOT NULL DEFAULT false,
    serious_mental_illness boolean NOT NULL DEFAULT false,
    youth_at_risk          boolean NOT NULL DEFAULT false,
    building_id            bigint REFERENCES buildings (id) ON DELETE SET NULL,
    household_id           bigint REFERENCES households (id) ON DELETE SET NULL,
    grid_id                bigint,
    synthetic              boolean NOT NULL DEFAULT false,
    external_id            text UNIQUE,
    properties             jsonb NOT NULL DEFAULT '{{}}',
    geom                   geometry(Point, {srid}) NOT NULL,
    version                integer NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN people.name IS 'sensitive: personal data';
COMMENT ON COLUMN people.id_number IS 'sensitive: personal data';
COMMENT ON COLUMN people.phone IS 'sensitive: personal data';
COMMENT ON COLUMN people.birth_date IS 'sensitive: personal data';
COMMENT ON COLUMN people.community_correction IS 'sensitive: special group';
COMMENT ON COLUMN people.released_prisoner IS 'sensitive: special group';
COMMENT ON COLUMN people.drug_rehabilitation IS 'sensitive: special group';
COMMENT ON COLUMN people.serious_mental_illness IS 'sensitive: special group';
COMMENT ON COLUMN people.youth_at_risk IS 'sensitive: special group';
CREATE INDEX people_household_idx ON people (household_id);

CREATE TABLE places (
    id          bigserial PRIMARY KEY,
    name        text,
    category    text NOT NULL CHECK (category IN ({place_categories})),
    risk_level  text NOT NULL DEFAULT 'low' CHECK (risk_level IN ('low', 'medium', 'high')),
    address     text,
    grid_id     bigint,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(Geometry, {srid}) NOT NULL
                CHECK (GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE things (
    id          bigserial PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ({thing_types})),
    name        text,
    status      text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline', 'unknown')),
    range_m     double precision CHECK (range_m IS NULL OR range_m >= 0),
    fov_deg     double precision CHECK (fov_deg IS NULL OR fov_deg BETWEEN 0 AND 360),
    bearing_deg double precision CHECK (bearing_deg IS NULL OR bearing_deg BETWEEN 0 AND 360),
    grid_id     bigint,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(Point, {srid}) NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organisations (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'enterprise'
                CHECK (kind IN ('enterprise', 'social_organisation', 'public_institution', 'other')),
    address     text,
    grid_id     bigint,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(Point, {srid}) NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
    id          bigserial PRIMARY KEY,
    category    text NOT NULL CHECK (category IN ({incident_categories})),
    subcategory text,
    occurred_at timestamptz NOT NULL,
    reported_at timestamptz,
    status      text NOT NULL DEFAULT 'reported'
                CHECK (status IN ('reported', 'dispatched', 'in_progress', 'resolved', 'closed')),
    source      text NOT NULL DEFAULT 'other'
                CHECK (source IN ('police_call', 'grid_worker', 'hotline', 'citizen', 'camera', 'other')),
    description text,
    grid_id     bigint,
    synthetic   boolean NOT NULL DEFAULT false,
    external_id text UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{{}}',
    geom        geometry(Point, {srid}) NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (reported_at IS NULL OR reported_at >= occurred_at - interval '1 day')
);
CREATE INDEX incidents_occurred_idx ON incidents (occurred_at);
CREATE INDEX incidents_category_idx ON incidents (category, occurred_at);

-- Indexes and triggers shared by every located table.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['buildings', 'households', 'people', 'places', 'things',
                             'organisations', 'incidents'] LOOP
        EXECUTE format('CREATE INDEX %I ON %I USING gist (geom)', t || '_geom_idx', t);
        EXECUTE format('CREATE INDEX %I ON %I (grid_id)', t || '_grid_idx', t);
    END LOOP;
END $$;

-- ---------------------------------------------------------------------------------
-- Grid linking.
--
-- Boundary rule: a point belongs to the published grids whose closed polygon contains
-- it (boundary included); when there are several (a shared edge or vertex, or an
-- overlap) the grid with the smallest code wins, then the smallest id. A polygonal
-- entity is located by its ST_PointOnSurface. A point in no grid gets NULL (unassigned).
-- ---------------------------------------------------------------------------------

CREATE FUNCTION gridgis_grid_at(g geometry) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gr.id
    FROM grids gr
    JOIN grid_plans p ON p.id = gr.plan_id AND p.state = 'published'
    WHERE ST_Intersects(gr.geom, CASE WHEN GeometryType(g) = 'POINT' THEN g
                                      ELSE ST_PointOnSurface(g) END)
    ORDER BY gr.code, gr.id
    LIMIT 1
$$;

-- Writers that computed grid_id with the same rule (the bulk importer, gridgis_relink)
-- set gridgis.trusted_grid_id locally for their transaction to skip the lookup.
CREATE FUNCTION gridgis_link() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('gridgis.trusted_grid_id', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.geom IS NOT DISTINCT FROM OLD.geom
       AND NEW.grid_id IS NOT DISTINCT FROM OLD.grid_id THEN
        RETURN NEW;
    END IF;
    NEW.grid_id := gridgis_grid_at(NEW.geom);
    RETURN NEW;
END $$;

CREATE FUNCTION gridgis_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- Re-link every located entity that intersects area (everything when area is NULL).
-- Returns the number of entities whose grid changed.
CREATE FUNCTION gridgis_relink(area geometry DEFAULT NULL) RETURNS bigint
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

CREATE FUNCTION gridgis_grid_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('gridgis.defer_relink', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND EXISTS (SELECT 1 FROM grid_plans WHERE id = OLD.plan_id AND state = 'published') THEN
        PERFORM gridgis_relink(OLD.geom);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       AND EXISTS (SELECT 1 FROM grid_plans WHERE id = NEW.plan_id AND state = 'published') THEN
        PERFORM gridgis_relink(NEW.geom);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION gridgis_plan_state_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('gridgis.defer_relink', true) IS DISTINCT FROM 'on' THEN
        PERFORM gridgis_relink(NULL);
    END IF;
    RETURN NULL;
END $$;

-- Publish a plan: retire the published one, publish this one, relink once.
CREATE FUNCTION gridgis_publish_plan(plan bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    previous text := current_setting('gridgis.defer_relink', true);
    n bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM grid_plans WHERE id = plan) THEN
        RAISE EXCEPTION 'grid plan % does not exist', plan USING ERRCODE = 'no_data_found';
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

CREATE TRIGGER grids_relink AFTER INSERT OR DELETE OR UPDATE OF geom, code, plan_id ON grids
    FOR EACH ROW EXECUTE FUNCTION gridgis_grid_changed();
CREATE TRIGGER grid_plans_relink AFTER UPDATE OF state ON grid_plans
    FOR EACH ROW WHEN ((OLD.state = 'published') IS DISTINCT FROM (NEW.state = 'published'))
    EXECUTE FUNCTION gridgis_plan_state_changed();

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['buildings', 'households', 'people', 'places', 'things',
                             'organisations', 'incidents'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %I
                        FOR EACH ROW EXECUTE FUNCTION gridgis_link()', t || '_link', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['areas', 'grid_plans', 'grids', 'workers', 'buildings',
                             'households', 'people', 'places', 'things', 'organisations',
                             'incidents'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I
                        FOR EACH ROW EXECUTE FUNCTION gridgis_touch()', t || '_touch', t);
    END LOOP;
END $$;
