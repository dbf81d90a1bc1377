"""Accounts: users with roles and scope, their passwords (argon2), and the secrets that
stand for a signed-in user: browser sessions and API tokens, stored only as SHA-256
hashes. Signing in is rate-limited per account: after ``MAX_FAILED`` wrong passwords in
a row the account is locked for ``LOCK_MINUTES``."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import InvalidInput, NotAuthenticated, NotFound, TooManyAttempts
from . import audit
from .principal import Principal
from .roles import SCOPED_ROLES, check_roles

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_CHARS = 10
MAX_FAILED = 5
LOCK_MINUTES = 15
SESSION_HOURS = 12
SESSION_IDLE_MINUTES = 120
TOUCH_EVERY_MINUTES = 5  # last_used_at is written at most this often
# NOTIFY channel of every change to who may see what (migration 0009)
ACCESS_CHANNEL = "gridgis_access"
TOKEN_PREFIX = "ggt_"
_hasher = PasswordHasher()
# Verified when the account does not exist, so that a wrong name takes as long as a
# wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    id: int
    name: str
    display_name: str | None
    roles: tuple[str, ...]
    scope: tuple[str, ...]
    disabled: bool
    locked_until: datetime | None
    created_at: datetime


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_CHARS} characters",
                           field="password")
    return password


def _user(row) -> User:
    return User(row.id, row.name, row.display_name, tuple(row.roles), tuple(row.scope),
                row.disabled, row.locked_until, row.created_at)


def get_user(conn: sa.Connection, name: str) -> User:
    row = conn.execute(sa.text(
        "SELECT id, name, display_name, roles, scope, disabled, locked_until, created_at "
        "FROM app_users WHERE name = :n"), {"n": name}).first()
    if row is None:
        raise NotFound(f"no user named {name!r}", field="NAME")
    return _user(row)


def list_users(conn: sa.Connection) -> list[User]:
    return [_user(r) for r in conn.execute(sa.text(
        "SELECT id, name, display_name, roles, scope, disabled, locked_until, created_at "
        "FROM app_users ORDER BY name"))]


def check_scope(conn: sa.Connection, roles: tuple[str, ...], scope: list[str]) -> list[str]:
    """Scope codes must name areas or grids of the published plan; grid workers and
    patrol leaders need one."""
    scope = list(dict.fromkeys(c.strip() for c in scope if c.strip()))
    needs = [r for r in roles if r in SCOPED_ROLES]
    if needs and not scope:
        raise InvalidInput(f"a {needs[0].replace('_', ' ')} needs a scope: give the codes "
                           "of their grids, community, subdistrict or district", field="scope")
    known = set(conn.execute(sa.text(
        "SELECT code FROM areas WHERE code = ANY(:c) "
        "UNION SELECT code FROM published_grids WHERE code = ANY(:c)"), {"c": scope}).scalars())
    unknown = [c for c in scope if c not in known]
    if unknown:
        raise InvalidInput(f"scope {unknown[0]!r} names no area or grid of the published "
                           "plan", field="scope")
    return scope


def add_user(conn: sa.Connection, name: str, roles: list[str], scope: list[str] | None = None,
             password: str | None = None, display_name: str | None = None) -> User:
    if not NAME_PATTERN.match(name):
        raise InvalidInput("a user name is 1-64 letters, digits and _ . @ -, starting "
                           "with a letter or digit", field="NAME")
    try:
        checked = check_roles(roles)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="role") from exc
    codes = check_scope(conn, checked, list(scope or ()))
    if conn.execute(sa.text("SELECT 1 FROM app_users WHERE name = :n"), {"n": name}).first():
        raise InvalidInput(f"a user named {name!r} exists", field="NAME")
    conn.execute(sa.text(
        "INSERT INTO app_users (name, display_name, roles, scope, password_hash, "
        "password_changed_at) VALUES (:n, :d, :r, :s, CAST(:h AS text), "
        "CASE WHEN CAST(:h AS text) IS NULL THEN NULL ELSE now() END)"),
        {"n": name, "d": display_name, "r": list(checked), "s": codes,
         "h": None if password is None else _hasher.hash(check_password(password))})
    return get_user(conn, name)


def update_user(conn: sa.Connection, name: str, *, roles: list[str] | None = None,
                scope: list[str] | None = None) -> User:
    user = get_user(conn, name)
    try:
        checked = check_roles(roles) if roles is not None else user.roles
    except ValueError as exc:
        raise InvalidInput(str(exc), field="role") from exc
    codes = check_scope(conn, checked, list(scope if scope is not None else user.scope))
    conn.execute(sa.text("UPDATE app_users SET roles = :r, scope = :s WHERE id = :i"),
                 {"r": list(checked), "s": codes, "i": user.id})
    return get_user(conn, name)


def set_password(conn: sa.Connection, name: str, password: str) -> None:
    """A new password; the user's browser sessions end (their tokens stay)."""
    user = get_user(conn, name)
    conn.execute(sa.text(
        "UPDATE app_users SET password_hash = :h, password_changed_at = now(), "
        "failed_logins = 0, locked_until = NULL WHERE id = :i"),
        {"h": _hasher.hash(check_password(password)), "i": user.id})
    _revoke_all(conn, user.id, "session")


