"""A version of the data the analyses read, kept by the database at O(1) cost.

Cached analyses are keyed by this version. Counting or scanning the incidents to learn
it (as before) costs a full scan per cache hit at city size; instead every statement
that changes incidents, areas, grids or plans adds one to a counter in the same
transaction, so the version moves exactly when committed data does. The counter is
spread over 16 rows (chosen by transaction id) so that concurrent writers rarely wait
for each other; the version is their sum.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("incidents", "areas", "grids", "grid_plans")
SHARDS = 16


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE gridgis_data_version (
            shard   smallint PRIMARY KEY,
            changes bigint NOT NULL DEFAULT 0
        );
        INSERT INTO gridgis_data_version (shard) SELECT generate_series(0, {SHARDS - 1});

        CREATE FUNCTION gridgis_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE gridgis_data_version SET changes = changes + 1
             WHERE shard = txid_current() % {SHARDS};
            RETURN NULL;
        END $$;
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_data_version
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION gridgis_data_changed()""")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
    op.execute("DROP FUNCTION gridgis_data_changed(); DROP TABLE gridgis_data_version;")
