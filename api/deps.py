"""What handlers need, as ``Annotated`` dependencies."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Header, Query, Request, Response

from gridgis.gis import taxonomy
from gridgis.gis.errors import InvalidInput
from gridgis.gis.resources import Catalog
from gridgis.gis.services.blindspots import BlindSpotService
from gridgis.gis.services.hotspots import HotspotService
from gridgis.gis.services.plan_reports import PlanReports
from gridgis.gis.times import parse_instant
from gridgis.gis.transactions import unit_of_work
from gridgis.gis.versions import DATA_TABLES
from gridgis.maps import assets

from .errors import PreconditionRequired
from .lane import AnalyticsLane
from .settings import Settings
from .state import AppState

EARTH_RADIUS_M = 6_371_007.2  # authalic: a sphere with the ellipsoid's area
REPEATABLE = "repeat the parameter or give a comma-separated list"


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_state(request: Request) -> AppState:
    return request.app.state.gridgis


SettingsDep = Annotated[Settings, Depends(get_settings)]
StateDep = Annotated[AppState, Depends(get_state)]


def get_connection(request: Request, state: StateDep, settings: SettingsDep
                   ) -> Iterator[sa.Connection]:
    """A connection in a transaction, committed when the handler returns normally and
    before the response is sent (the dependency's scope is the handler: see ConnDep), so
    that no write is acknowledged that is not committed. GET and HEAD routes change no
    data (what they write is the audit entry of what they read)."""
    with state.database.engine.connect() as conn:
        with unit_of_work(conn, settings.api.commit_outcome_wait_s,
                          reading=request.method in ("GET", "HEAD")):
            yield conn


def get_read_connection(state: StateDep) -> Iterator[sa.Connection]:
    """A connection for a route that only reads and writes nothing, not even an audit
    entry: from the replica when there is one, once it has caught up with the primary
    (:mod:`gridgis.gis.replica`)."""
    with state.reads.connect() as conn, conn.begin():
        yield conn


def get_catalog(state: StateDep) -> Catalog:
    return state.catalog


def get_hotspots(state: StateDep) -> HotspotService:
    return state.hotspots


def get_blindspots(state: StateDep) -> BlindSpotService:
    return state.blindspots


def get_plan_reports(state: StateDep) -> PlanReports:
    return state.plan_reports


async def get_lane(state: StateDep) -> AnalyticsLane:
    return state.lane


Keep = Callable[..., Awaitable[Response]]


async def get_keep(request: Request, state: StateDep) -> Keep:
    """``keep(make[, tables])``: the answer ``make`` gives, kept per version of the
    tables it is made from (by default every data table) and reader's view
    (:mod:`.kept`)."""
    return lambda make, tables=DATA_TABLES: state.answers.answer(request, make, tables)


async def require_assets(settings: SettingsDep) -> None:
    """Pages and the API docs need the vendored map libraries."""
    assets.require(settings.assets.assets_dir)


ConnDep = Annotated[sa.Connection, Depends(get_connection, scope="function")]
ReadConnDep = Annotated[sa.Connection, Depends(get_read_connection, scope="function")]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
HotspotsDep = Annotated[HotspotService, Depends(get_hotspots)]
BlindSpotsDep = Annotated[BlindSpotService, Depends(get_blindspots)]
LaneDep = Annotated[AnalyticsLane, Depends(get_lane)]
PlanReportsDep = Annotated[PlanReports, Depends(get_plan_reports)]
AssetsDep = Annotated[None, Depends(require_assets)]
KeepDep = Annotated[Keep, Depends(get_keep)]


class Paging:
    def __init__(self, settings: SettingsDep,
                 limit: Annotated[int | None, Query(ge=1, description="page size")] = None,
                 offset: Annotated[int, Query(ge=0, description="rows to skip")] = 0) -> None:
        maximum = settings.api.max_limit
        if limit is not None and limit > maximum:
            raise InvalidInput(f"limit {limit} is above the maximum page size {maximum}",
                               field="limit")
        self.limit = limit or settings.api.default_limit
        self.offset = offset


PagingDep = Annotated[Paging, Depends()]


def parse_bbox(settings: SettingsDep,
               bbox: Annotated[str | None, Query(
                   description="minLon,minLat,maxLon,maxLat in WGS84")] = None,
               ) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        parts = tuple(float(p) for p in bbox.split(","))
    except ValueError:
        raise InvalidInput(f"bbox {bbox!r} is not four numbers", field="bbox") from None
    if len(parts) != 4:
        raise InvalidInput("bbox needs four numbers: minLon,minLat,maxLon,maxLat", field="bbox")
    west, south, east, north = parts
    if not all(math.isfinite(p) for p in parts) or not (
            -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
        raise InvalidInput("bbox must be minLon,minLat,maxLon,maxLat inside -180..180 and "
                           "-90..90 with minLat < maxLat", field="bbox")
    if west >= east:
        raise InvalidInput("a bbox across the antimeridian (minLon >= maxLon) is not "
                           "supported; ask for its two halves", field="bbox")
    area_km2 = bbox_area_km2(west, south, east, north)
    if area_km2 > settings.api.max_bbox_km2:
        raise InvalidInput(f"bbox covers {area_km2:,.0f} km², more than the "
                           f"{settings.api.max_bbox_km2:,.0f} km² a request may ask for",
                           field="bbox")
    return west, south, east, north


BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(parse_bbox)]


def bbox_area_km2(west: float, south: float, east: float, north: float) -> float:
    """The area of a longitude-latitude box: R² · Δλ · (sin φ₂ − sin φ₁), exact on the
    sphere and within 0.5 % on the ellipsoid, whole-world boxes included."""
    span = math.radians(east - west)
    band = math.sin(math.radians(north)) - math.sin(math.radians(south))
    return EARTH_RADIUS_M ** 2 * span * band / 1e6


class TimeRange:
    """[start, end) from ISO 8601 date-times or dates; empty values mean no bound, and
    values without an offset are UTC."""

    def __init__(self, start: str | None = None, end: str | None = None) -> None:
        self.start = parse_instant(start, "start")
        self.end = parse_instant(end, "end")
        if self.start and self.end and self.end <= self.start:
            raise InvalidInput("end must be after start", field="end")


# The parameter checks below are coroutines: FastAPI runs a plain function dependency in
# a thread, which costs more than the check itself.
async def time_range(start: Annotated[str | None, Query(
                         description="ISO 8601 date or date-time, inclusive")] = None,
                     end: Annotated[str | None, Query(
                         description="ISO 8601 date or date-time, exclusive")] = None
                     ) -> TimeRange:
    return TimeRange(start, end)


TimeRangeDep = Annotated[TimeRange, Depends(time_range)]


async def incident_categories(category: Annotated[list[str] | None, Query(
        description=f"incident categories ({REPEATABLE}): "
                    + ", ".join(taxonomy.INCIDENT_CATEGORIES))] = None) -> tuple[str, ...]:
    return taxonomy.check_codes(category, taxonomy.INCIDENT_CATEGORIES, "category")


CategoriesDep = Annotated[tuple[str, ...], Depends(incident_categories)]


def expected_version(if_match: Annotated[str | None, Header()] = None,
                     version: Annotated[int | None, Query(
                         description="the version you edited, if not sent as If-Match")]
                     = None) -> int | None:
    """The version a write expects, from If-Match (an ETag) or ?version=; None if
    neither was sent."""
    if if_match:
        text = if_match.strip().removeprefix("W/").strip('"')
        if not text.isdigit():
            raise InvalidInput(f"If-Match {if_match!r} is not an ETag this service issued",
                               field="If-Match")
        return int(text)
    return version


def require_version(version: int | None) -> int:
    if version is None:
        raise PreconditionRequired("send the version you edited, as an If-Match header with "
                                   "the ETag of the GET, or as ?version=N, so that "
                                   "concurrent edits are not lost", field="If-Match")
    return version


VersionDep = Annotated[int | None, Depends(expected_version)]
