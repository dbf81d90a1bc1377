"""The sign-in rate limit, counted in the database so that it holds across all of the
service's workers (migration 0020)."""

from __future__ import annotations

import math

import sqlalchemy as sa

from gridgis.gis.errors import TooManyAttempts

WINDOW_S = 60


class SignInLimiter:
    """At most ``per_minute`` sign-in attempts per client address in any minute."""

    def __init__(self, engine: sa.Engine, per_minute: int) -> None:
        self.engine = engine
        self.per_minute = per_minute

    def check(self, client: str) -> None:
        """Count this attempt, or raise TooManyAttempts (not counting it)."""
        with self.engine.begin() as conn:
            # one client's attempts are counted one at a time, across workers; an attempt
            # while another of the same client is being counted is refused, not queued (a
            # flood from one address must not hold the pool's connections)
            if not conn.execute(sa.text(
                    "SELECT pg_try_advisory_xact_lock(hashtext('sign_in ' || :c))"),
                    {"c": client}).scalar_one():
                raise TooManyAttempts(f"too many sign-in attempts from {client} at once; "
                                      "wait a second", retry_after=1)
            conn.execute(sa.text("DELETE FROM sign_in_attempts "
                                 "WHERE at < now() - make_interval(secs => :w)"),
                         {"w": WINDOW_S})
            made, oldest_age = conn.execute(sa.text(
                "SELECT count(*), extract(epoch FROM now() - min(at)) FROM sign_in_attempts "
                "WHERE client = :c"), {"c": client}).one()
            if made >= self.per_minute:
                wait = max(1, math.ceil(WINDOW_S - float(oldest_age)))
                raise TooManyAttempts(f"too many sign-in attempts from {client}; wait "
                                      f"{wait} s", retry_after=wait)
            conn.execute(sa.text("INSERT INTO sign_in_attempts (client) VALUES (:c)"),
                         {"c": client})
