"""``gridgis users …``: accounts, passwords and API tokens from the command line, each
command a real process on the test database, each change in the audit log as the
operating-system user who ran it."""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridgis.api.app import create_app
from gridgis.gis.access import accounts
from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import NotAuthenticated
from tests.accounts import bearer

ACTOR = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"
PASSWORD = "correct horse battery"
GRID = "110101001001000"  # a grid of the seeded published plan
COMMUNITY = "110101001001"
SUBDISTRICT = "110101001"
PASSWORD_LINE = re.compile(r"^password for (\S+): (\S+)$", re.MULTILINE)


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch):
    """Tables as wide as they need: a narrow pipe would truncate their cells."""
    monkeypatch.setenv("COLUMNS", "240")


@pytest.fixture
def run_stdin(db):
    """gridgis on the test's database with ``stdin`` on its standard input."""
    env = {**os.environ, "GRIDGIS_DATABASE_URL":
           db.engine.url.render_as_string(hide_password=False)}

    def gridgis(stdin: str, *args: object) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gridgis", *map(str, args)], env=env,
                              input=stdin, capture_output=True, text=True, timeout=120)
    return gridgis


@pytest.fixture(autouse=True)
def district(seeded):
    """The seeded district: areas and a published plan, for scopes."""
    return seeded


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """A one-line error (exit 2, no traceback) naming ``words``; its text."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""  # nothing printed, no secret
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


def generated_password(result: subprocess.CompletedProcess, name: str) -> str:
    found = PASSWORD_LINE.findall(result.stdout)
    assert [n for n, _ in found] == [name], result.stdout
    return found[0][1]


def signs_in(db, name: str, password: str) -> bool:
    try:
        accounts.sign_in(db.engine, name, password, Principal.anonymous())
    except NotAuthenticated:
        return False
    return True


def token_user(db, secret: str) -> Principal | None:
    """Whom a bearer token stands for, as the service looks it up (None: no one)."""
    with db.engine.begin() as conn:
        return accounts.principal_for(conn, secret, kind="token")


def new_token(run, name: str, *options: object) -> str:
    return create_token(run, name, *options)[1]


def create_token(run, name: str, *options: object) -> tuple[int, str]:
    """A new token of the user's, made by the command: (its id, the secret)."""
    result = ok(run("users", "token", name, *options))
    token_id = re.search(r"^token (\d+) for ", result.stderr, re.MULTILINE)
    assert token_id, result.stderr
    return int(token_id.group(1)), result.stdout.strip()


def audit_log(run, *filters: str) -> list[dict]:
    result = ok(run("audit-log", "--json", *filters))
    return [json.loads(line) for line in result.stdout.splitlines()]


def user_id(db, name: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM app_users WHERE name = :n"),
                            {"n": name}).scalar_one()


def test_add_prints_a_generated_password_once_and_it_signs_in(run, db):
    result = ok(run("users", "add", "li.ming", "--role", "police", "--display-name", "李明"))
    assert "added li.ming: police; whole district" in result.stdout
    password = generated_password(result, "li.ming")
    assert len(password) >= accounts.MIN_PASSWORD_CHARS
    assert result.stdout.count(password) == 1
    assert signs_in(db, "li.ming", password)
    assert not signs_in(db, "li.ming", password + "x")
    with db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM app_users "
                                      "WHERE name = 'li.ming'")).scalar_one()
    assert stored.startswith("$argon2") and password not in stored
    # another account's password is another password
    other = generated_password(ok(run("users", "add", "wang.fang", "--role", "viewer")),
                               "wang.fang")
    assert other != password and not signs_in(db, "wang.fang", password)


def test_add_reads_the_password_from_stdin(run_stdin, db):
    result = ok(run_stdin(PASSWORD + "\n", "users", "add", "li.ming", "--role", "planner",
                          "--password-stdin"))
    assert "password for" not in result.stdout and PASSWORD not in result.stdout
    assert signs_in(db, "li.ming", PASSWORD)
    refused(run_stdin("", "users", "add", "zhao", "--role", "viewer", "--password-stdin"),
            "stdin holds no password")
    refused(run_stdin("short\n", "users", "add", "zhao", "--role", "viewer",
                      "--password-stdin"), "at least 10 characters")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM app_users")).scalars().all() == \
            ["li.ming"]


