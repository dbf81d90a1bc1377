"""Sign-in attempts per client address over the last minute, in the database rather than
in each server worker's memory: with N workers, a limit kept in memory would let a
client make N times as many attempts. Unlogged: a crash forgets a minute of attempts.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE sign_in_attempts (
            client text NOT NULL,
            at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX sign_in_attempts_client_idx ON sign_in_attempts (client, at);
        CREATE INDEX sign_in_attempts_at_idx ON sign_in_attempts (at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE sign_in_attempts")
