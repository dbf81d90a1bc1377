"""Patrol plans (`/patrols/plans`): plan a shift, list and re-open plans, and the files
the units carry (GPX, GeoJSON, A4 route sheets)."""

from __future__ import annotations

from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from geojson_pydantic import FeatureCollection

from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import Busy, Conflict, InvalidInput, StillComputing
from gridgis.gis.patrol.export import plan_geojson
from gridgis.gis.patrol.gpx import plan_gpx
from gridgis.gis.services.patrol_options import MAX_UNITS, PatrolRequest, hand_targets, parse_shift
from gridgis.maps.patrol_sheet import route_sheet

from ..auth import allow
from ..deps import StateDep
from ..geojson import GeoJSONResponse
from ..models.common import ERRORS, media
from ..models.patrols import PlanIn, PlanList, PlanOut
from ..routing import StrictQueryRoute

router = APIRouter(prefix="/patrols", tags=["patrols"], route_class=StrictQueryRoute,
                   responses=ERRORS)
Reader = Annotated[Principal, Depends(allow("patrols"))]
Planner = Annotated[Principal, Depends(allow("patrols", "write"))]


def _request(body: PlanIn, who: Principal, zone: str) -> PatrolRequest:
    import secrets

    start, end = parse_shift(body.shift, body.date, zone)
    extra = hand_targets([t.model_dump() for t in body.targets])
    return PatrolRequest(
        body.name or f"{start:%Y-%m-%d} {body.shift} {body.mode}", start, end,
        units=body.units, mode=body.mode, post=body.post, source=body.source, top=body.top,
        targets=extra, dwell_min=body.dwell_min, revisit_top=body.revisit_top,
        min_gap_min=body.min_gap_min, break_min=body.break_min,
        seed=secrets.randbelow(2**31) if body.seed is None else body.seed,
        time_limit_s=body.time_limit_s, compare_s=body.compare_s,
        tolerance=body.tolerance, scope=who.scope if who.grid_ids is not None else (),
        timezone=zone)


@router.post("/plans", summary="Plan a shift's patrols", status_code=201,
             response_model=PlanOut,
             responses={202: {"model": PlanOut,
                              "description": "still solving: poll the Location"}},
             description="Solves a team orienteering problem over the road network: each "
                         "unit leaves the post and is back by the shift's end, visiting the "
                         "riskiest targets (forecast cells, hot spots or the given list) "
                         "with dwell times, windows, revisits and a break. The plan is "
                         "recorded first (who, the parameters, the seed), then solved in "
                         "an analysis worker; 201 with the plan, or 202 with its Location "
                         "while it is still being solved.")
def create_patrol_plan(body: PlanIn, who: Planner, state: StateDep) -> JSONResponse:
    service = state.patrols
    request = _request(body, who, service.timezone())
    plan_id = service.create(request, who)
    location = {"Location": f"/patrols/plans/{plan_id}"}
    try:
        service.solve(plan_id, request)
    except StillComputing as busy:
        plan = service.plan(plan_id, who)
        return JSONResponse(plan, 202, headers={**location,
                                                "Retry-After": str(busy.retry_after)})
    except Busy as refused:  # nothing was started: the plan is not left "solving"
        service.fail(plan_id, f"not solved: {refused}")
        raise
    plan = service.plan(plan_id, who)
    if plan["status"] == "failed":
        raise InvalidInput(f"plan {plan_id} failed: {plan['failure']}")
    return JSONResponse(plan, 201, headers=location)


