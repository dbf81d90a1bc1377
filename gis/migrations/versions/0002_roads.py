"""Roads: the district's street network, for the base map and patrol routing.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    srid = op.get_bind().exec_driver_sql(
        "SELECT value::int FROM gridgis_meta WHERE key = 'srid'").scalar_one()
    op.execute(f"""
        CREATE TABLE roads (
            id          bigserial PRIMARY KEY,
            name        text,
            highway     text NOT NULL,
            oneway      boolean NOT NULL DEFAULT false,
            external_id text UNIQUE,
            properties  jsonb NOT NULL DEFAULT '{{}}',
            geom        geometry(LineString, {int(srid)}) NOT NULL
        );
        CREATE INDEX roads_geom_idx ON roads USING gist (geom);
        INSERT INTO gridgis_meta (key, value) VALUES ('attribution', '')
            ON CONFLICT (key) DO NOTHING;
    """)


def downgrade() -> None:
    op.execute("DROP TABLE roads")
    op.execute("DELETE FROM gridgis_meta WHERE key = 'attribution'")
