"""Edits of a draft's grids as features (OGC API – Features Part 4): a grid drawn
('create') and a grid renamed ('rename') are logged like the other edits, for undo.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD = "('split', 'merge', 'reassign', 'redraw', 'desktop')"
NEW = "('split', 'merge', 'reassign', 'redraw', 'desktop', 'create', 'rename')"


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE plan_edits DROP CONSTRAINT plan_edits_op_check;
        ALTER TABLE plan_edits ADD CONSTRAINT plan_edits_op_check CHECK (op IN {NEW});
    """)


def downgrade() -> None:
    op.execute(f"""
        DELETE FROM plan_edits WHERE op IN ('create', 'rename');
        ALTER TABLE plan_edits DROP CONSTRAINT plan_edits_op_check;
        ALTER TABLE plan_edits ADD CONSTRAINT plan_edits_op_check CHECK (op IN {OLD});
    """)
