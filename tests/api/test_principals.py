"""The users behind tokens kept in memory between requests: every change the database
notifies empties the cache at once, nothing is kept while the notifications cannot be
heard, and no entry outlives its credential."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridgis.api.app import create_app
from gridgis.api.principals import PrincipalCache, cache_key
from gridgis.api.settings import ApiSettings, AuthSettings, Settings
from gridgis.gis.access import accounts
from gridgis.gis.access.principal import Principal
from tests.accounts import bearer, token_for
from tests.helpers import until


def _app(db, **auth):
    return create_app(Settings(api=ApiSettings(max_bbox_km2=500), auth=AuthSettings(**auth)),
                      database=db)


def _cache(client: TestClient) -> PrincipalCache:
    return client.app.state.gridgis.principals


def _listening(client: TestClient) -> None:
    cache = _cache(client)
    until(lambda: cache._listening, "the listener to connect")


def test_a_revoked_token_is_refused_as_soon_as_the_database_tells(seeded):
    db, _ = seeded
    secret = token_for(db, "viewer", name="kept-in-memory")
    with TestClient(_app(db)) as client:
        _listening(client)
        assert client.get("/me", headers=bearer(secret)).status_code == 200
        cache = _cache(client)
        assert len(cache) == 1
        before = cache.generation
        with db.engine.begin() as conn:
            token_id = accounts.list_tokens(conn, "kept-in-memory")[0]["id"]
            accounts.revoke_token(conn, "kept-in-memory", token_id)
        until(lambda: cache.generation != before, "the revocation's notice")
        assert client.get("/me", headers=bearer(secret)).status_code == 401


def test_new_roles_and_scope_apply_to_the_next_request(seeded):
    db, _ = seeded
    secret = token_for(db, "viewer", name="moved")
    with TestClient(_app(db)) as client:
        _listening(client)
        assert client.get("/me", headers=bearer(secret)).json()["roles"] == ["viewer"]
        cache = _cache(client)
        before = cache.generation
        with db.engine.begin() as conn:
            accounts.update_user(conn, "moved", roles=["grid_worker"], scope=["110101001001000"])
        until(lambda: cache.generation != before, "the change's notice")
        me = client.get("/me", headers=bearer(secret)).json()
        assert me["roles"] == ["grid_worker"] and me["scope"] == ["110101001001000"]
        assert me["grids"] == 1


def test_nothing_is_kept_while_changes_cannot_be_heard(seeded):
    db, _ = seeded
    secret = token_for(db, "viewer")
    with TestClient(_app(db)) as client:
        _listening(client)
        cache = _cache(client)
        assert client.get("/me", headers=bearer(secret)).status_code == 200
        assert len(cache) == 1
        with db.engine.begin() as conn:  # the listener's connection breaks
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE application_name = 'gridgis-listener' "
                                 "AND datname = current_database()"))
        until(lambda: not cache._listening, "the listener to notice")
        assert len(cache) == 0
        assert client.get("/me", headers=bearer(secret)).status_code == 200
        assert len(cache) == 0  # asked the database, kept nothing
        until(lambda: cache._listening, "the listener to reconnect")
        assert client.get("/me", headers=bearer(secret)).status_code == 200
        assert len(cache) == 1


def test_a_zero_lifetime_turns_the_cache_off(seeded):
    db, _ = seeded
    secret = token_for(db, "viewer")
    with TestClient(_app(db, principal_cache_s=0)) as client:
        assert client.get("/me", headers=bearer(secret)).status_code == 200
        assert len(_cache(client)) == 0


def _who(expires_in_s: float) -> Principal:
    return Principal("x", frozenset({"viewer"}), user_id=1,
                     expires_at=datetime.now(UTC) + timedelta(seconds=expires_in_s))


def test_an_entry_never_outlives_its_credential():
    cache = PrincipalCache(ttl_s=3600)
    cache.set_listening(True)
    cache.put(b"soon", _who(0.2), cache.generation)
    cache.put(b"later", _who(7200), cache.generation)
    cache.put(b"gone", _who(-1), cache.generation)
    assert cache.get(b"soon") is not None and cache.get(b"gone") is None
    time.sleep(0.3)
    assert cache.get(b"soon") is None and cache.get(b"later") is not None


def test_an_answer_looked_up_before_a_change_is_not_kept():
    cache = PrincipalCache(ttl_s=60)
    cache.set_listening(True)
    generation = cache.generation
    cache.clear()  # a change was notified while the lookup ran
    cache.put(b"k", _who(600), generation)
    assert cache.get(b"k") is None
    cache.put(b"k", _who(600), cache.generation)
    assert cache.get(b"k") is not None


def test_the_cache_is_bounded_and_keyed_by_hashes():
    cache = PrincipalCache(ttl_s=60, max_entries=3)
    cache.set_listening(True)
    for k in range(5):
        cache.put(bytes([k]), _who(600), cache.generation)
    assert len(cache) == 3 and cache.get(bytes([0])) is None
    key = cache_key("token", "ggt_secret")
    assert b"ggt_secret" not in key and len(key) == 32
    assert cache_key("session", "ggt_secret") != key
