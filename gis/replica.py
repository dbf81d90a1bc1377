"""Reads from a streaming replica, never older than what the primary has acknowledged.

Map pages and analyses only read; with ``GRIDGIS_REPLICA_URL`` they read from a hot
standby of the primary (PostgreSQL's physical streaming replication), so that a primary
busy with writes and the lighter requests does not also carry them. Writes, audit
entries, resources and everything a client may read right after writing it stay on the
primary.

A replica replays the primary's changes a little later. A read here first takes the
primary's WAL position (one short query) and waits until the replica has replayed up
to it, so it sees every change committed before it was asked: a page made from the
replica is never older than the data version it is kept under. A replica that does not
catch up within ``GRIDGIS_REPLICA_WAIT_S`` is passed over for the primary for
``BEHIND_S``, so that one read, not every read, waits for it; one that is away or was
promoted is passed over for ``RETRY_S``; one that is a standby of another cluster, for
good. Each passing over is logged once.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import sqlalchemy as sa

from .errors import ConfigurationError

log = logging.getLogger("gridgis.replica")
WAIT_S = 2.0  # GRIDGIS_REPLICA_WAIT_S's default
BEHIND_S = 1.0
RETRY_S = 30.0
POLL_S = (0.001, 0.02)  # the first wait between two looks at the replay, the longest
PRIMARY_POSITION = sa.text("SELECT CAST(pg_current_wal_lsn() AS text)")
# In recovery, and replayed up to the position? (NULL until the first replay: not yet.)
REPLAYED = sa.text("SELECT pg_is_in_recovery(), "
                   "coalesce(pg_last_wal_replay_lsn() >= CAST(:position AS pg_lsn), false)")
SYSTEM = "SELECT system_identifier FROM pg_control_system()"
# what the server answers, as it refuses a connection, to a replica URL that is wrong
# rather than away (libpq gives no SQLSTATE for these: only the server's message)
MISCONFIGURED = {
    r'password authentication failed': "the password is refused",
    r'role "[^"]*" does not exist|no pg_hba.conf entry': "the user may not connect",
    r'database "[^"]*" does not exist': "there is no such database",
    r'invalid value for parameter "role"': "the gridgis_app role is missing (is its "
                                           "primary this gridgis database?)"}


class Connects(Protocol):
    """What reads need of an engine: a connection, to be used in a ``with`` block."""

    def connect(self) -> sa.Connection: ...


class OtherCluster(Exception):
    """The replica is a standby of another cluster: its data are not the primary's."""


