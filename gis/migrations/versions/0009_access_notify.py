"""Tell running services when who-may-see-what changes, so that they may keep the users
behind tokens and sessions in memory between requests: a NOTIFY on channel
``gridgis_access`` after every statement that revokes or changes a credential, changes
a user's roles, scope, password or state, or changes the grids, plans or areas a scope
is resolved against.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WATCHED = {
    "app_credentials": "UPDATE OF revoked_at, expires_at, user_id OR DELETE OR TRUNCATE",
    "app_users": "UPDATE OF name, roles, scope, disabled, password_hash OR DELETE OR TRUNCATE",
    "grids": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "grid_plans": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "areas": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
}


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION gridgis_access_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('gridgis_access', TG_TABLE_NAME);
            RETURN NULL;
        END $$;
    """)
    for table, events in WATCHED.items():
        op.execute(f"""
            CREATE TRIGGER {table}_access_changed AFTER {events} ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION gridgis_access_changed();
        """)


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER {table}_access_changed ON {table}")
    op.execute("DROP FUNCTION gridgis_access_changed()")
