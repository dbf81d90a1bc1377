"""The landing page and the Folium map pages. A page reads its base layers and data in
one short transaction (the hotspot page gets its analyses from the hotspot service,
which reads its own) and is built afterwards, with no connection held."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from gridgis.gis.access.aggregates import withhold_small
from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import NotFound
from gridgis.gis.i18n import Lang
from gridgis.gis.services.plan_editing import scope_codes
from gridgis.gis.services.plan_reports import scoped_figures
from gridgis.gis.versions import MAP_TABLES
from gridgis.maps import data
from gridgis.maps.base import PageOptions
from gridgis.maps.blindspots import blindspots_page
from gridgis.maps.grids import MEASURES, grids_page, read_grids_page
from gridgis.maps.hotspots import hotspots_page
from gridgis.maps.incidents import incidents_page, read_incidents_page
from gridgis.maps.patrols import patrols_page
from gridgis.maps.plans import plan_page

from ..auth import AnyoneDep, allow
from ..compression import UNCOMPRESSED
from ..deps import (
    AssetsDep,
    BlindSpotsDep,
    CategoriesDep,
    HotspotsDep,
    KeepDep,
    LaneDep,
    SettingsDep,
    StateDep,
    TimeRangeDep,
)
from ..models.common import ERRORS, media
from ..routing import StrictQueryRoute
from .blindspots import CommunityOptionsDep
from .blindspots import ScopeDep as BlindSpotScopeDep
from .hotspots import ScopeDep

router = APIRouter(tags=["maps"], route_class=StrictQueryRoute, responses=ERRORS,
                   default_response_class=HTMLResponse)
LangQuery = Annotated[Lang | None, Query(description="zh or en (default: the service's)")]
HTML = media("text/html", description="an HTML page")


async def _html(page: Awaitable[str]) -> Response:
    return HTMLResponse(await page)


def _options(settings, lang: Lang | None) -> PageOptions:
    return PageOptions(lang=lang or settings.api.lang, tile_url=settings.api.tile_url,
                       tile_attribution=settings.api.tile_attribution,
                       max_features=settings.api.map_max_features,
                       grids_embedded=settings.api.map_grids_embedded)


@router.get("/maps/grids", summary="Grid map", responses=HTML)
async def grids_map(who: Annotated[Principal, Depends(allow("maps"))], state: StateDep,
                    settings: SettingsDep, time_range: TimeRangeDep, keep: KeepDep,
                    _assets: AssetsDep, lang: LangQuery = None,
                    measure: Annotated[Literal[tuple(MEASURES)], Query(  # type: ignore[valid-type]
                        description="what colours the grids")] = "incidents") -> Response:
    options = _options(settings, lang)

    def page() -> HTMLResponse:
        with state.reads.connect() as conn:
            page = read_grids_page(conn, options, time_range.start, time_range.end, who,
                                   settings.auth.min_count, state.grid_stats)
        return HTMLResponse(grids_page(page, options, measure, time_range.start,
                                       time_range.end))
    return await keep(lambda: run_in_threadpool(page), MAP_TABLES)


@router.get("/maps/incidents", summary="Incident map", responses=HTML)
async def incidents_map(who: Annotated[Principal, Depends(allow("incidents"))],
                        state: StateDep, settings: SettingsDep, time_range: TimeRangeDep,
                        categories: CategoriesDep, keep: KeepDep,
                        _assets: AssetsDep, lang: LangQuery = None) -> Response:
    options = _options(settings, lang)

    def page() -> HTMLResponse:
        with state.reads.connect() as conn:
            page = read_incidents_page(conn, options, categories, time_range.start,
                                       time_range.end, who)
        return HTMLResponse(incidents_page(page, options, categories, time_range.start,
                                           time_range.end))
    return await keep(lambda: run_in_threadpool(page), MAP_TABLES)


@router.get("/maps/hotspots", summary="Hotspot map", responses=HTML)
async def hotspots_map(area: ScopeDep, who: AnyoneDep, lane: LaneDep, state: StateDep,
                       hotspots: HotspotsDep, keep: KeepDep,
                       settings: SettingsDep,
                 time_range: TimeRangeDep, categories: CategoriesDep, _assets: AssetsDep,
                 lang: LangQuery = None,
                 unit: Annotated[Literal["lattice", "grids"], Query(
                     description="units of analysis")] = "lattice",
                 print_layout: Annotated[Literal["a4"] | None, Query(
                     alias="print",
                     description="a4: lay the page out for an A4 landscape printout")]
                 = None) -> Response:
    options = _options(settings, lang)

    def page() -> str:
        with state.reads.connect() as conn:
            base = data.read_base(conn, options.max_features)
        return hotspots_page(base, hotspots, options, unit, categories, time_range.start,
                             time_range.end, printable=print_layout == "a4", who=who,
                             area=area)
    return await keep(lambda: _html(lane.run(page)), MAP_TABLES)


@router.get("/maps/blindspots", summary="Blind-spot map", responses=HTML)
async def blindspots_map(request: Request, area: BlindSpotScopeDep, who: AnyoneDep,
                         lane: LaneDep, keep: KeepDep,
                         state: StateDep, blindspots: BlindSpotsDep, settings: SettingsDep,
                         audit: CommunityOptionsDep, _assets: AssetsDep, lang: LangQuery = None,
                         print_layout: Annotated[Literal["a4"] | None, Query(
                             alias="print",
                             description="a4: lay the page out for an A4 landscape "
                                         "printout")] = None) -> Response:
    """Every kind of blind spot as a layer with the scorecard beside the map; the audit
    takes the same options as ``/blindspots/scorecard``."""
    options = _options(settings, lang)

    def page() -> str:
        with state.reads.connect() as conn:
            base = data.read_base(conn, options.max_features)
        return blindspots_page(base, blindspots, options, audit, who, area,
                               printable=print_layout == "a4",
                               query=list(request.query_params.multi_items()))
    return await keep(lambda: _html(lane.run(page)))


@router.get("/maps/patrols", summary="Patrol planning map", responses=HTML)
async def patrols_map(who: Annotated[Principal, Depends(allow("patrols"))], lane: LaneDep,
                      state: StateDep, settings: SettingsDep, _assets: AssetsDep,
                      lang: LangQuery = None,
                      plan: Annotated[int | None, Query(
                          ge=1, description="the plan to show (default: the latest)")] = None
                      ) -> HTMLResponse:
    """A plan's routes and stops over the forecast risk, its comparison figures and
    files, and a form to plan a shift."""
    options = _options(settings, lang)
    service = state.patrols

    def page() -> str:
        plans, _ = service.plans(who, 20)
        shown = plan if plan is not None else next(
            (p["id"] for p in plans if p["status"] == "ready"), None)
        chosen = service.plan(shown, who) if shown is not None else None
        routes = service.routes(chosen["id"]) if chosen and chosen["status"] == "ready" \
            else None
        risk = tracks = dosage = None
        if chosen and chosen["status"] == "ready":
            if who.may("read", "hotspots"):
                risk = service.risk_cells(chosen)
            fixes = service.fixes(chosen)  # read once: drawn, and counted for the dosage
            dosage = service.plan_dosage(chosen, fixes) if len(fixes) else None
            tracks = fixes.to_crs(4326)
        with state.reads.connect() as conn:
            base = data.read_base(conn, options.max_features)
        return patrols_page(base, options, who, chosen, routes, risk, plans, tracks, dosage)
    return HTMLResponse(await lane.run(page), headers=UNCOMPRESSED)


@router.get("/maps/plans", summary="Grid planning map (the newest draft)", responses=HTML)
async def newest_plan_map(who: Annotated[Principal, Depends(allow("plans"))], lane: LaneDep,
                          state: StateDep, settings: SettingsDep, _assets: AssetsDep,
                          lang: LangQuery = None) -> HTMLResponse:
    """The map of the newest draft, or of the published plan when there is no draft."""
    return await plans_map(None, who, lane, state, settings, _assets, lang)


@router.get("/maps/plans/{plan_id:int}", summary="Grid planning map", responses=HTML)
async def plans_map(plan_id: int | None, who: Annotated[Principal, Depends(allow("plans"))],
                    lane: LaneDep, state: StateDep, settings: SettingsDep,
                    _assets: AssetsDep, lang: LangQuery = None) -> HTMLResponse:
    """A plan's grids with their live figures and the plan's balance; for a draft and a
    user who may edit it, tools to split, merge, move a boundary, reassign an area and
    undo, with refusals and coverage gaps drawn on the map."""
    options = _options(settings, lang)

    def page() -> str:
        with state.reads.connect() as conn:
            plans = [dict(r) for r in conn.execute(sa.text(
                "SELECT id, name, state FROM grid_plans "
                "ORDER BY state = 'draft' DESC, state = 'published' DESC, id DESC LIMIT 50")
                ).mappings()]
            shown = plan_id if plan_id is not None else \
                next((p["id"] for p in plans if p["state"] != "retired"), None)
            plan = next((p for p in plans if p["id"] == shown), None) or \
                conn.execute(sa.text("SELECT id, name, state FROM grid_plans WHERE id = :p"),
                             {"p": shown}).mappings().first()
            if plan is None:
                raise NotFound(f"no grid plan with id {plan_id}" if plan_id is not None
                               else "there is no grid plan yet: import grids first")
            plan_id_ = int(plan["id"])
            codes = scope_codes(conn, who.grid_ids, [plan_id_])
            base = data.read_base(conn, options.max_features)
        features, balance = scoped_figures(state.plan_reports.figures(plan_id_), codes)
        for feature in features:
            feature["properties"] = withhold_small(feature["properties"], who,
                                                   settings.auth.min_count)
        editable = who.may("write", "plans") and plan["state"] == "draft"
        return plan_page(base, options, who, dict(plan),
                         {"type": "FeatureCollection", "features": features}, balance,
                         editable, plans)
    return HTMLResponse(await lane.run(page), headers=UNCOMPRESSED)
