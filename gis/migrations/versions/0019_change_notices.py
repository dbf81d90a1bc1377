"""Tell running services when the data change, so that they may keep answers in memory
without asking the database on every request whether they still hold:

- ``gridgis_grids`` after every statement that changes grids, plans, areas, workers or
  their assignments (what ``/grids/at`` answers: the published grids in memory);
- ``gridgis_data`` after every statement that changes a table map pages and analyses
  are made from (the kept answers; ``gridgis_meta`` holds the attribution they show),
  with the table's name.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

CHANNELS = {  # channel: the tables whose changes it tells of
    "gridgis_grids": ("grids", "grid_plans", "areas", "workers", "grid_assignments"),
    "gridgis_data": ("areas", "grid_plans", "grids", "workers", "grid_assignments",
                     "buildings", "households", "people", "places", "things",
                     "organisations", "incidents", "roads", "patrol_plans", "patrol_routes",
                     "visits", "patrol_points", "gridgis_meta"),
}


def upgrade() -> None:
    for channel, tables in CHANNELS.items():
        op.execute(f"""
            CREATE FUNCTION {_function(channel)}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{channel}', TG_TABLE_NAME);
                RETURN NULL;
            END $$;
        """)
        for table in tables:
            op.execute(f"""
                CREATE TRIGGER {table}_{_function(channel)}
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION {_function(channel)}();
            """)


def downgrade() -> None:
    for channel, tables in CHANNELS.items():
        for table in tables:
            op.execute(f"DROP TRIGGER {table}_{_function(channel)} ON {table}")
        op.execute(f"DROP FUNCTION {_function(channel)}()")


def _function(channel: str) -> str:
    return channel.replace("gridgis_", "gridgis_notify_")
