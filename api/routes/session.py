"""Signing in and out on the pages, and who the caller is (``/me``).

The sign-in form is protected against cross-site posting by a double-submit token (a
cookie and a hidden field that must agree); the session cookie is HttpOnly, SameSite=Lax
and Secure when the request came over HTTPS."""

from __future__ import annotations

import hmac
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from gridgis.gis.access import accounts
from gridgis.gis.access.audit import Entry, record
from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import Forbidden, NotAuthenticated, TooManyAttempts
from gridgis.gis.i18n import Lang
from gridgis.maps.session import sign_in_page

from ..auth import CSRF_HEADER, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SignedInDep, form_token
from ..compression import UNCOMPRESSED
from ..deps import SettingsDep, StateDep
from ..models.common import ERRORS, Me
from ..routing import StrictQueryRoute

router = APIRouter(tags=["session"], route_class=StrictQueryRoute, responses=ERRORS)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or any(ord(c) < 32 for c in value):
        return "/"
    return value


def _secure(request: Request, settings) -> bool:
    mode = settings.auth.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def _form(request: Request, settings, lang: Lang, next_url: str, *, status: int = 200,
          message: str | None = None, user_name: str = "",
          retry_after: int | None = None) -> HTMLResponse:
    csrf = form_token()
    response = HTMLResponse(sign_in_page(lang, csrf=csrf, next_url=next_url,
                                         message=message, user_name=user_name),
                            status_code=status, headers=UNCOMPRESSED)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                        secure=_secure(request, settings), path="/login")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridgis"'
    return response


LangQuery = Annotated[Lang | None, Query(description="zh or en")]


@router.get("/login", include_in_schema=False)
def sign_in_form(request: Request, settings: SettingsDep, lang: LangQuery = None,
                 next: Annotated[str | None, Query(max_length=2000)] = None) -> HTMLResponse:
    return _form(request, settings, lang or settings.api.lang, safe_next(next))


@router.post("/login", include_in_schema=False)
async def sign_in(request: Request, state: StateDep, settings: SettingsDep,
                  username: Annotated[str, Form(max_length=64)],
                  password: Annotated[str, Form(max_length=1000)],
                  csrf_token: Annotated[str, Form(max_length=100)] = "",
                  next: Annotated[str, Form(max_length=2000)] = "/",
                  lang: Annotated[Lang | None, Form()] = None) -> Response:
    lang = lang or settings.api.lang
    next_url = safe_next(next)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _form(request, settings, lang, next_url, status=403, user_name=username,
                     message="the form expired or came from another site: sign in again"
                     if lang == "en" else "表单已过期或来自其他网站，请重新登录。")
    client = request.client.host if request.client else "unknown"
    who = Principal.anonymous().with_request(client=client, route="POST /login")
    try:
        await anyio.to_thread.run_sync(state.sign_in_limiter.check, client)
        _user, secret, csrf = await anyio.to_thread.run_sync(
            accounts.sign_in, state.database.engine, username, password, who)
    except TooManyAttempts as exc:
        return _form(request, settings, lang, next_url, status=429, user_name=username,
                     message=exc.message, retry_after=exc.retry_after)
    except NotAuthenticated as exc:
        return _form(request, settings, lang, next_url, status=401, user_name=username,
                     message=exc.message if lang == "en" else "用户名或密码错误。")
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax",
                        secure=_secure(request, settings), path="/",
                        max_age=accounts.SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def sign_out(request: Request, state: StateDep,
             csrf_token: Annotated[str, Form(max_length=100)] = "",
             lang: Annotated[Lang | None, Form()] = None) -> Response:
    """Ends the browser session. A form sends the session's CSRF token as a field (a
    script may send the X-CSRF-Token header instead)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with state.database.engine.begin() as conn:
            who = accounts.principal_for(conn, secret, kind="session")
            sent = csrf_token or request.headers.get(CSRF_HEADER, "")
            if who is not None:
                if not hmac.compare_digest(sent.encode(), (who.csrf or "").encode()):
                    raise Forbidden("signing out needs the session's CSRF token",
                                    field="csrf_token")
                accounts.close_session(conn, secret)
                who = who.with_request(client=request.client.host if request.client
                                       else None, route="POST /logout")
                record(conn, who, Entry("sign_out", "users", record_ids=[who.user_id or 0]))
        state.principals.clear()  # now, not only when the database's notice arrives
    response = RedirectResponse(f"/login?lang={lang}" if lang else "/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", summary="Who you are signed in as", operation_id="me", response_model=Me,
            description="Your name, roles and scope; for a browser session, the CSRF token "
                        "its changes must send in X-CSRF-Token.")
def me(who: SignedInDep) -> JSONResponse:
    return JSONResponse(Me(
        name=who.name, roles=sorted(who.roles), scope=list(who.scope),
        grids=None if who.grid_ids is None else len(who.grid_ids),
        credential="session" if who.credential == "session" else "token",
        csrf_token=who.csrf if who.credential == "session" else None).model_dump())
