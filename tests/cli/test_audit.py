"""``gridgis audit-log``: searching the audit log from the command line, by user, person,
resource, action and time, as a table or JSON lines; the search is recorded too."""

from __future__ import annotations

import json
import os
import pwd
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from tests.accounts import api_client

ACTOR = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"
COLUMNS = {"id", "at", "user_name", "roles", "client", "action", "route", "resource",
           "record_ids", "person_ids", "personal", "purpose", "before", "after", "detail"}
# Entries of an earlier year, either side of midnight UTC on 1 March 2025.
HISTORY = [("2025-02-28T23:30:00Z", "archivist", "sign_in"),
           ("2025-03-01T00:30:00Z", "archivist", "sign_out")]


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch):
    """Tables as wide as they need: a narrow pipe would truncate their cells."""
    monkeypatch.setenv("COLUMNS", "240")


@pytest.fixture
def logged(seeded, api_settings) -> dict:
    """A police officer who read people, masked and (stating a purpose) unmasked; a
    grid worker who changed one; and two old entries."""
    db, ids = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police:
        officer = police.get("/me").json()["name"]
        listed = police.get("/people", params={"sort": "id", "limit": 2}).json()
        read = [f["id"] for f in listed["features"]]
        assert police.get(f"/people/{read[1]}", params={"purpose": "案件协查"}).status_code \
            == 200
    with api_client(app, db, "grid_worker", ["110101001001000"]) as worker:
        clerk = worker.get("/me").json()["name"]
        version = worker.get(f"/people/{read[0]}").json()["properties"]["version"]
        changed = worker.patch(f"/people/{read[0]}", params={"version": version},
                               json={"phone": "13900000000"})
        assert changed.status_code == 200, changed.text
    with db.engine.begin() as conn:
        for at, user, action in HISTORY:
            conn.execute(sa.text("INSERT INTO audit_log (at, user_name, action, resource) "
                                 "VALUES (:at, :u, :a, 'users')"),
                         {"at": at, "u": user, "a": action})
    return {"db": db, "officer": officer, "clerk": clerk, "read": read}


def search(run, *filters: object) -> list[dict]:
    result = run("audit-log", "--json", *filters)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def refused(result, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_json_lines_carry_every_field_newest_first(run, logged):
    entries = search(run)
    assert entries and all(set(e) == COLUMNS for e in entries)
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True)
    assert [e["action"] for e in entries[-2:]] == ["sign_out", "sign_in"]  # the oldest
    unmasked = next(e for e in entries if e["user_name"] == logged["officer"])
    assert unmasked["personal"] == "unmasked" and unmasked["roles"] == ["police"]
    assert unmasked["purpose"] == "案件协查" and unmasked["route"] == "GET /people/{row_id}"
    update = next(e for e in entries if e["action"] == "update")
    assert update["before"]["phone"] is None and update["after"]["phone"] == "13900000000"


def test_filters_by_user_person_resource_and_action(run, logged):
    officer, clerk, (first, second) = logged["officer"], logged["clerk"], logged["read"]
    reads = search(run, "--user", officer)
    assert [(e["action"], e["personal"], e["person_ids"]) for e in reads] == [
        ("read", "unmasked", [second]), ("read", "masked", [first, second])]
    assert [e["action"] for e in search(run, "--user", clerk, "--action", "update")] == \
        ["update"]
    about_first = search(run, "--person", first)
    assert {(e["user_name"], e["action"]) for e in about_first} >= {
        (officer, "read"), (clerk, "update")}
    assert all(first in e["person_ids"] for e in about_first)
    assert [e["personal"] for e in search(run, "--person", second, "--user", officer)] == \
        ["unmasked", "masked"]
    assert {e["resource"] for e in search(run, "--resource", "people")} == {"people"}
    assert search(run, "--user", "nobody") == []
    assert search(run, "--person", 999_999) == []
    assert len(search(run, "--resource", "people", "--limit", 1)) == 1


def test_since_is_inclusive_until_exclusive_and_utc_unless_offset(run, logged):
    def actions(*filters):
        return [e["action"] for e in search(run, "--user", "archivist", *filters)]

    assert actions("--since", "2025-03-01") == ["sign_out"]
    assert actions("--until", "2025-03-01") == ["sign_in"]
    assert actions("--since", "2025-03-01T08:00:00+08:00") == ["sign_out"]  # 00:00 UTC
    assert actions("--since", "2025-03-01T00:30:00Z") == ["sign_out"]  # inclusive
    assert actions("--until", "2025-03-01T00:30:00Z") == ["sign_in"]  # exclusive
    assert actions("--since", "2025-02-28", "--until", "2025-03-02") == ["sign_out", "sign_in"]
    assert actions("--since", "2025-03-02") == []
    # the entries of today, and none of them before the test began
    today = datetime.now(UTC).date().isoformat()
    recent = search(run, "--since", today)
    assert recent and not any(e["user_name"] == "archivist" for e in recent)


def test_bad_options_are_clear_errors(run, logged):
    refused(run("audit-log", "--since", "yesterday"), "--since 'yesterday' is not an ISO 8601")
    refused(run("audit-log", "--until", "2025-13-01"), "--until")
    refused(run("audit-log", "--since", "2025-03-02", "--until", "2025-03-01"),
            "--until must be after --since")
    refused(run("audit-log", "--limit", "0"), "--limit")
    refused(run("audit-log", "--person", "abc"), "--person")


def test_the_table_shows_the_entries_and_says_how_many(run, logged):
    result = run("audit-log", "--user", logged["officer"])
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 2 and all(logged["officer"] in row for row in rows)
    assert "unmasked" in rows[0] and "案件协查" in rows[0] and "masked" in rows[1]
    assert "2 of 2 entries, newest first" in result.stderr
    limited = run("audit-log", "--limit", 1)
    assert "1 of " in limited.stderr


def test_every_search_is_recorded_as_a_read_of_the_audit_log(run, logged):
    found = search(run, "--user", logged["officer"])
    searches = search(run, "--resource", "audit")
    assert len(searches) == 1
    recorded = searches[0]
    assert (recorded["action"], recorded["user_name"]) == ("read", ACTOR)
    assert recorded["record_ids"] == [e["id"] for e in found]
    assert recorded["detail"] == "audit log searched"
    assert len(search(run, "--resource", "audit")) == 2  # the search just above
    nothing = search(run, "--user", "nobody")
    assert nothing == [] and search(run, "--resource", "audit", "--limit", 1)[0][
        "record_ids"] is None
