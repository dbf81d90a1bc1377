"""Rate limits kept in the service's memory."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from gridgis.gis.errors import TooManyAttempts


class SignInLimiter:
    """At most ``per_minute`` sign-in attempts per client address in any minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._attempts: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            attempts = self._attempts[client]
            while attempts and attempts[0] <= now - 60:
                attempts.popleft()
            if len(attempts) >= self.per_minute:
                wait = int(attempts[0] + 60 - now) + 1
                raise TooManyAttempts(f"too many sign-in attempts from {client}; wait "
                                      f"{wait} s", retry_after=wait)
            attempts.append(now)
            if len(self._attempts) > 10_000:  # forget quiet clients
                for key in [k for k, v in self._attempts.items() if not v]:
                    del self._attempts[key]