def test_bad_input_is_a_clear_error_that_changes_nothing(run, db):
    ok(run("users", "add", "li.ming", "--role", "police"))
    bad_role = run("users", "add", "zhao", "--role", "superuser")
    assert bad_role.returncode == 2 and "Traceback" not in bad_role.stderr
    assert "superuser" in bad_role.stderr and "grid_worker" in bad_role.stderr
    refused(run("users", "add", "zhao", "--role", "grid_worker"), "grid worker needs a scope")
    refused(run("users", "add", "zhao", "--role", "patrol_leader"),
            "patrol leader needs a scope")
    refused(run("users", "add", "zhao", "--role", "grid_worker", "--scope", "999"),
            "'999' names no area or grid")
    refused(run("users", "add", "li.ming", "--role", "viewer"), "'li.ming' exists")
    refused(run("users", "add", "-x", "--role", "viewer"))
    refused(run("users", "add", "bad name", "--role", "viewer"), "a user name is")
    for command in (("disable", "nobody"), ("enable", "nobody"), ("passwd", "nobody"),
                    ("set", "nobody", "--role", "viewer"), ("token", "nobody"),
                    ("token", "nobody", "--list"), ("token", "nobody", "--revoke", "1")):
        refused(run("users", *command), "no user named 'nobody'")
    refused(run("users", "set", "li.ming"), "nothing to change")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM app_users")).scalars().all() == \
            ["li.ming"]
        assert conn.execute(sa.text("SELECT count(*) FROM app_credentials")).scalar_one() == 0
    assert [e["action"] for e in audit_log(run, "--resource", "users")] == ["user_added"]


def test_list_shows_roles_and_scope_and_never_a_secret(run, run_stdin, db):
    ok(run_stdin(PASSWORD + "\n", "users", "add", "li.ming", "--role", "police", "--role",
                 "planner", "--display-name", "李明", "--password-stdin"))
    worker = generated_password(ok(run("users", "add", "zhang", "--role", "grid_worker",
                                       "--scope", GRID)), "zhang")
    ok(run("users", "add", "wang", "--role", "patrol_leader", "--scope",
           f"{SUBDISTRICT},{COMMUNITY}"))
    secret = new_token(run, "zhang")
    ok(run("users", "disable", "wang"))
    listed = ok(run("users", "list")).stdout
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in listed.splitlines() if line.startswith("│")}
    assert rows["li.ming"][:4] == ["李明", "planner, police", "whole district", ""]
    assert rows["zhang"][1:4] == ["grid_worker", GRID, ""]
    assert rows["wang"][1:4] == ["patrol_leader", f"{SUBDISTRICT}, {COMMUNITY}", "yes"]
    with db.engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT password_hash FROM app_users")).scalars().all()
    for hidden in (PASSWORD, worker, secret, "argon2", *hashes):
        assert hidden not in listed


def test_list_without_users_says_how_to_add_one(run):
    assert "gridgis users add NAME --role admin" in ok(run("users", "list")).stdout


def test_disable_stops_tokens_and_sign_in_and_enable_lets_the_user_in_again(run, run_stdin,
                                                                            db):
    ok(run_stdin(PASSWORD + "\n", "users", "add", "li.ming", "--role", "police",
                 "--password-stdin"))
    secret = new_token(run, "li.ming")
    assert token_user(db, secret).name == "li.ming"
    _, session, _ = accounts.sign_in(db.engine, "li.ming", PASSWORD, Principal.anonymous())
    result = ok(run("users", "disable", "li.ming"))
    assert "disabled li.ming" in result.stdout
    assert token_user(db, secret) is None
    with db.engine.begin() as conn:
        assert accounts.principal_for(conn, session, kind="session") is None
    assert not signs_in(db, "li.ming", PASSWORD)
    assert "│ yes" in ok(run("users", "list")).stdout
    # a token that would not work now, and would once the user is enabled, is refused
    refused(run("users", "token", "li.ming"), "li.ming is disabled", "users enable li.ming")
    assert "enabled li.ming" in ok(run("users", "enable", "li.ming")).stdout
    assert signs_in(db, "li.ming", PASSWORD)
    assert token_user(db, secret) is None  # a disabled user's tokens stay revoked
    assert token_user(db, new_token(run, "li.ming")).name == "li.ming"


