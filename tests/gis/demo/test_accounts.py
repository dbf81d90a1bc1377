"""The demo's accounts: one per role, random passwords handed back once, scoped roles
limited to a demo subdistrict and grid; a reset removes them and keeps the audit log."""

import pytest
import sqlalchemy as sa

from gridgis.gis.access.accounts import add_user, sign_in
from gridgis.gis.access.principal import Principal
from gridgis.gis.access.roles import ROLES
from gridgis.gis.demo import create_accounts, existing_accounts, reset
from gridgis.gis.demo.accounts import ACCOUNTS
from gridgis.gis.errors import NotAuthenticated


def created(db, actor="cli:tester"):
    with db.engine.begin() as conn:
        return create_accounts(conn, actor)


def test_one_account_per_role_with_the_scoped_roles_scoped(seeded):
    db, _ = seeded
    accounts = created(db)
    assert [(a.name, a.role) for a in accounts] == list(ACCOUNTS)
    assert sorted(a.role for a in accounts) == sorted(ROLES)
    scopes = {a.name: a.scope for a in accounts}
    assert scopes["patrol"] == ("110101001",)  # the seeded subdistrict
    assert scopes["worker"] == ("110101001001000",)  # its first grid
    assert all(scopes[n] == () for n in ("admin", "planner", "police", "viewer"))


def test_each_password_signs_in_and_is_stored_only_hashed(seeded):
    db, _ = seeded
    accounts = created(db)
    assert len({a.password for a in accounts}) == len(accounts)
    for account in accounts:
        user, _, _ = sign_in(db.engine, account.name, account.password, Principal.anonymous())
        assert user.roles == (account.role,)
    with db.engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT string_agg(u::text, ' ') FROM app_users u")).scalar_one()
        logged = conn.execute(sa.text(
            "SELECT string_agg(a::text, ' ') FROM audit_log a")).scalar_one()
    for account in accounts:
        assert account.password not in stored and account.password not in logged


def test_creation_is_audited_as_the_actor(seeded):
    db, _ = seeded
    accounts = created(db, actor="cli:alice")
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT user_name, resource, record_ids, after FROM audit_log "
            "WHERE action = 'user_added' ORDER BY id")).all()
    assert [r.after["name"] for r in rows] == [a.name for a in accounts]
    assert {r.user_name for r in rows} == {"cli:alice"}
    assert all(r.resource == "users" and len(r.record_ids) == 1 for r in rows)


def test_existing_accounts_are_kept_as_they_were(seeded):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_user(conn, "police", ["viewer"], password="mine-and-not-yours")
    accounts = created(db)
    assert "police" not in {a.name for a in accounts} and len(accounts) == 5
    user, _, _ = sign_in(db.engine, "police", "mine-and-not-yours", Principal.anonymous())
    assert user.roles == ("viewer",)
    assert created(db) == []  # all exist now


def test_reset_removes_accounts_and_keeps_the_audit_log(seeded):
    db, _ = seeded
    accounts = created(db)
    with db.engine.connect() as conn:
        logged = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
        before = conn.execute(sa.text("SELECT max(id) FROM app_users")).scalar_one()
    reset(db)
    with db.engine.connect() as conn:
        assert existing_accounts(conn) == []
        assert conn.execute(sa.text("SELECT count(*) FROM app_credentials")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == logged
    with pytest.raises(NotAuthenticated):
        sign_in(db.engine, "admin", accounts[0].password, Principal.anonymous())
    with db.engine.begin() as conn:  # user ids go on: the log's ids keep naming one user
        new = add_user(conn, "someone", ["viewer"])
    assert new.id > before