@router.get("/plans", summary="Patrol plans", response_model=PlanList)
def list_patrol_plans(who: Reader, state: StateDep,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    plans, total = state.patrols.plans(who, limit, offset)
    return {"plans": plans, "numberMatched": total, "numberReturned": len(plans)}


@router.get("/plans/{plan_id:int}", summary="One patrol plan", response_model=PlanOut)
def get_patrol_plan(plan_id: int, who: Reader, state: StateDep) -> dict[str, Any]:
    return state.patrols.plan(plan_id, who)


def _ready(plan: dict[str, Any]) -> dict[str, Any]:
    if plan["status"] == "solving":
        raise Conflict(f"plan {plan['id']} is still being solved: ask again shortly")
    if plan["status"] != "ready":
        raise InvalidInput(f"plan {plan['id']} failed ({plan['failure']}): it has no "
                           "routes", field="plan_id")
    return plan


def _lines(state, plan_id: int) -> dict[int, shapely.Geometry | None]:
    routes = state.patrols.routes(plan_id)
    return dict(zip(routes["unit"].astype(int), routes.geometry, strict=True))


def _unit(plan: dict[str, Any], unit: int | None) -> list[dict[str, Any]]:
    units = plan["result"]["units"]
    if unit is None:
        return units
    if not 1 <= unit <= len(units):
        raise InvalidInput(f"unit must be 1 to {len(units)}", field="unit")
    return [units[unit - 1]]


UnitQuery = Annotated[int | None, Query(ge=1, le=MAX_UNITS,
                                        description="one unit (1-based); default all")]


class GPXResponse(Response):
    media_type = "application/gpx+xml"


@router.get("/plans/{plan_id:int}.gpx", summary="A plan as GPX", response_class=GPXResponse,
            responses={200: {"description": "GPX 1.1: waypoints, a route and a track per "
                                            "unit", "content": {"application/gpx+xml": {
                                                "schema": {"type": "string"}}}}})
def patrol_plan_gpx(plan_id: int, who: Reader, state: StateDep, unit: UnitQuery = None
                ) -> Response:
    plan = _ready(state.patrols.plan(plan_id, who))
    lines = _lines(state, plan_id)
    chosen = _unit(plan, unit)
    coords = {u["unit"]: [] if lines.get(u["unit"]) is None
              else shapely.get_coordinates(lines[u["unit"]]).tolist() for u in chosen}
    body = plan_gpx(plan["name"], chosen, coords, plan["result"]["post"])
    suffix = f"-unit-{unit}" if unit else ""
    return GPXResponse(body, headers={
        "Content-Disposition": f'attachment; filename="patrol-{plan_id}{suffix}.gpx"'})


@router.get("/plans/{plan_id:int}.geojson", summary="A plan as GeoJSON",
            response_class=GeoJSONResponse, response_model=FeatureCollection,
            description="Each unit's route (a line), each stop (a numbered point with its "
                        "times) and the post, in WGS84.")
def patrol_plan_geojson(plan_id: int, who: Reader, state: StateDep) -> GeoJSONResponse:
    plan = _ready(state.patrols.plan(plan_id, who))
    return GeoJSONResponse(plan_geojson(plan, _lines(state, plan_id)))


@router.get("/plans/{plan_id:int}/sheet", summary="A unit's A4 route sheet",
            response_class=HTMLResponse, responses=media("text/html", description="A4"))
def patrol_plan_sheet(plan_id: int, who: Reader, state: StateDep,
               unit: Annotated[int, Query(ge=1, le=MAX_UNITS)] = 1) -> HTMLResponse:
    plan = _ready(state.patrols.plan(plan_id, who))
    chosen = _unit(plan, unit)[0]
    line = _lines(state, plan_id).get(chosen["unit"])
    coords = [] if line is None else shapely.get_coordinates(line).tolist()
    streets = state.patrols.streets_near(plan_id, chosen["unit"])
    return HTMLResponse(route_sheet(plan, chosen, coords, streets))


@router.get("/plans/{plan_id:int}/dosage", summary="Where the units really were",
            description="Minutes the units' GPS fixes (imported as `patrol_points`, tied "
                        "to the plan by its shift: the fixes in the shift's hours whose "
                        "`shift` names the plan, `#id` or the id, or nothing; for a scoped "
                        "plan those in its scope) lie within "
                        "`radius` m of each target, against the planned dwell; targets "
                        "planned but not visited.")
def patrol_plan_dosage(plan_id: int, who: Reader, state: StateDep,
                radius: Annotated[float, Query(ge=5, le=1000, description="m")] = 50.0
                ) -> dict[str, Any]:
    return state.patrols.dosage(plan_id, who, radius)