class Reads:
    """Where reads go: the replica once it has caught up with the primary, else the
    primary. ``connect()`` as on an engine."""

    def __init__(self, primary: sa.Engine, replica: sa.Engine | None = None,
                 wait_s: float = WAIT_S) -> None:
        self.primary = primary
        self.replica = replica
        self.wait_s = wait_s
        self._passed_over_until = 0.0
        self._lock = threading.Lock()
        self.served = 0  # reads the replica took
        self.fallbacks = 0  # reads that went to the primary instead
        self._system: int | None = None  # the primary's, read once
        if replica is not None:
            sa.event.listen(replica, "connect", self._check_system)

    def connect(self) -> sa.Connection:
        """A connection to read from: the replica's once it has caught up, else the
        primary's."""
        replica = self._caught_up(None)
        return replica if replica is not None else self.primary.connect()

    @contextmanager
    def beside(self, held: sa.Connection) -> Iterator[sa.Connection]:
        """A connection to read from, for a caller that holds ``held`` (on the
        primary): the replica's once it has caught up (the WAL position taken on
        ``held``), else ``held`` itself, never a second one from the primary's pool."""
        replica = self._caught_up(held)
        if replica is None:
            yield held
            return
        with replica:
            yield replica

    def _caught_up(self, held: sa.Connection | None) -> sa.Connection | None:
        """A connection to the replica once it has replayed what the primary has
        committed, or None (the read is the primary's)."""
        if self.replica is None:
            return None
        if time.monotonic() < self._passed_over_until:
            return self._pass_over(None, 0.0)
        if held is not None:
            position = held.execute(PRIMARY_POSITION).scalar_one()
        else:
            with self.primary.connect() as conn:
                position = conn.execute(PRIMARY_POSITION).scalar_one()
        try:
            conn = self.replica.connect()
        except OtherCluster as exc:
            return self._pass_over(str(exc), math.inf)
        except sa.exc.DBAPIError as exc:
            return self._pass_over(f"the replica is away ({_reason(exc)})", RETRY_S)
        try:
            reason, period = self._wait_for(conn, position)
        except sa.exc.DBAPIError as exc:
            conn.close()
            return self._pass_over(f"the replica failed ({_reason(exc)})", RETRY_S)
        if reason is None:
            with self._lock:
                self.served += 1
            return conn
        conn.close()
        return self._pass_over(reason, period)

    def _wait_for(self, conn: sa.Connection, position: str) -> tuple[str | None, float]:
        """(None, 0) once the replica has replayed up to ``position``, else why not and
        for how long to pass it over. The wait is outside any transaction, so each look
        sees the latest replay."""
        deadline = time.monotonic() + self.wait_s
        pause = POLL_S[0]
        while True:
            standby, replayed = conn.execute(REPLAYED, {"position": position}).one()
            conn.rollback()
            if not standby:
                return "the replica is no longer a standby (promoted?)", RETRY_S
            if replayed:
                return None, 0.0
            if time.monotonic() >= deadline:
                return f"the replica is more than {self.wait_s:g} s behind", BEHIND_S
            time.sleep(pause)
            pause = min(2 * pause, POLL_S[1])

    def _pass_over(self, reason: str | None, period: float) -> sa.Connection | None:
        """No replica connection: count a read the primary takes and, with a
        ``reason``, set the replica aside."""
        with self._lock:
            self.fallbacks += 1
        if reason is not None:
            self._set_aside(reason, period)
        return None

    def _set_aside(self, reason: str, period: float) -> None:
        with self._lock:
            first = time.monotonic() >= self._passed_over_until
            self._passed_over_until = time.monotonic() + period
        if first:
            log.warning("reading from the primary for %s: %s",
                        "good" if period == math.inf else f"{period:g} s", reason)

    def _check_system(self, dbapi_connection, _record) -> None:
        """Each new connection to the replica: a standby of the primary's cluster?"""
        if self._system is None:
            with self.primary.connect() as conn:
                self._system = conn.exec_driver_sql(SYSTEM).scalar_one()
        with dbapi_connection.cursor() as cursor:
            cursor.execute(SYSTEM)
            system = cursor.fetchone()[0]
        dbapi_connection.rollback()
        if system != self._system:
            raise OtherCluster(f"GRIDGIS_REPLICA_URL names a standby of another cluster "
                               f"(system {system}, the primary's {self._system})")

    def check(self) -> None:
        """Refuse, at start-up, a replica that is not a standby of this primary, or
        whose URL is wrong. One that is away is only warned of: reads go to the
        primary meanwhile (and each new connection is checked again)."""
        if self.replica is None:
            return
        try:
            with self.replica.connect() as conn:
                standby = conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one()
        except OtherCluster as exc:
            raise ConfigurationError(str(exc)) from None
        except sa.exc.DBAPIError as exc:
            problem = next((problem for pattern, problem in MISCONFIGURED.items()
                            if re.search(pattern, str(exc.orig))), None)
            if problem is not None:
                raise ConfigurationError(f"GRIDGIS_REPLICA_URL: {problem} "
                                         f"({_reason(exc)})") from None
            self._set_aside(f"the replica cannot be reached ({_reason(exc)})", RETRY_S)
            return
        if not standby:
            raise ConfigurationError("GRIDGIS_REPLICA_URL names a server that is not a "
                                     "standby (pg_is_in_recovery() is false): reads from "
                                     "it could miss what the primary has acknowledged")


def primary_of(engine: Connects) -> Connects:
    """Where the data versions are read: the primary (a replica caught up later is never
    older than them, so an answer kept under them is never older than its key)."""
    return engine.primary if isinstance(engine, Reads) else engine


def _reason(exc: sa.exc.DBAPIError) -> str:
    """The error's class and SQLSTATE: never its message, which may carry values."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return type(exc.orig).__name__ + (f" {sqlstate}" if sqlstate else "")
