"""Analyses staged as feature tables (OGC API collections of hotspot classes, hotspot
areas and blind spots): each layer's features for one data version, so that items,
CQL2 filters and vector tiles read them in PostGIS as they read any table. Both tables
are a cache, made again from the data on demand: unlogged (a crash empties them, and
the registry with them).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    srid = op.get_bind().exec_driver_sql(
        "SELECT value::int FROM gridgis_meta WHERE key = 'srid'").scalar_one()
    op.execute(f"""
        CREATE UNLOGGED TABLE derived_layers (
            layer      text PRIMARY KEY,
            key        text NOT NULL,
            features   integer NOT NULL,
            made_at    timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNLOGGED TABLE derived_features (
            layer      text NOT NULL,
            fid        bigint NOT NULL,
            properties jsonb NOT NULL,
            geom       geometry(Geometry, {int(srid)}) NOT NULL,
            PRIMARY KEY (layer, fid)
        );
        CREATE INDEX derived_features_geom_idx ON derived_features USING gist (geom);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE derived_features, derived_layers")
