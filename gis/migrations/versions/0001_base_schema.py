"""Base schema: hierarchy, grid plans, grids, the 9+X entities and grid linking.

Revision ID: 0001
Revises:
"""

from alembic import context, op

from gridgis.gis import taxonomy
from gridgis.gis.sqlfiles import read_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ["grid_assignments", "incidents", "organisations", "things", "places", "people",
          "households", "buildings", "workers", "grids", "grid_plans", "areas", "gridgis_meta"]


def upgrade() -> None:
    srid = int(context.config.attributes["srid"])
    op.execute(read_sql("schema_0001.sql").format(
        srid=srid,
        incident_categories=taxonomy.sql_list(taxonomy.INCIDENT_CATEGORIES),
        place_categories=taxonomy.sql_list(taxonomy.PLACE_CATEGORIES),
        thing_types=taxonomy.sql_list(taxonomy.THING_TYPES),
    ))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for function in ("gridgis_publish_plan(bigint)", "gridgis_plan_state_changed()",
                     "gridgis_grid_changed()", "gridgis_relink(geometry)", "gridgis_touch()",
                     "gridgis_link()", "gridgis_grid_at(geometry)"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
