"""Listening for a PostgreSQL NOTIFY channel on a connection of its own, in a thread,
reconnecting after the database went away. Whoever uses it learns of each notification
and of every moment it may have missed some (the connection broke: anything may have
changed meanwhile)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often the thread looks up from waiting, to stop promptly
RETRY_S = (0.5, 1, 2, 5)  # waits before reconnecting, then the last one again


class ChangeListener:
    """``on_change()`` after each notification on ``channel``; ``on_listening(bool)``
    when listening starts (after connecting) and stops (connection lost or closed)."""

    def __init__(self, connect: Callable[[], psycopg.Connection], channel: str,
                 on_change: Callable[[], None],
                 on_listening: Callable[[bool], None] = lambda _: None) -> None:
        self._connect = connect
        self._channel = channel
        self._on_change = on_change
        self._on_listening = on_listening
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}",
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
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    listening, failures = True, 0
                    self._on_listening(True)
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=POLL_S):
                            self._on_change()
            except psycopg.Error as exc:
                log.info("not listening on %s (%s); retrying", self._channel,
                         type(exc).__name__)
            except Exception:  # a callback failed: log it, keep listening
                log.exception("listener on %s", self._channel)
            finally:
                if listening:
                    self._on_listening(False)
            failures += 1
            self._stop.wait(RETRY_S[min(failures, len(RETRY_S)) - 1])