def set_disabled(conn: sa.Connection, name: str, disabled: bool = True) -> None:
    """A disabled user cannot sign in, and their sessions and tokens stop working."""
    user = get_user(conn, name)
    conn.execute(sa.text("UPDATE app_users SET disabled = :d WHERE id = :i"),
                 {"d": disabled, "i": user.id})
    if disabled:
        _revoke_all(conn, user.id, None)


def _revoke_all(conn: sa.Connection, user_id: int, kind: str | None) -> None:
    conn.execute(sa.text(
        "UPDATE app_credentials SET revoked_at = now() WHERE user_id = :u "
        "AND revoked_at IS NULL AND (CAST(:k AS text) IS NULL OR kind = :k)"),
        {"u": user_id, "k": kind})


# -- signing in ---------------------------------------------------------------------------

def sign_in(engine: sa.Engine, name: str, password: str, who: Principal
            ) -> tuple[User, str, str]:
    """Check a password and open a session: (the user, the session's secret, its CSRF
    token). NotAuthenticated for a wrong name or password (one message for both, and as
    slow), TooManyAttempts while the account is locked. The outcome, failures counted,
    is committed and audited before this returns; the password is checked with no
    connection held."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT id, name, display_name, roles, scope, disabled, locked_until, "
            "created_at, password_hash, "
            "greatest(0, ceil(extract(epoch FROM locked_until - now())))::int AS locked_s "
            "FROM app_users WHERE name = :n"), {"n": name}).first()
    if row is not None and row.locked_s > 0 and not row.disabled:
        _failed(engine, who, name, None, "locked")
        raise TooManyAttempts(f"too many wrong passwords: the account is locked for "
                              f"{row.locked_s} more seconds", retry_after=row.locked_s)
    if row is None or row.password_hash is None or row.disabled:
        _verify(_DUMMY_HASH, password)  # as slow as a wrong password
        _failed(engine, who, name, None, "wrong name or password")
        raise NotAuthenticated("wrong user name or password")
    if not _verify(row.password_hash, password):
        _failed(engine, who, name, row.id, "wrong name or password")
        raise NotAuthenticated("wrong user name or password")
    rehash = _hasher.check_needs_rehash(row.password_hash)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE app_users SET failed_logins = 0, locked_until = NULL, "
            "password_hash = coalesce(:h, password_hash) WHERE id = :i"),
            {"h": _hasher.hash(password) if rehash else None, "i": row.id})
        secret, csrf = open_session(conn, row.id)
        audit.record(conn, who, audit.Entry("sign_in", "users", record_ids=[row.id]),
                     user_name=name)
    return _user(row), secret, csrf


def _failed(engine: sa.Engine, who: Principal, name: str, user_id: int | None,
            reason: str) -> None:
    with engine.begin() as conn:
        if user_id is not None:
            conn.execute(sa.text(
                # after a lock has run out, counting starts again
                "UPDATE app_users SET failed_logins = (CASE WHEN locked_until <= now() "
                "THEN 0 ELSE failed_logins END) + 1, locked_until = CASE WHEN (CASE WHEN "
                "locked_until <= now() THEN 0 ELSE failed_logins END) + 1 >= :max "
                "THEN now() + make_interval(mins => :lock) END WHERE id = :i"),
                {"max": MAX_FAILED, "lock": LOCK_MINUTES, "i": user_id})
        audit.record(conn, who, audit.Entry("sign_in_failed", "users", detail=reason),
                     user_name=name[:64])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(conn: sa.Connection, user_id: int) -> tuple[str, str]:
    """A new browser session: (the cookie's secret, its CSRF token)."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(sa.text(
        "INSERT INTO app_credentials (user_id, kind, secret_hash, csrf, expires_at, "
        "last_used_at) VALUES (:u, 'session', :h, :c, now() + make_interval(hours => :hrs), "
        "now())"), {"u": user_id, "h": hash_secret(secret), "c": csrf, "hrs": SESSION_HOURS})
    return secret, csrf


