"""The history of publication: every period a plan was the published one, so that
"which grid was this address in on 2025-03-01?" has one answer even when a retired plan
is published again (``grid_plans.valid_from``/``valid_to`` keep only the first start
and the last end). A trigger keeps it, whatever publishes: the switch of plans, or the
import that creates the first plan published.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE grid_plan_periods (
            id         bigserial PRIMARY KEY,
            plan_id    bigint NOT NULL REFERENCES grid_plans (id) ON DELETE CASCADE,
            valid_from timestamptz NOT NULL,
            valid_to   timestamptz,
            CHECK (valid_to IS NULL OR valid_to >= valid_from)
        );
        CREATE UNIQUE INDEX grid_plan_periods_one_open ON grid_plan_periods ((true))
            WHERE valid_to IS NULL;
        CREATE INDEX grid_plan_periods_from_idx ON grid_plan_periods (valid_from);
        INSERT INTO grid_plan_periods (plan_id, valid_from, valid_to)
        SELECT id, coalesce(valid_from, created_at), valid_to FROM grid_plans
        WHERE state = 'published' OR (valid_from IS NOT NULL AND valid_to IS NOT NULL);

        CREATE FUNCTION gridgis_plan_period() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.state = 'published' AND NEW.state <> 'published' THEN
                UPDATE grid_plan_periods SET valid_to = now()
                 WHERE plan_id = NEW.id AND valid_to IS NULL;
            ELSIF NEW.state = 'published'
                  AND (TG_OP = 'INSERT' OR OLD.state <> 'published') THEN
                UPDATE grid_plan_periods SET valid_to = now()
                 WHERE valid_to IS NULL AND plan_id <> NEW.id;
                INSERT INTO grid_plan_periods (plan_id, valid_from) VALUES (NEW.id, now());
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER grid_plans_period AFTER INSERT OR UPDATE OF state ON grid_plans
            FOR EACH ROW EXECUTE FUNCTION gridgis_plan_period();
    """)


def downgrade() -> None:
    op.execute("""
        DROP TRIGGER grid_plans_period ON grid_plans;
        DROP FUNCTION gridgis_plan_period();
        DROP TABLE grid_plan_periods;
    """)
