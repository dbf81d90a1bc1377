"""The users behind tokens and session cookies, kept in memory between requests so that
a request does not pay a database round trip to learn who sent it.

An entry is trusted only while the database can tell this process of every change that
could alter it (``NOTIFY gridgis_access``, migration 0009: a credential revoked, a user
disabled or given other roles or scope, grids, plans or areas changed): each such
notification empties the cache, and while the listener is not connected nothing is kept.
Entries also expire after ``ttl_s`` and never outlive their credential. Keys are hashes
of the secrets, never the secrets."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime

from gridgis.gis.access.principal import Principal

MAX_ENTRIES = 10_000


def cache_key(kind: str, secret: str) -> bytes:
    return hashlib.sha256(f"{kind}:{secret}".encode()).digest()


class PrincipalCache:
    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self._listening = False

    @property
    def generation(self) -> int:
        """Read before a lookup and hand to :meth:`put`: a change notified meanwhile
        keeps that lookup's (possibly stale) answer out of the cache."""
        return self._generation

    def get(self, key: bytes) -> Principal | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: bytes, who: Principal, generation: int) -> None:
        ttl = self.ttl_s
        if who.expires_at is not None:
            ttl = min(ttl, (who.expires_at - datetime.now(UTC)).total_seconds())
        with self._lock:
            if not self._listening or ttl <= 0 or generation != self._generation:
                return
            self._entries[key] = (time.monotonic() + ttl, who)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def set_listening(self, listening: bool) -> None:
        """Called by the listener: keep entries only while changes can be heard."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._listening = listening and self.ttl_s > 0

    def __len__(self) -> int:
        return len(self._entries)
