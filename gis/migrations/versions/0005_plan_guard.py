"""The published plan cannot be deleted: everything located is linked to its grids, and
a cascade would leave their grid ids pointing at nothing. Retire it by publishing
another plan; drafts and retired plans may be deleted (nothing is linked to them).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION gridgis_keep_published_plan() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the published plan % cannot be deleted; publish another plan '
                            'first (which retires this one)', OLD.name
                USING ERRCODE = 'restrict_violation';
        END $$;
        CREATE TRIGGER grid_plans_keep_published BEFORE DELETE ON grid_plans
            FOR EACH ROW WHEN (OLD.state = 'published')
            EXECUTE FUNCTION gridgis_keep_published_plan();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER grid_plans_keep_published ON grid_plans; "
               "DROP FUNCTION gridgis_keep_published_plan();")
