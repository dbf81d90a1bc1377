"""The command line as a user runs it: a separate process, on a test database or on an
embedded cluster in a throw-away home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess]


def gridgis_runner(env: dict[str, str]) -> Run:
    def gridgis(*args: object, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gridgis", *map(str, args)], env=env,
                              capture_output=True, text=True, timeout=timeout)
    return gridgis


@pytest.fixture
def run(db) -> Run:
    """gridgis on the test's database (an external URL)."""
    return gridgis_runner({**os.environ, "GRIDGIS_DATABASE_URL":
                           db.engine.url.render_as_string(hide_password=False)})


@pytest.fixture
def run_embedded(cluster_home: Path) -> Run:
    """gridgis on its embedded cluster in a throw-away home."""
    env = {**os.environ, "GRIDGIS_HOME": str(cluster_home)}
    env.pop("GRIDGIS_DATABASE_URL", None)
    return gridgis_runner(env)
