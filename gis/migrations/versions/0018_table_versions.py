"""A version per table, kept by the database at O(1) cost like the data version (0004):
every statement that changes one of the tables below adds one to that table's counter
in the same transaction, so the counters move exactly when committed data does. Caches
of what is made from a table (vector tiles, counts of matches) are keyed by the
versions of the tables they read, so a kept answer is never older than the data.

The counters live in the data version's own rows (one per shard, chosen by transaction
id), as a JSON object per row: a transaction locks the one row of its shard whatever it
changes. The triggers are named to fire before the registry version's (0010; triggers
fire in name order), and cover every table that one does: a statement always locks the
data version's row before the registry version's, so two writers can never wait for
each other's counters in opposite orders.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("areas", "grid_plans", "grids", "workers", "grid_assignments", "buildings",
          "households", "people", "places", "things", "organisations", "incidents",
          "roads", "patrol_plans", "patrol_routes", "derived_features", "visits",
          "patrol_points")
SHARDS = 16  # as in 0004


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE gridgis_data_version ADD COLUMN tables jsonb NOT NULL DEFAULT '{{}}';

        CREATE FUNCTION gridgis_table_changed() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            UPDATE gridgis_data_version
               SET tables = jsonb_set(tables, ARRAY[TG_TABLE_NAME], to_jsonb(
                   coalesce((tables ->> TG_TABLE_NAME)::bigint, 0) + 1))
             WHERE shard = txid_current() % {SHARDS};
            RETURN NULL;
        END $$;
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_change_count
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION gridgis_table_changed()""")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_change_count ON {table}")
    op.execute("DROP FUNCTION gridgis_table_changed(); "
               "ALTER TABLE gridgis_data_version DROP COLUMN tables;")
