"""Table versions (migration 0018): a committed change moves the version of its table
and of no other; a rolled-back one moves nothing."""

from __future__ import annotations

import sqlalchemy as sa

from gridgis.gis.versions import table_version
from tests.helpers import X0, Y0


def test_a_change_moves_its_table_s_version_only(seeded):
    db, _ = seeded
    with db.engine.connect() as conn:
        roads, people = table_version(conn, ["roads"]), table_version(conn, ["people"])
        both = table_version(conn, ["roads", "people"])
    insert = sa.text("INSERT INTO roads (highway, geom) VALUES ('primary', "
                     "ST_GeomFromText(:line, 32635))")
    line = f"LINESTRING({X0} {Y0}, {X0 + 100} {Y0})"
    with db.engine.connect() as conn:
        with conn.begin() as transaction:
            conn.execute(insert, {"line": line})
            transaction.rollback()
        assert table_version(conn, ["roads"]) == roads
    with db.engine.begin() as conn:
        conn.execute(insert, {"line": line})
    with db.engine.connect() as conn:
        assert table_version(conn, ["roads"]) > roads
        assert table_version(conn, ["people"]) == people
        assert table_version(conn, ["people", "roads"]) > both


def test_every_statement_locks_the_data_version_before_the_registry_version(seeded):
    """Triggers fire in name order: each table the registry version counts also has the
    change counter, named to fire first, so that writers lock the two counter rows of
    a shard in one order and never deadlock."""
    db, _ = seeded
    with db.engine.connect() as conn:
        triggers = conn.execute(sa.text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal")).all()
    by_table: dict[str, list[str]] = {}
    for table, name in triggers:
        by_table.setdefault(table, []).append(name)
    registry = [t for t, names in by_table.items() if f"{t}_registry_version" in names]
    assert registry
    for table in registry:
        assert sorted(by_table[table]).index(f"{table}_change_count") < \
            sorted(by_table[table]).index(f"{table}_registry_version"), table
