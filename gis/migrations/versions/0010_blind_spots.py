"""Blind spots: visits and verifications of households and people, patrol tracks, police
posts and patrol bases as places, and a version of the registry data the audit reads.

- ``visits``: who (a grid worker) visited or verified which household or person, when,
  and with what outcome; the responsibility audit finds grids whose base data nobody
  has checked for N days.
- ``patrol_points``: GPS fixes of patrol units (CSV or GPX), each with its unit, shift
  and time; the patrol-presence audit turns them into minutes per hotspot cell.
- ``places.category`` gains ``police_post`` and ``patrol_base``: where reach is
  measured from.
- ``gridgis_registry_version``: like the data version (0004), but moved by the tables
  the hotspot analyses do not read (buildings, people, households, places, things,
  workers, assignments, roads, visits, patrol points), so that editing a resident does
  not throw away every cached hotspot analysis while the blind-spot audit, which reads
  both, is keyed by both.

Revision ID: 0010
Revises: 0009
"""

from alembic import context, op

from gridgis.gis import taxonomy

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REGISTRY_TABLES = ("buildings", "households", "people", "places", "things", "workers",
                   "grid_assignments", "roads", "visits", "patrol_points")
SHARDS = 16


def _srid() -> int:
    configured = context.config.attributes.get("srid")
    if configured is not None:
        return int(configured)
    return int(op.get_bind().exec_driver_sql(
        "SELECT value FROM gridgis_meta WHERE key = 'srid'").scalar_one())


def upgrade() -> None:
    srid = _srid()
    op.execute(f"""
        ALTER TABLE places DROP CONSTRAINT IF EXISTS places_category_check;
        ALTER TABLE places ADD CONSTRAINT places_category_check
            CHECK (category IN ({taxonomy.sql_list(taxonomy.PLACE_CATEGORIES)}));

        CREATE TABLE visits (
            id           bigserial PRIMARY KEY,
            kind         text NOT NULL DEFAULT 'visit'
                         CHECK (kind IN ({taxonomy.sql_list(taxonomy.VISIT_KINDS)})),
            visited_at   timestamptz NOT NULL,
            outcome      text NOT NULL DEFAULT 'verified'
                         CHECK (outcome IN ({taxonomy.sql_list(taxonomy.VISIT_OUTCOMES)})),
            worker_id    bigint REFERENCES workers (id) ON DELETE SET NULL,
            household_id bigint REFERENCES households (id) ON DELETE CASCADE,
            person_id    bigint REFERENCES people (id) ON DELETE CASCADE,
            note         text,
            synthetic    boolean NOT NULL DEFAULT false,
            external_id  text UNIQUE,
            properties   jsonb NOT NULL DEFAULT '{{}}',
            version      integer NOT NULL DEFAULT 1,
            created_at   timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON COLUMN visits.note IS 'sensitive: free text';
        CREATE INDEX visits_household_idx ON visits (household_id, visited_at);
        CREATE INDEX visits_person_idx ON visits (person_id, visited_at);
        CREATE INDEX visits_worker_idx ON visits (worker_id);

        CREATE TABLE patrol_points (
            id          bigserial PRIMARY KEY,
            unit        text NOT NULL CHECK (length(unit) > 0),
            shift       text,
            recorded_at timestamptz NOT NULL,
            synthetic   boolean NOT NULL DEFAULT false,
            external_id text UNIQUE,
            properties  jsonb NOT NULL DEFAULT '{{}}',
            geom        geometry(Point, {srid}) NOT NULL,
            version     integer NOT NULL DEFAULT 1,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX patrol_points_geom_idx ON patrol_points USING gist (geom);
        CREATE INDEX patrol_points_unit_time_idx ON patrol_points (unit, recorded_at);

        CREATE TABLE gridgis_registry_version (
            shard   smallint PRIMARY KEY,
            changes bigint NOT NULL DEFAULT 0
        );
        INSERT INTO gridgis_registry_version (shard)
            SELECT generate_series(0, {SHARDS - 1});
        CREATE FUNCTION gridgis_registry_changed() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            UPDATE gridgis_registry_version SET changes = changes + 1
             WHERE shard = txid_current() % {SHARDS};
            RETURN NULL;
        END $$;

        -- Patrol tracks say where police units are, day by day: no desktop role reads
        -- them (the service reads them as gridgis_app, by default privileges).
    """)
    for table in REGISTRY_TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_registry_version
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION gridgis_registry_changed()""")


def downgrade() -> None:
    for table in REGISTRY_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_registry_version ON {table}")
    kept = [c for c in taxonomy.PLACE_CATEGORIES if c not in taxonomy.POST_CATEGORIES]
    op.execute(f"""
        DROP FUNCTION gridgis_registry_changed();
        DROP TABLE gridgis_registry_version, patrol_points, visits;
        ALTER TABLE places DROP CONSTRAINT places_category_check;
        ALTER TABLE places ADD CONSTRAINT places_category_check
            CHECK (category IN ({taxonomy.sql_list(kept)})) NOT VALID;
    """)
