"""Commit tokens: every write the service answers writes a random token in its own
transaction, so that when the connection drops during the COMMIT, the service can learn
afterwards whether that transaction committed by looking for its token. (A transaction
id cannot serve: after a crash, ids the lost transactions had may be handed out again.)

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE gridgis_commit_tokens (
            token uuid PRIMARY KEY,
            at    timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE gridgis_commit_tokens IS
            'one row per write answered by the service, kept an hour';
    """)


def downgrade() -> None:
    op.execute("DROP TABLE gridgis_commit_tokens")
