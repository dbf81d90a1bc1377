"""``gridgis demo --city``: the generated city built from the command line, and the
options that do not go together refused before anything is built."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from gridgis.gis.db import create_db_engine

from .conftest import gridgis_runner


@pytest.fixture
def empty_database(pg_server):
    name, url = pg_server.fresh(srid=None)
    yield url
    pg_server.drop_database(name)


def test_a_small_generated_city_is_built_and_then_kept(empty_database):
    gridgis = gridgis_runner({**os.environ, "GRIDGIS_DATABASE_URL": empty_database})
    built = gridgis("demo", "--city", "--scale", "0.003", "--no-serve", timeout=300)
    assert built.returncode == 0, built.stderr
    assert "the generated city built in" in built.stdout
    assert "25 grids" in built.stdout and "3,000 households" in built.stdout
    assert "password" in built.stdout
    assert _published_grids(empty_database) == 25

    again = gridgis("demo", "--city", "--scale", "0.003", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "the generated city is already built" in again.stdout

    helsinki = gridgis("demo", "--no-serve")
    assert helsinki.returncode != 0
    assert "holds the generated city, not the demo district" in helsinki.stderr
    assert "use another GRIDGIS_HOME" in helsinki.stderr
    # refused before a reset empties anything: a reset keeps the schema's coordinates
    replaced = gridgis("demo", "--reset", "--no-serve")
    assert replaced.returncode != 0 and "use another GRIDGIS_HOME" in replaced.stderr
    assert _published_grids(empty_database) == 25


def _published_grids(url: str) -> int:
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM published_grids")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize(("args", "message"), [
    (("--city", "--months", "3"), "--months is for the Helsinki demo"),
    (("--scale", "0.5"), "--scale is for the generated city"),
    (("--city", "--scale", "0"), "'--scale'"),
    (("--city", "--scale", "3"), "'--scale'"),
])
def test_options_that_do_not_go_together_are_refused(run, args, message):
    result = run("demo", *args, "--no-serve")
    assert result.returncode != 0
    assert message in result.stderr
