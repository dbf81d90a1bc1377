"""A write's outcome is known before it is acknowledged, even when the connection drops
during its COMMIT."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridgis.gis.errors import DatabaseUnavailable
from gridgis.gis.transactions import forget_old_tokens, unit_of_work


def test_writes_leave_a_token_reads_do_not_and_old_tokens_go(db):
    def tokens() -> int:
        with db.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM gridgis_commit_tokens")
                                ).scalar_one()

    with db.engine.connect() as conn, unit_of_work(conn):
        conn.execute(sa.text("SELECT 1"))
    assert tokens() == 0
    with db.engine.connect() as conn, unit_of_work(conn):
        _write(conn)
    assert tokens() == 1
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE gridgis_commit_tokens SET at = now() - interval '2 h'"))
    assert forget_old_tokens(db.engine) == 1 and tokens() == 0


def _drop_during_commit(monkeypatch, *, commit_first: bool) -> None:
    """The connection fails while COMMIT is under way: before or after the server did it."""
    real = sa.engine.RootTransaction.commit

    def flaky(self):
        if commit_first:
            real(self)
        else:
            self.rollback()
        raise sa.exc.OperationalError("COMMIT", {}, ConnectionError("server closed"))

    monkeypatch.setattr(sa.engine.RootTransaction, "commit", flaky)


def _write(conn: sa.Connection) -> None:
    conn.execute(sa.text("INSERT INTO gridgis_meta (key, value) VALUES ('probe', 'x')"))


def _stored(db) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM gridgis_meta WHERE key = 'probe')")).scalar_one()


def test_a_commit_the_database_completed_counts_as_done(db, monkeypatch):
    _drop_during_commit(monkeypatch, commit_first=True)
    with db.engine.connect() as conn, unit_of_work(conn, 1):
        _write(conn)
    assert _stored(db)


def test_a_commit_the_database_did_not_complete_is_a_failure(db, monkeypatch):
    _drop_during_commit(monkeypatch, commit_first=False)
    with pytest.raises(DatabaseUnavailable, match="not saved"):
        with db.engine.connect() as conn, unit_of_work(conn, 1):
            _write(conn)
    assert not _stored(db)


def test_a_failing_block_rolls_back(db):
    with pytest.raises(ValueError):
        with db.engine.connect() as conn, unit_of_work(conn):
            _write(conn)
            raise ValueError("the handler failed")
    assert not _stored(db)
