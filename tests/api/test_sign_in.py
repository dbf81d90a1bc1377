"""Signing in on the pages and with tokens: cookie flags, CSRF on every change a
browser makes, lockout and rate limits, and every kind of bad credential a 401 that
leaks nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, AuthSettings, Settings
from gridgis.gis.access import accounts
from tests.accounts import bearer, token_for
from tests.api.helpers import assert_problem, point_feature

PASSWORD = "correct horse battery"


@pytest.fixture
def user(seeded) -> str:
    db, _ = seeded
    with db.engine.begin() as conn:
        accounts.add_user(conn, "li.ming", ["police"], password=PASSWORD)
    return "li.ming"


def _app(db, **auth):
    settings = Settings(api=ApiSettings(max_bbox_km2=500), auth=AuthSettings(**auth))
    return create_app(settings, database=db)


def _sign_in(client: TestClient, name: str, password: str, next_url: str = "/"):
    form = client.get("/login", params={"next": next_url})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": token, "next": next_url},
                       follow_redirects=False)


def test_a_browser_signs_in_changes_with_its_csrf_token_and_signs_out(seeded, user):
    db, _ = seeded
    with TestClient(_app(db)) as browser:
        answer = _sign_in(browser, user, PASSWORD, "/maps/incidents?lang=en")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/maps/incidents?lang=en"
        cookie = next(c for c in answer.headers.get_list("set-cookie")
                      if c.startswith("gridgis_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        assert browser.get("/people", params={"limit": 1}).status_code == 200
        me = browser.get("/me").json()
        assert me["name"] == user and me["credential"] == "session" and me["csrf_token"]
        feature = point_feature(category="dispute", occurred_at="2026-03-03T10:00:00Z")
        assert_problem(browser.post("/incidents", json=feature), 403, "X-CSRF-Token")
        assert_problem(browser.post("/incidents", json=feature,
                                    headers={"X-CSRF-Token": "guess"}), 403)
        made = browser.post("/incidents", json=feature,
                            headers={"X-CSRF-Token": me["csrf_token"]})
        assert made.status_code == 201
        landing = browser.get("/", params={"lang": "en"}, headers={"Accept": "text/html"}).text
        assert "Signed in as" in landing and me["csrf_token"] in landing
        assert_problem(browser.post("/logout", data={"csrf_token": "wrong"}), 403)
        out = browser.post("/logout", data={"csrf_token": me["csrf_token"]},
                           follow_redirects=False)
        assert out.status_code == 303
        stale = TestClient(browser.app, cookies={"gridgis_session": cookie.split(";")[0]
                                                 .split("=", 1)[1]})
        assert_problem(stale.get("/people"), 401)  # the session ended in the database


def test_the_session_cookie_is_secure_when_asked_and_over_https(seeded, user):
    db, _ = seeded
    with TestClient(_app(db, secure_cookies="always")) as browser:
        answer = _sign_in(browser, user, PASSWORD)
        assert "Secure" in answer.headers["set-cookie"]
    with TestClient(_app(db), base_url="https://testserver") as browser:
        assert "Secure" in _sign_in(browser, user, PASSWORD).headers["set-cookie"]


def test_the_sign_in_form_refuses_a_post_from_elsewhere_and_redirects_home_only(seeded,
                                                                               user):
    db, _ = seeded
    with TestClient(_app(db)) as browser:
        forged = browser.post("/login", data={"username": user, "password": PASSWORD,
                                              "csrf_token": "forged"})
        assert forged.status_code == 403 and "gridgis_session" not in forged.cookies
        for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
            assert _sign_in(browser, user, PASSWORD, evil).headers["location"] == "/"


def test_wrong_passwords_lock_the_account_and_a_flood_is_slowed(seeded, user):
    db, _ = seeded
    with TestClient(_app(db)) as browser:
        for _ in range(accounts.MAX_FAILED):
            wrong = _sign_in(browser, user, "not the password")
            assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        locked = _sign_in(browser, user, PASSWORD)  # the right one, too late
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 800
        unknown = _sign_in(browser, "nobody", "whatever password")
        assert unknown.status_code == 401  # the same answer as a wrong password
    with db.engine.connect() as conn:
        actions = conn.execute(sa.text(
            "SELECT action, detail FROM audit_log WHERE user_name IN ('li.ming', 'nobody') "
            "ORDER BY id")).all()
    assert [a for a, _ in actions] == ["sign_in_failed"] * (accounts.MAX_FAILED + 2)
    assert actions[-2].detail == "locked"
    with db.engine.begin() as conn:  # the attempts above are within the same minute
        conn.execute(sa.text("DELETE FROM sign_in_attempts"))
    # two services on one database (two workers of `gridgis serve`) share the limit
    with TestClient(_app(db, sign_in_per_minute=3)) as flood, \
            TestClient(_app(db, sign_in_per_minute=3)) as other_worker:
        answers = [_sign_in(flood if k % 2 else other_worker, "nobody",
                            f"guess {k}").status_code for k in range(5)]
    assert answers == [401, 401, 401, 429, 429]


def test_every_bad_credential_is_a_401_that_leaks_nothing(seeded):
    db, _ = seeded
    good = token_for(db, "viewer", name="kept")
    expired = token_for(db, "viewer", name="expired")
    revoked = token_for(db, "viewer", name="revoked")
    disabled = token_for(db, "viewer", name="disabled")
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE app_credentials SET expires_at = now() - interval '1 s' "
                             "WHERE user_id = (SELECT id FROM app_users WHERE name = 'expired')"))
        token_id = accounts.list_tokens(conn, "revoked")[0]["id"]
        accounts.revoke_token(conn, "revoked", token_id)
        accounts.set_disabled(conn, "disabled")
    cases = {"no scheme": {"Authorization": good}, "basic": {"Authorization": "Basic eDp5"},
             "empty": {"Authorization": "Bearer "}, "unknown": bearer("ggt_" + "x" * 43),
             "tampered": bearer(good[:-1] + ("A" if good[-1] != "A" else "B")),
             "huge": bearer("x" * 100_000), "sql": bearer("' OR 1=1 --"),
             "expired": bearer(expired), "revoked": bearer(revoked),
             "disabled": bearer(disabled), "cookie": {"Cookie": "gridgis_session=forged"}}
    with TestClient(_app(db)) as client:
        assert client.get("/incidents", headers=bearer(good)).status_code == 200
        for name, headers in cases.items():
            response = client.get("/incidents", headers=headers)
            body = assert_problem(response, 401)
            for leak in ("SELECT", "Traceback", "psycopg", "app_credentials"):
                assert leak not in response.text, (name, body)
