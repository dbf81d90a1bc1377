"""The edit log of draft plans: what each edit changed, so that it can be undone.

``before`` holds the grids an edit changed or removed as they were (geometry as EWKB
hex), ``created`` the ids of the grids it added; undo restores the one and deletes the
other, newest edit first.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE plan_edits (
            id      bigserial PRIMARY KEY,
            plan_id bigint NOT NULL REFERENCES grid_plans (id) ON DELETE CASCADE,
            op      text NOT NULL CHECK (op IN ('split', 'merge', 'reassign', 'redraw',
                                                'desktop')),
            summary text NOT NULL,
            actor   text,
            at      timestamptz NOT NULL DEFAULT now(),
            before  jsonb NOT NULL,
            created bigint[] NOT NULL DEFAULT '{}'
        );
        CREATE INDEX plan_edits_plan_idx ON plan_edits (plan_id, id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE plan_edits")