def test_passwd_replaces_the_password_and_ends_browser_sessions(run, run_stdin, db):
    first = generated_password(ok(run("users", "add", "li.ming", "--role", "viewer")),
                               "li.ming")
    secret = new_token(run, "li.ming")
    _, session, _ = accounts.sign_in(db.engine, "li.ming", first, Principal.anonymous())
    result = ok(run("users", "passwd", "li.ming"))
    second = generated_password(result, "li.ming")
    assert second != first and "their browser sessions ended" in result.stdout
    assert not signs_in(db, "li.ming", first)
    assert signs_in(db, "li.ming", second)
    with db.engine.begin() as conn:
        assert accounts.principal_for(conn, session, kind="session") is None
    assert token_user(db, secret).name == "li.ming"  # tokens are not sessions: they stay
    result = ok(run_stdin(PASSWORD + "\n", "users", "passwd", "li.ming", "--password-stdin"))
    assert "password for" not in result.stdout
    assert not signs_in(db, "li.ming", second)
    assert signs_in(db, "li.ming", PASSWORD)
    refused(run_stdin("short\n", "users", "passwd", "li.ming", "--password-stdin"),
            "at least 10 characters")
    assert signs_in(db, "li.ming", PASSWORD)


def test_passwd_lifts_a_lock(run, db):
    ok(run("users", "add", "li.ming", "--role", "viewer"))
    for _ in range(accounts.MAX_FAILED):
        assert not signs_in(db, "li.ming", "not the password")
    assert "until" in ok(run("users", "list")).stdout  # the locked column
    password = generated_password(ok(run("users", "passwd", "li.ming")), "li.ming")
    assert signs_in(db, "li.ming", password)


def test_set_changes_roles_and_scope(run, db):
    ok(run("users", "add", "li.ming", "--role", "viewer"))
    refused(run("users", "set", "li.ming", "--role", "grid_worker"),
            "grid worker needs a scope")
    result = ok(run("users", "set", "li.ming", "--role", "grid_worker", "--role", "police",
                    "--scope", GRID))
    assert f"li.ming: police, grid_worker; scope {GRID}" in result.stdout
    who = token_user(db, new_token(run, "li.ming"))
    assert who.roles == {"police", "grid_worker"} and who.scope == (GRID,)
    assert who.grid_ids is not None and len(who.grid_ids) == 1
    ok(run("users", "set", "li.ming", "--scope", COMMUNITY))  # roles kept
    who = token_user(db, new_token(run, "li.ming"))
    assert who.roles == {"police", "grid_worker"} and len(who.grid_ids) == 9
    refused(run("users", "set", "li.ming", "--scope", ""), "grid worker needs a scope")
    result = ok(run("users", "set", "li.ming", "--role", "viewer", "--scope", ""))
    assert "li.ming: viewer; whole district" in result.stdout
    who = token_user(db, new_token(run, "li.ming"))
    assert who.roles == {"viewer"} and who.scope == () and who.grid_ids is None


