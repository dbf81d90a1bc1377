"""The audit log: reads of personal data (masked or not, with the purpose), every write
with the row before and after, sign-ins; searchable by administrators only, and
append-only whoever asks."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.api.helpers import assert_problem, point_feature


@pytest.fixture
def as_role(seeded, api_settings):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    return lambda role, scope=None: api_client(app, db, role, scope)


def _entries(db, **where) -> list[dict]:
    clause = " AND ".join(f"{k} = :{k}" for k in where) or "true"
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            f"SELECT * FROM audit_log WHERE {clause} ORDER BY id"), where)]


def test_masked_and_unmasked_reads_of_people_are_both_recorded(as_role, seeded):
    db, _ = seeded
    with as_role("police") as police:
        me = police.get("/me").json()["name"]
        people = police.get("/people", params={"sort": "id", "limit": 2}).json()
        read_ids = [f["id"] for f in people["features"]]
        police.get(f"/people/{read_ids[0]}", params={"purpose": "案件协查 2026-118"})
        police.get("/areas")  # nothing personal: not recorded
    entries = _entries(db, user_name=me)
    assert [(e["action"], e["resource"], e["personal"]) for e in entries] == [
        ("read", "people", "masked"), ("read", "people", "unmasked")]
    assert entries[0]["person_ids"] == read_ids and entries[0]["purpose"] is None
    assert entries[1]["person_ids"] == read_ids[:1]
    assert entries[1]["purpose"] == "案件协查 2026-118"
    assert entries[1]["client"] == "testclient" and entries[1]["route"] == \
        "GET /people/{row_id}"


def test_writes_are_recorded_with_the_row_before_and_after(as_role, seeded):
    db, _ = seeded
    with as_role("grid_worker", ["110101001001000"]) as worker:
        me = worker.get("/me").json()["name"]
        created = worker.post("/people", json=point_feature(name="新居民", phone="139")).json()
        worker.patch(f"/people/{created['id']}", params={"version": 1},
                     json={"phone": "13900000000"})
        worker.delete(f"/people/{created['id']}")
    entries = [e for e in _entries(db, user_name=me) if e["action"] != "read"]
    assert [e["action"] for e in entries] == ["create", "update", "delete"]
    create, update, delete = entries
    assert create["before"] is None and create["after"]["name"] == "新居民"
    assert create["person_ids"] == [created["id"]]
    assert (update["before"]["phone"], update["after"]["phone"]) == ("139", "13900000000")
    assert (update["before"]["version"], update["after"]["version"]) == (1, 2)
    assert update["after"]["geometry"]["type"] == "Point"
    assert delete["before"]["version"] == 2 and delete["after"] is None


def test_only_administrators_search_the_log_and_the_search_is_recorded(as_role, seeded):
    db, _ = seeded
    with as_role("police") as police:
        police.get("/people", params={"limit": 1, "sort": "id"})
        assert_problem(police.get("/audit"), 403)
        assert_problem(police.get("/admin/audit"), 403)
    with as_role("admin") as admin:
        person = admin.get("/people", params={"limit": 1, "sort": "id"}).json()[
            "features"][0]["id"]
        found = admin.get("/audit", params={"person": person}).json()
        assert found["numberMatched"] == 2  # the police read and the admin's own
        assert all(person in e["person_ids"] for e in found["items"])
        page = admin.get("/admin/audit", params={"lang": "en", "person": person})
        assert page.status_code == 200 and "Audit log" in page.text
    assert _entries(db, resource="audit")  # the searches themselves


def test_the_log_is_append_only_whoever_asks(as_role, seeded):
    db, _ = seeded
    with as_role("police") as police:
        police.get("/people", params={"limit": 1})
    url = db.engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:  # the owner, a superuser in tests
        for statement in ("UPDATE audit_log SET user_name = 'someone else'",
                          "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()
