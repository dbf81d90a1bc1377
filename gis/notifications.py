"""Listening for PostgreSQL NOTIFY channels on a connection of its own, in a thread,
reconnecting after the database went away. Whoever uses it learns of each notification
and of every moment it may have missed some (the connection broke: anything may have
changed meanwhile)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATA_CHANNEL = "gridgis_data"  # a table map pages and analyses are made from changed
POLL_S = 0.5  # how often the thread looks up from waiting, to stop promptly
HEARTBEAT_S = 5  # how often an idle listening connection is checked
RETRY_S = (0.5, 1, 2, 5)  # waits before reconnecting, then the last one again


class ChangeListener:
    """``channels[name](payload)`` after each notification on channel ``name``;
    ``on_listening(bool)`` when listening starts (after connecting) and stops
    (connection lost or closed)."""

    def __init__(self, connect: Callable[[], psycopg.Connection],
                 channels: Mapping[str, Callable[[str], None]],
                 on_listening: Callable[[bool], None] = lambda _: None) -> None:
        self._connect = connect
        self._channels = dict(channels)
        self._on_listening = on_listening
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listen-changes",
                                        daemon=True)

    def start(self) -> ChangeListener:
        self._thread.start()
        return self

    def close(self, timeout: float = 5) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            listening = False
            try:
                with self._connect() as conn:
                    for channel in self._channels:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    listening, failures = True, 0
                    self._on_listening(True)
                    asked = time.monotonic()
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=POLL_S):
                            self._channels[notice.channel](notice.payload)
                        if time.monotonic() - asked >= HEARTBEAT_S:
                            # a connection that died without a word would otherwise
                            # leave everything kept on its say-so stale
                            conn.execute("SELECT 1")
                            asked = time.monotonic()
            except psycopg.Error as exc:
                log.info("not listening on %s (%s); retrying", ", ".join(self._channels),
                         type(exc).__name__)
            except Exception:  # a callback failed: log it, keep listening
                log.exception("listener on %s", ", ".join(self._channels))
            finally:
                if listening:
                    self._on_listening(False)
            failures += 1
            self._stop.wait(RETRY_S[min(failures, len(RETRY_S)) - 1])


class HeardChanges:
    """How many changes of each table this process has heard of: versions of the data
    that cost no query, trusted only while every change can be heard (None otherwise).
    ``gridgis_meta`` (the attribution every page shows) counts for every table set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._missed = 0
        self._listening = False

    def changed(self, table: str) -> None:
        with self._lock:
            self._counts[table] = self._counts.get(table, 0) + 1

    def set_listening(self, listening: bool) -> None:
        with self._lock:
            self._missed += 1  # whatever was missed meanwhile counts as a change
            self._listening = listening

    def current(self, tables: Iterable[str]) -> tuple[int, int] | None:
        with self._lock:
            if not self._listening:
                return None
            return self._missed, sum(self._counts.get(t, 0)
                                     for t in {*tables, "gridgis_meta"})