def close_session(conn: sa.Connection, secret: str) -> None:
    conn.execute(sa.text("UPDATE app_credentials SET revoked_at = now() "
                         "WHERE secret_hash = :h AND kind = 'session'"),
                 {"h": hash_secret(secret)})


def create_token(conn: sa.Connection, name: str, label: str | None = None,
                 days: int = 90) -> tuple[int, str]:
    """A new API token for the user: (its id, the secret, shown once)."""
    if not 1 <= days <= 3660:
        raise InvalidInput("a token lasts 1 to 3660 days", field="--days")
    user = get_user(conn, name)
    if user.disabled:  # it would not work now, yet would once the user is enabled
        raise InvalidInput(f"{name} is disabled: enable them first (`gridgis users enable "
                           f"{name}`)", field="NAME")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(sa.text(
        "INSERT INTO app_credentials (user_id, kind, secret_hash, label, expires_at) "
        "VALUES (:u, 'token', :h, :l, now() + make_interval(days => :d)) RETURNING id"),
        {"u": user.id, "h": hash_secret(secret), "l": label, "d": days}).scalar_one()
    return token_id, secret


def list_tokens(conn: sa.Connection, name: str) -> list[dict]:
    user = get_user(conn, name)
    return [dict(r._mapping) for r in conn.execute(sa.text(
        "SELECT id, label, created_at, expires_at, last_used_at, revoked_at, "
        "revoked_at IS NULL AND expires_at > now() AS valid "
        "FROM app_credentials WHERE user_id = :u AND kind = 'token' ORDER BY id"),
        {"u": user.id})]


def revoke_token(conn: sa.Connection, name: str, token_id: int) -> None:
    user = get_user(conn, name)
    done = conn.execute(sa.text(
        "UPDATE app_credentials SET revoked_at = coalesce(revoked_at, now()) "
        "WHERE id = :t AND user_id = :u AND kind = 'token' RETURNING id"),
        {"t": token_id, "u": user.id}).first()
    if done is None:
        raise NotFound(f"{name} has no token {token_id}", field="--revoke")


PRINCIPAL_SQL = sa.text("""
    SELECT u.id, u.name, u.roles, u.scope, c.id AS credential_id, c.kind, c.csrf,
           c.expires_at,
           CASE WHEN cardinality(u.scope) > 0 OR u.roles && :scoped
                THEN gridgis_scope_grids(u.scope) END AS grid_ids,
           c.last_used_at IS NULL
               OR c.last_used_at < now() - make_interval(mins => :touch) AS stale
    FROM app_credentials c JOIN app_users u ON u.id = c.user_id
    WHERE c.secret_hash = :h AND c.revoked_at IS NULL AND c.expires_at > now()
      AND NOT u.disabled
      AND (c.kind = 'token' OR c.last_used_at > now() - make_interval(mins => :idle))""")


def principal_for(conn: sa.Connection, secret: str, *, kind: str) -> Principal | None:
    """The user a session cookie or bearer token stands for, or None if it stands for no
    one (unknown, expired, revoked, or its user disabled)."""
    row = conn.execute(PRINCIPAL_SQL, {"h": hash_secret(secret), "scoped": list(SCOPED_ROLES),
                                       "touch": TOUCH_EVERY_MINUTES,
                                       "idle": SESSION_IDLE_MINUTES}).first()
    if row is None or row.kind != kind:
        return None
    if row.stale:
        conn.execute(sa.text("UPDATE app_credentials SET last_used_at = now() WHERE id = :i"),
                     {"i": row.credential_id})
    return Principal(row.name, frozenset(row.roles), user_id=row.id, scope=tuple(row.scope),
                     grid_ids=None if row.grid_ids is None else frozenset(row.grid_ids),
                     credential=kind, csrf=row.csrf, expires_at=row.expires_at)
