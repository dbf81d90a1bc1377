"""The application factory: ``uvicorn gridgis.api.app:create_app --factory``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from gridgis import __version__
from gridgis.gis.access.accounts import ACCESS_CHANNEL
from gridgis.gis.db import Database, current_srid, ensure_roles, migrate, open_database
from gridgis.gis.grid_index import GRIDS_CHANNEL
from gridgis.gis.notifications import DATA_CHANNEL, ChangeListener
from gridgis.gis.resources import RESOURCES
from gridgis.gis.services.hotspots import warm_worker
from gridgis.gis.transactions import forget_old_tokens
from gridgis.maps import assets

from . import errors
from .compression import GZIP_LEVEL, GZIP_MIN_BYTES
from .logs import hide_query_strings
from .middleware import BodySizeLimit, HeadAsGet, TrustedHosts
from .models.common import Problem
from .routes import (
    audit,
    blindspots,
    docs,
    feature_edits,
    feature_tiles,
    features,
    grids,
    health,
    hotspots,
    maps,
    patrols,
    plan_edits,
    plans,
    resources,
    routes,
    session,
    stats,
)
from .settings import Settings
from .state import AppState

log = logging.getLogger("gridgis.api")
TOKEN_HOUSEKEEPING_S = 15 * 60


def create_app(settings: Settings | None = None, *, database: Database | None = None
               ) -> FastAPI:
    """Build the service. ``database`` (tests) replaces opening one from the settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            owner = database or stack.enter_context(open_database(settings.db, pool_size=2))
            with owner.engine.connect() as conn:
                initialised = current_srid(conn) is not None
            if initialised or settings.db.srid:
                migrate(owner.engine, settings.db.srid if not initialised else None)
            # Requests are served as the service's own role, never as the owner.
            ensure_roles(owner.engine)
            if database is None:  # its connections are not needed again
                owner.engine.dispose()
            db = owner.for_service(settings.api.db_pool_size, settings.api.db_max_overflow)
            stack.callback(db.engine.dispose)
            reads = db.replica_reads(settings.db, settings.api.db_pool_size,
                                     settings.api.db_max_overflow)
            if reads.replica is not None:
                stack.callback(reads.replica.dispose)
                reads.check()
            state = app.state.gridgis = AppState(db, settings.api, settings.auth, reads)
            # What is kept in memory is kept only while every change can be heard.
            def listening(on: bool) -> None:
                state.principals.set_listening(on)
                state.grid_lookup.set_listening(on)
                state.heard_changes.set_listening(on)

            listener = ChangeListener(db.listen_connection,
                                      {ACCESS_CHANNEL: lambda _: state.principals.clear(),
                                       GRIDS_CHANNEL: lambda _: state.grid_lookup.changed(),
                                       DATA_CHANNEL: state.heard_changes.changed},
                                      listening).start()
            stack.callback(listener.close)
            if initialised or settings.db.srid:
                app.state.gridgis.reflect()  # now, before requests share the pool
            absent = assets.missing(settings.assets.assets_dir)
            if absent:
                log.warning("map libraries missing from %s: map pages answer 503 until "
                            "`%s` is run", settings.assets.assets_dir, assets.FETCH_COMMAND)
            # The analysis workers take seconds to start and import their libraries: start
            # them now, so that the first hotspot request does not wait for them.
            if settings.api.analytics_warm:
                app.state.gridgis.runner.warm(warm_worker)
            housekeeping = asyncio.create_task(_forget_commit_tokens(db))
            yield
            housekeeping.cancel()
            app.state.gridgis.runner.close()

    app = FastAPI(title="gridgis", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  # operation ids a generated client names its functions by: the
                  # handler's name (resource routes set theirs, list_incidents and so on)
                  generate_unique_id_function=lambda route: route.name,
                  description="Grid-management GIS: grids, people, places, things and "
                              "incidents (网格化管理：人、地、物、事). Repeated query "
                              "parameters may be repeated or given as a comma-separated "
                              "list; an unknown parameter or value is a 422 naming it.")
    app.state.settings = settings
    hide_query_strings()
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    errors.register(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.add_middleware(TrustedHosts, hosts=settings.api.allowed_hosts)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    app.mount(assets.VENDOR_URL, VendorFiles(settings.assets.assets_dir), name="vendor")
    app.include_router(health.router)
    app.include_router(grids.router)  # first: /grids/at is what is asked most
    app.include_router(docs.router)
    app.include_router(session.router)
    app.include_router(audit.router)
    app.include_router(maps.router)
    app.include_router(plans.router)
    app.include_router(plan_edits.router)
    app.include_router(stats.router)
    app.include_router(hotspots.router)
    app.include_router(blindspots.router)
    app.include_router(routes.router)
    app.include_router(patrols.router)
    app.include_router(features.router)
    app.include_router(feature_edits.router)
    app.include_router(feature_tiles.router)
    for spec in RESOURCES.values():
        app.include_router(resources.resource_router(spec))
    return app


class VendorFiles(StaticFiles):
    """The vendored map libraries. Until they are all there, a request for one is the
    503 that names the command fetching them (Starlette would answer a bare 500)."""

    def __init__(self, root: Path) -> None:
        super().__init__(directory=root, check_dir=False)
        self.root = root

    async def check_config(self) -> None:
        assets.require(self.root)
        await super().check_config()


async def _forget_commit_tokens(db: Database) -> None:
    """Every quarter of an hour, drop the commit tokens no one will ask about again."""
    while True:
        await asyncio.sleep(TOKEN_HOUSEKEEPING_S)
        try:
            await anyio.to_thread.run_sync(forget_old_tokens, db.engine)
        except Exception as exc:  # the database may be away; try again next time
            log.warning("could not forget old commit tokens: %s", type(exc).__name__)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the problem-details schema every error response names."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = \
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        app.openapi_schema = schema
    return app.openapi_schema


