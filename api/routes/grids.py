"""Grid endpoints every grid worker and dispatcher needs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gridgis.gis import stats
from gridgis.gis.access.aggregates import withhold_small
from gridgis.gis.access.audit import Entry, record
from gridgis.gis.access.principal import Principal
from gridgis.gis.db import require_id
from gridgis.gis.errors import InvalidInput, NotFound
from gridgis.gis.times import parse_instant
from gridgis.gis.transactions import unit_of_work

from ..auth import allow
from ..deps import CategoriesDep, ConnDep, ReadConnDep, SettingsDep, TimeRangeDep
from ..models.analytics import Assignment, GridAt, GridSummary, GridWorker
from ..models.common import ERRORS
from ..routing import StrictQueryRoute
from ..settings import Settings
from ..state import AppState

router = APIRouter(prefix="/grids", tags=["grids"], route_class=StrictQueryRoute,
                   responses=ERRORS)


@router.get("/at", summary="Which grid a location is in", response_model=GridAt,
            description="The published grid containing lon/lat (WGS84), with its community, "
                        "subdistrict, district and responsible workers; with `date`, the "
                        "grid of the plan that was published then (and its period). 404 if "
                        "the location is outside every grid, or no plan was published then.")
async def grid_at(request: Request, _who: Annotated[Principal, Depends(allow("grids"))],
                  lon: Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude")],
                  lat: Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude")],
                  date: Annotated[str | None, Query(
                      max_length=40, description="ISO 8601 date or date-time (UTC unless "
                                                 "it has an offset): the plan published "
                                                 "then")] = None
                  ) -> Response:
    # The route asked most (every grid worker's phone, every patrol car): the published
    # grids are looked up in memory, without a thread or a connection, whenever the
    # index is current.
    state: AppState = request.app.state.gridgis
    settings: Settings = request.app.state.settings
    at = parse_instant(date, "date")
    index = state.grid_lookup.current() if at is None else None
    if index is not None:
        stats.check_location(index.srid, lon, lat)
        found = index.at(lon, lat)
        if found is None:
            raise stats.outside_every_grid(lon, lat)
        return Response(found, media_type="application/json")
    return JSONResponse(jsonable_encoder(await run_in_threadpool(
        _grid_at_in_database, state, settings, lon, lat, at)))


def _grid_at_in_database(state: AppState, settings: Settings, lon: float, lat: float,
                         at: datetime | None) -> dict:
    with state.database.engine.connect() as conn, unit_of_work(
            conn, settings.api.commit_outcome_wait_s, reading=True):
        return stats.grid_at(conn, state.srid, lon, lat, at)


@router.get("/{grid_id:int}/summary", summary="What a grid holds", response_model=GridSummary)
def grid_summary(grid_id: int, who: Annotated[Principal, Depends(allow("stats"))],
                 conn: ReadConnDep, settings: SettingsDep, time_range: TimeRangeDep,
                 categories: CategoriesDep) -> JSONResponse:
    if who.grid_ids is not None and grid_id not in who.grid_ids:
        raise NotFound(f"no grid with id {grid_id}")
    summary = stats.grid_summary(conn, grid_id, time_range.start, time_range.end, categories)
    return JSONResponse(jsonable_encoder(withhold_small(summary, who,
                                                        settings.auth.min_count)))


@router.put("/{grid_id:int}/workers", summary="Set the workers responsible for a grid",
            response_model=list[GridWorker],
            description="Replaces the grid's assignments; answers the grid's active workers.")
def set_workers(grid_id: int, who: Annotated[Principal, Depends(allow("assignments", "write"))],
                conn: ConnDep,
                assignments: Annotated[list[Assignment], Body()]) -> JSONResponse:
    require_id(grid_id, "grid")
    if conn.execute(sa.text("SELECT 1 FROM grids WHERE id = :g"), {"g": grid_id}).first() is None:
        raise NotFound(f"no grid with id {grid_id}")
    ids = [a.worker_id for a in assignments]
    known = set(conn.execute(sa.text("SELECT id FROM workers WHERE id = ANY(:ids)"),
                             {"ids": ids}).scalars())
    for i, a in enumerate(assignments):
        if a.worker_id not in known:
            raise InvalidInput(f"item {i}: no worker with id {a.worker_id}",
                               field=f"{i}.worker_id")
    before = stats.workers_of(conn, grid_id)
    conn.execute(sa.text("DELETE FROM grid_assignments WHERE grid_id = :g"), {"g": grid_id})
    for a in assignments:
        conn.execute(sa.text("INSERT INTO grid_assignments (worker_id, grid_id, role) "
                             "VALUES (:w, :g, :r) ON CONFLICT (worker_id, grid_id) "
                             "DO UPDATE SET role = EXCLUDED.role"),
                     {"w": a.worker_id, "g": grid_id, "r": a.role})
    after = stats.workers_of(conn, grid_id)
    record(conn, who, Entry("assign", "grids", record_ids=[grid_id],
                            before={"workers": before}, after={"workers": after}))
    return JSONResponse(jsonable_encoder(after))
