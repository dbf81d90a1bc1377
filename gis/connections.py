"""How many database connections each server worker may open, so that N workers never
exhaust the server's ``max_connections``.

One worker process opens at most: its request pool (``pool_size + max_overflow``), one
LISTEN connection, the owner's connections at start-up (migrations, roles) and two per
analysis process (their own small pools). What the server allows, less the connections
reserved for superusers and a spare share for the command line, desktop GIS and backups,
is divided among the workers."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .errors import ConfigurationError

SPARE_CONNECTIONS = 10  # `gridgis` commands, psql, QGIS, pg_dump beside the service
LISTENER = 1
OWNER_AT_START = 2
PER_ANALYSIS_PROCESS = 2
MAX_POOL = 16  # pool_size + max_overflow: more threads waiting on the database help no one
MIN_POOL = 2


@dataclass(frozen=True)
class ConnectionPlan:
    workers: int
    pool_size: int
    max_overflow: int
    analytics_slots: int  # per worker
    max_connections: int  # what the server allows

    @property
    def per_worker(self) -> int:
        return (self.pool_size + self.max_overflow + LISTENER + OWNER_AT_START
                + PER_ANALYSIS_PROCESS * self.analytics_slots)

    @property
    def total(self) -> int:
        return self.workers * self.per_worker


def plan_connections(max_connections: int, reserved: int, workers: int,
                     analytics_slots: int) -> ConnectionPlan:
    """Share ``max_connections`` (less ``reserved`` for superusers and the spare) among
    ``workers`` processes that compute ``analytics_slots`` analyses at once between them
    (at least one each). Raises ConfigurationError when they cannot fit."""
    if workers < 1:
        raise ConfigurationError("--workers must be at least 1")
    pool, slots = _pool(max_connections, reserved, workers, analytics_slots)
    if pool < MIN_POOL:
        fits = max_workers(max_connections, reserved, analytics_slots)
        raise ConfigurationError(
            f"{workers} workers need more database connections than the server allows "
            f"(max_connections={max_connections}, {reserved} reserved for superusers, "
            f"{SPARE_CONNECTIONS} kept for commands and desktop GIS): serve with "
            f"--workers {fits} or fewer, or raise max_connections" if fits else
            f"the server allows max_connections={max_connections}, too few for even one "
            "worker: raise it")
    pool_size = (pool + 1) // 2
    return ConnectionPlan(workers, pool_size, pool - pool_size, slots, max_connections)


def max_workers(max_connections: int, reserved: int, analytics_slots: int) -> int:
    """The most workers ``max_connections`` can serve (0 if not even one)."""
    workers = 0
    while _pool(max_connections, reserved, workers + 1, analytics_slots)[0] >= MIN_POOL:
        workers += 1
    return workers


def _pool(max_connections: int, reserved: int, workers: int, analytics_slots: int
          ) -> tuple[int, int]:
    """(request pool, analysis processes) of one of ``workers``."""
    slots = max(1, analytics_slots // workers)
    per_worker = (max_connections - reserved - SPARE_CONNECTIONS) // workers
    fixed = LISTENER + OWNER_AT_START + PER_ANALYSIS_PROCESS * slots
    return min(MAX_POOL, per_worker - fixed), slots


def server_limits(conn: sa.Connection) -> tuple[int, int]:
    """(max_connections, the connections reserved for superusers and, from PostgreSQL 16,
    for roles with pg_use_reserved_connections) of the server."""
    row = conn.execute(sa.text(
        "SELECT current_setting('max_connections')::int, "
        "current_setting('superuser_reserved_connections')::int + "
        "coalesce(current_setting('reserved_connections', true)::int, 0)")).one()
    return int(row[0]), int(row[1])
