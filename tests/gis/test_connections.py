"""N server workers share the database's connections: whatever N, cores and analysis
processes, what they may open together stays within max_connections, less the
superusers' reserve and a spare share for commands and desktop GIS."""

from __future__ import annotations

import pytest

from gridgis.gis.connections import (
    SPARE_CONNECTIONS,
    max_workers,
    plan_connections,
    server_limits,
)
from gridgis.gis.errors import ConfigurationError


@pytest.mark.parametrize("max_connections", [40, 100, 200, 500])
@pytest.mark.parametrize("slots", [1, 3, 8])
def test_workers_never_exhaust_the_server(max_connections, slots):
    reserved = 3
    fits = max_workers(max_connections, reserved, slots)
    assert fits >= 1
    for workers in range(1, fits + 1):
        plan = plan_connections(max_connections, reserved, workers, slots)
        assert plan.total + reserved + SPARE_CONNECTIONS <= max_connections
        assert plan.pool_size >= 1 and plan.analytics_slots >= 1
        assert workers * plan.analytics_slots <= max(slots, workers)
    with pytest.raises(ConfigurationError, match=f"--workers {fits} or fewer"):
        plan_connections(max_connections, reserved, fits + 1, slots)


def test_one_worker_on_the_default_server_gets_the_full_pool():
    plan = plan_connections(100, 3, 1, 1)
    assert (plan.pool_size, plan.max_overflow) == (8, 8)


def test_the_analysis_processes_are_shared_among_the_workers():
    assert plan_connections(100, 3, 2, 3).analytics_slots == 1
    assert plan_connections(100, 3, 2, 4).analytics_slots == 2


def test_a_server_too_small_for_one_worker_says_so():
    with pytest.raises(ConfigurationError, match="too few for even one worker"):
        plan_connections(15, 3, 1, 1)


def test_the_limits_are_read_from_the_server(conn):
    max_connections, reserved = server_limits(conn)
    assert max_connections >= 20 and 0 <= reserved < max_connections
