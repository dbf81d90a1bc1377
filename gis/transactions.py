"""Transactions whose outcome the caller knows before it answers.

A write is acknowledged only once its COMMIT has returned. When the connection drops
during the COMMIT (the server crashed or was stopped), the client library cannot tell
whether the database committed. So every writing transaction also inserts a random
token (``gridgis_commit_tokens``); once the database is back, the token's presence says
whether the transaction committed, and the caller answers by what really happened.
(Transaction ids cannot serve: after a crash, ids of transactions whose records were
lost are handed out again.) Tokens are kept an hour: :func:`forget_old_tokens`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from .errors import DatabaseUnavailable

log = logging.getLogger("gridgis.db")
POLL_S = 0.25
TOKENS_KEPT_S = 3600


@contextmanager
def unit_of_work(conn: sa.Connection, outcome_wait_s: float = 20.0, *,
                 reading: bool = False) -> Iterator[sa.Connection]:
    """Begin on ``conn``; commit when the block ends normally, roll back when it raises.
    Returns normally only if the block's writes committed; raises DatabaseUnavailable
    when they did not, or when their outcome stayed unknown for ``outcome_wait_s``.

    ``reading``: the block changes no data; all it may write is the audit entries of
    what it read. Those need no commit token: if the commit's answer is lost, the
    error reaches the caller (a 503; nothing was shown, the client asks again, and a
    second entry of the same read does no harm)."""
    transaction = conn.begin()
    try:
        yield conn
    except BaseException:
        if transaction.is_active:
            transaction.rollback()
        raise
    token = None
    if not reading and conn.execute(sa.text(
            "SELECT txid_current_if_assigned() IS NOT NULL")).scalar():
        token = uuid.uuid4()
        conn.execute(sa.text("INSERT INTO gridgis_commit_tokens (token) VALUES (:t)"),
                     {"t": token})
    try:
        transaction.commit()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        if token is None:  # a read: no data was written, nothing to lose
            raise
        committed = committed_token(conn.engine, token, outcome_wait_s)
        if committed is None:
            raise DatabaseUnavailable("the database went away while saving and has not come "
                                      "back, so whether the change was saved is not known; "
                                      "look before trying again") from exc
        if not committed:
            raise DatabaseUnavailable("the database went away while saving; the change "
                                      "was not saved, try again") from exc
        log.warning("the connection dropped during a commit that the database completed")


def committed_token(engine: sa.Engine, token: uuid.UUID, wait_s: float) -> bool | None:
    """Whether the transaction that wrote ``token`` committed, asked on a fresh
    connection until the database answers or ``wait_s`` passes (then None)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with engine.connect() as conn:
                return bool(conn.execute(sa.text(
                    "SELECT EXISTS (SELECT 1 FROM gridgis_commit_tokens WHERE token = :t)"),
                    {"t": token}).scalar())
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_S)


def forget_old_tokens(engine: sa.Engine) -> int:
    """Delete tokens older than an hour (no outcome is asked after that)."""
    with engine.begin() as conn:
        return conn.execute(sa.text(
            "DELETE FROM gridgis_commit_tokens WHERE at < now() - make_interval(secs => :s)"),
            {"s": TOKENS_KEPT_S}).rowcount
