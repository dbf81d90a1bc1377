"""Who is asking, for every route: a bearer token (API clients, GIS tools, scripts; GIS
clients that only store a user and password may send it as HTTP Basic's password) or
the session cookie of a signed-in browser, checked on a short connection of its own (no
connection is held for the rest of the request). Routes declare what they need with
:func:`allow`; a cookie-authenticated request that changes anything must carry the
session's CSRF token in ``X-CSRF-Token``."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import anyio.to_thread
import sqlalchemy as sa
from fastapi import Depends, Query, Request
from psycopg import errors as pg_errors

from gridgis.gis.access.accounts import principal_for
from gridgis.gis.access.principal import Principal
from gridgis.gis.access.roles import Action
from gridgis.gis.errors import Forbidden, NotAuthenticated

from .deps import SettingsDep, StateDep
from .principals import cache_key

SESSION_COOKIE = "gridgis_session"
LOGIN_CSRF_COOKIE = "gridgis_login_csrf"  # the sign-in form's double-submit token
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PURPOSE_MAX_CHARS = 200


async def authenticate(request: Request, state: StateDep, settings: SettingsDep
                       ) -> Principal:
    """The principal of this request (computed once per request). A principal kept in
    memory answers in the event loop; only a lookup goes to a thread and the database."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    who: Principal | None
    if header is not None:
        secret = token_of(header)
        who = await _identify(state, secret, "token")
        if who is None:
            raise NotAuthenticated("the token is unknown, expired or revoked")
    elif SESSION_COOKIE in request.cookies:
        who = await _identify(state, request.cookies[SESSION_COOKIE], "session")
        if who is None:
            raise NotAuthenticated("your session has ended: sign in again")
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                request.headers.get(CSRF_HEADER, "").encode(), (who.csrf or "").encode()):
            raise Forbidden(f"a change from a signed-in browser needs the {CSRF_HEADER} "
                            "header with the session's token (GET /me gives it)",
                            field=CSRF_HEADER)
    else:
        who = Principal.anonymous(tuple(settings.auth.public_layers))
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or request.url.path
    who = who.with_request(client=request.client.host if request.client else None,
                           route=f"{request.method} {path}")
    request.state.principal = who
    return who


def token_of(header: str) -> str:
    """The token of an Authorization header: ``Bearer <token>``, or HTTP Basic with the
    token as the password (what desktop GIS clients can store, QGIS's Basic method among
    them; the user name is not used)."""
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise NotAuthenticated("the Basic credentials are not base64 of user:token"
                                   ) from None
        credentials = decoded.partition(":")[2].strip()
    elif scheme.lower() != "bearer":
        credentials = ""
    if not credentials:
        raise NotAuthenticated("send the token as 'Authorization: Bearer <token>' (or as "
                               "the password of HTTP Basic)")
    return credentials


async def _identify(state, secret: str, kind: str) -> Principal | None:
    if len(secret) > 200:  # no secret we issue is this long
        return None
    key = cache_key(kind, secret)
    known = state.principals.get(key)
    if known is not None:
        return known
    generation = state.principals.generation
    who = await anyio.to_thread.run_sync(_ask_database, state, secret, kind)
    if who is not None:
        state.principals.put(key, who, generation)
    return who


def _ask_database(state, secret: str, kind: str) -> Principal | None:
    with state.database.engine.connect() as conn:
        try:
            who = principal_for(conn, secret, kind=kind)
        except sa.exc.ProgrammingError as exc:
            if isinstance(exc.orig, pg_errors.UndefinedTable):
                state.catalog  # noqa: B018 - raises NotInitialised, which says what to do
            raise
        conn.commit()
    return who


def form_token() -> str:
    return secrets.token_urlsafe(24)


AnyoneDep = Annotated[Principal, Depends(authenticate)]


async def maybe_signed_in(request: Request, state: StateDep, settings: SettingsDep
                          ) -> Principal:
    """The principal if it can be known, else the anonymous public: for pages that work
    for everyone (the landing page), also while the database is away."""
    try:
        return await authenticate(request, state, settings)
    except (NotAuthenticated, Forbidden, sa.exc.OperationalError, sa.exc.InterfaceError,
            sa.exc.TimeoutError):
        return Principal.anonymous(tuple(settings.auth.public_layers))


MaybeSignedInDep = Annotated[Principal, Depends(maybe_signed_in)]


async def signed_in(who: AnyoneDep) -> Principal:
    if not who.signed_in:
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    return who


SignedInDep = Annotated[Principal, Depends(signed_in)]


def allow(resource: str, action: Action = "read"
          ) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the principal, if they may ``action`` the ``resource`` (see
    :func:`require_may`)."""
    async def dependency(request: Request) -> Principal:
        # authenticate called, not declared: one dependency to resolve instead of four,
        # on every request of every route
        app = request.app.state
        return require_may(await authenticate(request, app.gridgis, app.settings),
                           action, resource)
    dependency.__name__ = f"allow_{action}_{resource}"
    return dependency


def require_may(who: Principal, action: Action, resource: str) -> Principal:
    """``who``, if they may ``action`` the ``resource``: else 401 for the anonymous where
    it is not public, 403 for a signed-in user whose roles do not allow it."""
    if not who.may(action, resource):
        if not who.signed_in:
            raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
        who.require(action, resource)
    return who


def with_purpose(who: Principal, purpose: str | None) -> Principal:
    from dataclasses import replace

    return who if purpose is None else replace(who, purpose=purpose)


PurposeQuery = Annotated[str | None, Query(
    max_length=PURPOSE_MAX_CHARS,
    description="why you need the personal fields (police: shows them unmasked; the "
                "purpose is kept in the audit log)")]