def test_a_token_is_printed_alone_authenticates_and_can_be_revoked(run, db, api_settings):
    ok(run("users", "add", "li.ming", "--role", "police"))
    result = ok(run("users", "token", "li.ming", "--label", "qgis", "--days", "7"))
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n" and secret.startswith("ggt_")
    assert "valid 7 days" in result.stderr and secret not in result.stderr
    with TestClient(create_app(api_settings, database=db)) as api:
        me = api.get("/me", headers=bearer(secret))
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "li.ming" and me.json()["credential"] == "token"
        assert api.get("/people", params={"limit": 1}, headers=bearer(secret)).status_code \
            == 200
        listed = ok(run("users", "token", "li.ming", "--list")).stdout
        row = next(line for line in listed.splitlines() if "qgis" in line)
        token_id = int(row.split("│")[1])
        assert row.split("│")[-2].strip() == "yes"
        assert secret not in listed and secret[4:] not in listed
        cache = api.app.state.gridgis.principals
        before = cache.generation
        result = ok(run("users", "token", "li.ming", "--revoke", token_id))
        assert f"revoked token {token_id} of li.ming" in result.stdout
        # the service keeps users in memory until the database tells it of a change
        deadline = time.monotonic() + 20
        while cache.generation == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.get("/me", headers=bearer(secret)).status_code == 401
    assert token_user(db, secret) is None
    row = next(line for line in ok(run("users", "token", "li.ming", "--list")).stdout
               .splitlines() if "qgis" in line)
    assert row.split("│")[-2].strip() == "revoked"
    refused(run("users", "token", "li.ming", "--revoke", token_id + 100),
            f"has no token {token_id + 100}")
    refused(run("users", "token", "li.ming", "--list", "--revoke", token_id), "not both")
    refused(run("users", "token", "li.ming", "--days", "0"), "1 to 3660 days")


def test_another_users_token_cannot_be_revoked_by_naming_this_user(run):
    ok(run("users", "add", "li.ming", "--role", "police"))
    ok(run("users", "add", "wang", "--role", "viewer"))
    new_token(run, "li.ming")
    token_id = int(next(line for line in ok(run("users", "token", "li.ming", "--list"))
                        .stdout.splitlines() if line.startswith("│")).split("│")[1])
    refused(run("users", "token", "wang", "--revoke", token_id), "wang has no token")
    listed = ok(run("users", "token", "li.ming", "--list")).stdout
    assert listed.splitlines()[-2].split("│")[-2].strip() == "yes"


def test_every_change_is_in_the_audit_log_as_the_os_user(run, run_stdin, db):
    first = generated_password(ok(run("users", "add", "li.ming", "--role", "viewer")),
                               "li.ming")
    ok(run_stdin(PASSWORD + "\n", "users", "passwd", "li.ming", "--password-stdin"))
    ok(run("users", "set", "li.ming", "--role", "grid_worker", "--scope", GRID))
    token_id, secret = create_token(run, "li.ming", "--label", "ci")
    ok(run("users", "token", "li.ming", "--revoke", token_id))
    ok(run("users", "disable", "li.ming"))
    ok(run("users", "enable", "li.ming"))
    ok(run("users", "list"))  # reads nothing personal: not recorded
    ok(run("users", "token", "li.ming", "--list"))
    entries = audit_log(run, "--resource", "users")
    assert [e["action"] for e in reversed(entries)] == [
        "user_added", "password_set", "user_changed", "token_created", "token_revoked",
        "user_disabled", "user_enabled"]
    assert {e["user_name"] for e in entries} == {ACTOR}
    assert {tuple(e["record_ids"]) for e in entries} == {(user_id(db, "li.ming"),)}
    by_action = {e["action"]: e for e in entries}
    assert by_action["user_added"]["after"] == {
        "name": "li.ming", "display_name": None, "roles": ["viewer"], "scope": [],
        "disabled": False}
    assert by_action["password_set"]["detail"] == "password from stdin"
    changed = by_action["user_changed"]
    assert (changed["before"]["roles"], changed["after"]["roles"]) == (["viewer"],
                                                                      ["grid_worker"])
    assert changed["after"]["scope"] == [GRID]
    assert by_action["token_created"]["detail"] == f"token {token_id}, 90 days, label 'ci'"
    assert by_action["token_revoked"]["detail"] == f"token {token_id}"
    assert by_action["user_disabled"]["after"] == {"disabled": True}
    assert by_action["user_enabled"]["after"] == {"disabled": False}
    logged = json.dumps(entries)
    for hidden in (first, PASSWORD, secret, "argon2"):
        assert hidden not in logged
    assert audit_log(run, "--user", ACTOR, "--action", "token_created") == \
        [by_action["token_created"]]
