"""The application factory: ``uvicorn gridgis.api.app:create_app --factory``."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridgis.gis.db import Database, current_srid, migrate, open_database
from gridgis.gis.errors import NotInitialised
from gridgis.gis.resources import RESOURCES, Catalog
from gridgis.maps.assets import STATIC_DIR

from . import errors
from .errors import problem
from .routes import docs, grids, hotspots, maps, plans, resources, stats
from .settings import Settings

log = logging.getLogger("gridgis.api")


def create_app(settings: Settings | None = None, *, database: Database | None = None
               ) -> FastAPI:
    """Build the service. ``database`` (tests) replaces opening one from the settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            db = database or stack.enter_context(open_database(settings.db, pool_size=8))
            with db.engine.connect() as conn:
                initialised = current_srid(conn) is not None
            if initialised or settings.db.srid:
                migrate(db.engine, settings.db.srid if not initialised else None)
            app.state.database = db
            # The analytics libraries take seconds to import; load them in the background
            # so the first hotspot request does not wait for them.
            threading.Thread(target=_warm_imports, name="gridgis-warm-up", daemon=True).start()
            yield
            app.state.catalog_cache = None

    app = FastAPI(title="gridgis", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Grid-management GIS: grids, people, places, things and "
                              "incidents (网格化管理：人、地、物、事).")
    app.state.settings = settings
    app.state.catalog_cache = None

    def catalog() -> Catalog:
        if app.state.catalog_cache is None:
            db: Database = app.state.database
            with db.engine.connect() as conn:
                srid = current_srid(conn)
            if srid is None:
                raise NotInitialised("the database has no gridgis schema yet: run "
                                     "`gridgis demo` or `gridgis init`, then import data")
            app.state.catalog_cache = Catalog(db.engine, srid)
        return app.state.catalog_cache

    app.state.catalog = catalog
    errors.register(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(docs.router)
    app.include_router(maps.router)
    app.include_router(grids.router)  # before the generic /grids/{id}
    app.include_router(plans.router)
    app.include_router(stats.router)
    app.include_router(hotspots.router)
    for spec in RESOURCES.values():
        app.include_router(resources.resource_router(spec))
    return app


def _warm_imports() -> None:
    import esda  # noqa: F401
    import libpysal.weights  # noqa: F401
    import pymannkendall  # noqa: F401
    import scipy.spatial  # noqa: F401


class BodySizeLimit:
    """413 for a body over the limit, whether it declares its length or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # Read the body up to the limit before the app sees it: a streamed body without a
        # length can only be judged by reading it, and the app would turn an error raised
        # mid-parse into a generic 400.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks),
                                        "more_body": False}], receive), send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "Request body too large",
                           f"the body is larger than {self.max_bytes:,} bytes; split the "
                           "upload or use `gridgis import` for large files")
        await response(scope, receive, send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
