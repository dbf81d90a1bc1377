"""Errors as ``application/problem+json`` (RFC 9457), registered once on the app."""

from __future__ import annotations

import logging
import re
import traceback

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from psycopg import errors as pg_errors
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridgis.gis.errors import (
    Busy,
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    GridGisError,
    ImportRejected,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotInitialised,
    TooManyAttempts,
)
from gridgis.gis.i18n import Lang

from .compression import UNCOMPRESSED
from .models.common import FEATURE_TAG, FIELDS_TAG

log = logging.getLogger("gridgis.api")

class BadRequest(InvalidInput):
    """Invalid input where the standard a route implements asks for 400 (OGC API)."""


STATUS: list[tuple[type[GridGisError], int, str]] = [
    (BadRequest, 400, "Bad request"),
    (ImportRejected, 422, "Rows rejected"),
    (InvalidInput, 422, "Invalid input"),
    (NotAuthenticated, 401, "Sign-in required"),
    (Forbidden, 403, "Forbidden"),
    (TooManyAttempts, 429, "Too many attempts"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (Busy, 503, "Busy"),
    (NotInitialised, 503, "Database not initialised"),
    (DatabaseUnavailable, 503, "Database unavailable"),
    (ConfigurationError, 503, "Service misconfigured"),
]


class PreconditionRequired(GridGisError):
    pass


class PreconditionFailed(GridGisError):
    """If-Match names a version the resource is no longer at (OGC API Part 4)."""


class MethodNotAllowed(GridGisError):
    """A method the resource does not take here; ``allow`` lists those it takes."""

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


STATUS += [(PreconditionRequired, 428, "Version required"),
           (PreconditionFailed, 412, "Precondition failed"),
           (MethodNotAllowed, 405, "Method not allowed")]
RETRY_AFTER_S = 5
_LOCATIONS = ("body", "query", "path", "header", "cookie")


def problem(status: int, title: str, detail: str, *, retry_after: int | None = None,
            **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json",
                        headers=headers)


def log_without_values(request: Request, exc: BaseException) -> None:
    """Log an unexpected error by where it happened (type, SQLSTATE, the frames of its
    traceback) and never by its message: messages carry the values sent, and those may
    be residents' personal data."""
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s%s on %s %s\n%s", type(exc).__name__,
              f" (SQLSTATE {state})" if state else "", request.method, request.url.path,
              frames)


def allowed_methods(request: Request) -> list[str]:
    """Every method the service answers on the request's path (Starlette's own 405 names
    only the first route the path matched), from the routes the OpenAPI document lists."""
    methods: set[str] = set()
    for path, item in request.app.openapi()["paths"].items():
        # every path parameter of this API is an id (its route converts it to int)
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[0-9]+", re.escape(path)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in item}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def field_name(location: tuple | list) -> str:
    """The parameter or field a validation error is about: without where it came from
    (body, query…), the body-shape tags and a Feature's ``properties`` level."""
    parts = [str(p) for p in location]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    parts = [p for p in parts if p not in (FEATURE_TAG, FIELDS_TAG)]
    if len(parts) > 1 and parts[0] == "properties":
        parts = parts[1:]
    if parts[:1] == ["geometry"]:  # the rest names GeoJSON internals; the message says it
        return "geometry"
    return ".".join(parts)


def register(app: FastAPI) -> None:
    @app.exception_handler(GridGisError)
    async def domain_error(request: Request, exc: GridGisError) -> JSONResponse:
        if isinstance(exc, NotAuthenticated) and wants_page(request):
            return sign_in_required(request, exc.message)
        for cls, status, title in STATUS:
            if isinstance(exc, cls):
                retry = exc.retry_after if isinstance(exc, Busy | TooManyAttempts) else \
                    RETRY_AFTER_S if isinstance(exc, DatabaseUnavailable) else None
                response = problem(status, title, exc.message, retry_after=retry,
                                   **_jsonable(exc.details))
                if status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="gridgis"'
                if isinstance(exc, MethodNotAllowed):
                    response.headers["Allow"] = exc.allow
                return response
        return problem(500, "Error", exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": field_name(e.get("loc", ())), "message": e.get("msg", ""),
                   "where": ".".join(str(p) for p in e.get("loc", ()))}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": None, "message": "invalid request",
                                          "where": ""}
        return problem(422, "Invalid input", f"{first['where']}: {first['message']}",
                       field=first["field"], errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response = problem(exc.status_code, detail, detail)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(sa.exc.TimeoutError)
    async def pool_exhausted(request: Request, exc: sa.exc.TimeoutError) -> JSONResponse:
        log.warning("no database connection free: %s", type(exc).__name__)
        return problem(503, "Service busy", "every database connection is in use; try "
                       "again shortly", retry_after=RETRY_AFTER_S)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log_without_values(request, exc)
        return problem(500, "Internal error", "an unexpected error happened; it was logged")

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(sa.exc.InterfaceError)
    async def database_down(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        if isinstance(exc.orig, pg_errors.SerializationFailure):  # e.g. a row moved away
            return problem(409, "Conflict", "the row was changed by another request at the "
                           "same moment; reload it and try again")
        if isinstance(exc.orig, pg_errors.QueryCanceled):
            return problem(503, "Query took too long",
                           "the request ran into the statement timeout; narrow it (a smaller "
                           "bbox, time range or page) and try again")
        log.warning("database unavailable: %s", exc.orig)
        return problem(503, "Database unavailable",
                       "the database cannot be reached right now; try again shortly",
                       retry_after=RETRY_AFTER_S)

    @app.exception_handler(sa.exc.DBAPIError)
    async def database_error(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        if isinstance(exc.orig, pg_errors.QueryCanceled):
            return await database_down(request, exc)
        if isinstance(exc.orig, pg_errors.DataError):
            return problem(422, "Invalid input", f"the database rejected a value: "
                           f"{getattr(exc.orig.diag, 'message_primary', exc.orig)}")
        log_without_values(request, exc)
        return problem(500, "Internal error", "an unexpected database error happened")


def wants_page(request: Request) -> bool:
    """A browser asking for a page (it gets the sign-in form rather than JSON)."""
    return request.method in ("GET", "HEAD") and "text/html" in \
        request.headers.get("accept", "") and not request.url.path.startswith("/vendor/")


def sign_in_required(request: Request, message: str):
    """The sign-in form, as the 401 answer to a page, coming back here afterwards."""
    from gridgis.maps.session import sign_in_page

    from .auth import LOGIN_CSRF_COOKIE, form_token

    asked = request.query_params.get("lang")
    lang: Lang = "en" if asked == "en" else "zh" if asked == "zh" else \
        request.app.state.settings.api.lang
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    csrf = form_token()
    response = HTMLResponse(sign_in_page(lang, csrf=csrf, next_url=target), status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="gridgis"',
                                     **UNCOMPRESSED})
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                        path="/login")
    return response


def _jsonable(details: dict) -> dict:
    return {k: v for k, v in details.items() if isinstance(v, str | int | float | list | dict)}
