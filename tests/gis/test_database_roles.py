"""The database roles (migration 0008): the service is no superuser and cannot change
the audit log; desktop GIS reads layers without personal fields; a planner edits the
grids of draft plans only, audited by the database itself."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from gridgis.gis.db import create_db_engine
from tests.helpers import add_grid, add_plan, square


def _as(db, role: str) -> sa.Engine:
    return create_db_engine(db.engine.url.render_as_string(hide_password=False), role=role,
                            pool_size=1)


def _fails(engine: sa.Engine, statement: str, error: type[Exception]) -> str:
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as caught:
        conn.execute(sa.text(statement))
    assert isinstance(caught.value.orig, error), caught.value.orig
    return str(caught.value.orig)


def test_the_service_role_is_no_superuser_and_only_appends_to_the_audit_log(seeded):
    db, _ = seeded
    service = db.for_service(pool_size=1)
    with service.engine.begin() as conn:
        who = conn.execute(sa.text("SELECT current_user, rolsuper, rolcreaterole, rolbypassrls "
                                   "FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(who) == ("gridgis_app", False, False, False)
        assert conn.execute(sa.text("SELECT count(*) FROM people")).scalar() == 3
        conn.execute(sa.text("INSERT INTO audit_log (action) VALUES ('test')"))
        conn.execute(sa.text("UPDATE incidents SET status = 'closed' WHERE false"))
    denied = psycopg.errors.InsufficientPrivilege
    _fails(service.engine, "UPDATE audit_log SET action = 'forged'", denied)
    _fails(service.engine, "DELETE FROM audit_log", denied)
    _fails(service.engine, "TRUNCATE audit_log", denied)
    _fails(service.engine, "CREATE TABLE mine (x int)", denied)
    _fails(service.engine, "ALTER TABLE people DISABLE TRIGGER ALL", denied)
    service.engine.dispose()


def test_the_gis_reader_sees_layers_without_personal_fields(seeded):
    db, _ = seeded
    reader = _as(db, "gridgis_gis_reader")
    with reader.connect() as conn:
        columns = set(conn.execute(sa.text("SELECT * FROM gis.incidents LIMIT 0")).keys())
        assert "description" not in columns and {"category", "geom"} <= columns
        assert conn.execute(sa.text("SELECT count(*) FROM gis.published_grids")).scalar() == 9
        per_grid = dict(conn.execute(sa.text(
            "SELECT code, people FROM gis.people_per_grid")).all())
        assert per_grid["110101001001000"] is None  # two people: withheld
        assert per_grid["110101001001002"] == 0
    for table in ("people", "workers", "app_users", "audit_log", "incidents"):
        _fails(reader, f"SELECT * FROM public.{table}", psycopg.errors.InsufficientPrivilege)
    _fails(reader, "UPDATE gis.areas SET name = 'x'", psycopg.errors.InsufficientPrivilege)
    reader.dispose()


def test_a_planner_edits_draft_plan_grids_only_and_is_audited(seeded):
    db, ids = seeded
    with db.engine.begin() as conn:
        draft = add_plan(conn, "2027 draft", state="draft")
        draft_grid = add_grid(conn, draft, "D001", square(0, 0))
    planner = _as(db, "gridgis_planner")
    with planner.begin() as conn:
        conn.execute(sa.text("UPDATE grids SET name = '新网格' WHERE id = :g"),
                     {"g": draft_grid})
        conn.execute(sa.text(
            "INSERT INTO grids (plan_id, code, geom) SELECT :p, 'D002', "
            "ST_Translate(geom, 100, 0) FROM grids WHERE id = :g"),
            {"p": draft, "g": draft_grid})
        gone = conn.execute(sa.text("DELETE FROM grids WHERE id = :g"),
                            {"g": ids["grid00"]}).rowcount
    assert gone == 0  # a published grid is not the planner's to delete
    message = _fails(planner, f"UPDATE grids SET name = 'x' WHERE id = {ids['grid00']}",
                     psycopg.errors.InsufficientPrivilege)
    assert "is not a draft" in message
    _fails(planner, f"INSERT INTO grids (plan_id, code, geom) SELECT {ids['plan']}, 'X', "
                    f"geom FROM grids WHERE id = {draft_grid}",
           psycopg.errors.InsufficientPrivilege)
    _fails(planner, "UPDATE grid_plans SET state = 'published'",
           psycopg.errors.InsufficientPrivilege)
    with db.engine.connect() as conn:
        audited = conn.execute(sa.text(
            "SELECT action, roles, route, before ->> 'name', after ->> 'name' FROM audit_log "
            "WHERE resource = 'grids' ORDER BY id")).all()
        assert conn.execute(sa.text("SELECT name FROM grids WHERE id = :g"),
                            {"g": ids["grid00"]}).scalar() != "x"
    assert [(a, r, route) for a, r, route, _, _ in audited] == [
        ("update", ["gridgis_planner"], "database"), ("insert", ["gridgis_planner"],
                                                      "database")]
    assert audited[0][3:] == (None, "新网格")
    planner.dispose()
