"""Migrations: up from empty, idempotent, CRS rules, upgrade on open."""

import pytest
import sqlalchemy as sa
from alembic import command

from gridgis.gis.db import _alembic_config, migrate, schema_revision, upgrade_if_initialised
from gridgis.gis.errors import ConfigurationError, NotInitialised

TABLES = {"areas", "grid_plans", "grids", "workers", "grid_assignments", "buildings",
          "households", "people", "places", "things", "organisations", "incidents", "roads",
          "gridgis_meta"}


def tables(db) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())


def test_migrate_from_empty_creates_the_schema_with_spatial_indexes(make_db):
    db = make_db(srid=None)
    assert migrate(db.engine, 4547) == 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    assert TABLES <= tables(db)
    with db.engine.connect() as conn:
        srids = set(conn.execute(sa.text(
            "SELECT DISTINCT srid FROM geometry_columns")).scalars())
        unindexed = conn.execute(sa.text("""
            SELECT f_table_name FROM geometry_columns g
            JOIN pg_tables t ON t.tablename = g.f_table_name AND t.schemaname = 'public'
            WHERE NOT EXISTS (
              SELECT 1 FROM pg_indexes i WHERE i.tablename = g.f_table_name
                AND i.indexdef ILIKE '%gist%')""")).scalars().all()
    assert srids == {4547}
    assert unindexed == []


def test_migrate_is_idempotent(db):
    assert migrate(db.engine) == 32635
    current, head = schema_revision(db.engine)
    assert current == head


def test_first_migration_needs_a_metric_crs(make_db):
    db = make_db(srid=None)
    with pytest.raises(NotInitialised):
        migrate(db.engine)
    with pytest.raises(ConfigurationError, match="not a projected CRS in metres"):
        migrate(db.engine, 4326)
    with pytest.raises(ConfigurationError, match="2913.*not a projected CRS in metres"):
        migrate(db.engine, 2913)  # feet


def test_crs_cannot_change_once_chosen(db):
    with pytest.raises(ConfigurationError, match="cannot switch"):
        migrate(db.engine, 32610)


def test_opening_an_older_schema_upgrades_it(db):
    with db.engine.begin() as conn:
        command.downgrade(_alembic_config(conn, None), "0001")
    assert "roads" not in tables(db)
    upgrade_if_initialised(db.engine)
    assert "roads" in tables(db)


def test_the_engine_keeps_bound_values_out_of_its_errors(db):
    with db.engine.connect() as conn, pytest.raises(sa.exc.DataError) as error:
        conn.execute(sa.text("SELECT CAST(:v AS integer) WHERE CAST(:w AS text) <> ''"),
                     {"v": "12x", "w": "110101199001011234"})
    assert "110101199001011234" not in str(error.value)
    assert "parameters hidden" in str(error.value)
