"""Publishing a grid plan."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from gridgis.gis.access.audit import Entry, record
from gridgis.gis.access.principal import Principal
from gridgis.gis.drafts import draft_from, require_plan
from gridgis.gis.errors import NotFound
from gridgis.gis.resources import RESOURCES, Repository
from gridgis.gis.services.blindspots import publish_blocker
from gridgis.gis.services.plan_editing import scope_codes
from gridgis.gis.services.plan_handover import plan_handover, publish_with_workers

from ..auth import allow
from ..deps import CatalogDep, ConnDep, SettingsDep, StateDep
from ..geojson import single
from ..models.analytics import Strict
from ..models.common import ERRORS
from ..models.plans import HandoverOut
from ..models.resources import MODELS
from ..routing import StrictQueryRoute

router = APIRouter(prefix="/plans", tags=["plans"], route_class=StrictQueryRoute,
                   responses=ERRORS)


def coverage_gate(plan_id: int, who: Annotated[Principal, Depends(allow("plans", "write"))],
                  state: StateDep,
                  force: Annotated[bool, Query(description="publish although the plan has "
                                                           "coverage gaps or overlaps")] = False,
                  reason: Annotated[str | None, Query(
                      min_length=1, max_length=500,
                      description="why, when forced (recorded in the audit log)")] = None
                  ) -> str | None:
    """The plan's coverage problem when publishing is forced past it (409 when it is
    not); checked before the publishing transaction starts, with no connection held
    while it is computed."""
    with state.database.engine.connect() as conn:
        name = conn.execute(sa.text("SELECT name FROM grid_plans WHERE id = :id"),
                            {"id": plan_id}).scalar()
    if name is None:
        raise NotFound(f"no grid plan with id {plan_id}")
    problem = publish_blocker(state.blindspots, name, force, reason)
    return f"forced despite {problem}; reason: {reason}" if problem else None


@router.post("/{plan_id:int}/publish", summary="Publish a plan", response_model=MODELS["plans"].one,
             description="Retires the published plan, publishes this one and relinks every "
                         "person, place, thing and incident to its grids, in one transaction "
                         "of at most GRIDGIS_API_PUBLISH_TIMEOUT_MS (503 and nothing changed "
                         "beyond it; a city too large for that publishes with `gridgis plans "
                         "publish NAME`). The header X-Relinked says how many entities "
                         "changed grid. A plan with coverage gaps or overlaps (see "
                         "`/blindspots/coverage`) is a 409 unless `force=true` and a "
                         "`reason`, which the audit log records. Workers carry over to "
                         "each new grid that clearly succeeds a grid of the plan in force "
                         "(see `/plans/{id}/handover`); headers X-Workers-Carried and "
                         "X-Grids-Undecided count the grids that got workers and those "
                         "that need a decision.")
def publish(plan_id: int, who: Annotated[Principal, Depends(allow("plans", "write"))],
            forced: Annotated[str | None, Depends(coverage_gate)],
            conn: ConnDep, catalog: CatalogDep, settings: SettingsDep) -> JSONResponse:
    plans = Repository(catalog, RESOURCES["plans"], who)
    plans.guard.check_row(conn, plan_id)  # planners publish drafts only
    before = plans.get(conn, plan_id)
    changed, handover = publish_with_workers(conn, plan_id,
                                             time_limit_ms=settings.api.publish_timeout_ms)
    after = plans.get(conn, plan_id)
    record(conn, who, Entry("publish", "plans", record_ids=[plan_id], before=before,
                            after=after, detail=f"{changed} entities relinked; "
                            + handover.summary() + (f"; {forced}" if forced else "")))
    response = single(after, False)
    response.headers["X-Relinked"] = str(changed)
    response.headers["X-Workers-Carried"] = str(len(handover.carried))
    response.headers["X-Grids-Undecided"] = str(len(handover.undecided))
    return response


class DraftIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="the new draft's name")
    description: str | None = Field(default=None, max_length=2000)


@router.post("/{plan_id:int}/drafts", summary="Copy a plan into a new draft",
             status_code=201, response_model=MODELS["plans"].one,
             description="Copies the plan's grids (codes, names, communities, geometry) into "
                         "a new draft that planners can edit while the published plan stays "
                         "in force; 409 if the name is taken. Header X-Grids: grids copied.")
def create_draft(plan_id: int, body: DraftIn,
                 who: Annotated[Principal, Depends(allow("plans", "write"))],
                 conn: ConnDep, catalog: CatalogDep) -> JSONResponse:
    draft, grids = draft_from(conn, plan_id, body.name, body.description)
    plans = Repository(catalog, RESOURCES["plans"], who)
    after = plans.get(conn, draft)
    record(conn, who, Entry("create", "plans", record_ids=[draft], after=after,
                            detail=f"draft of plan {plan_id}: {grids} grids copied"))
    response = single(after, False)
    response.status_code = 201
    response.headers["X-Grids"] = str(grids)
    return response


@router.get("/{plan_id:int}/handover", summary="Who would staff a plan's grids",
            response_model=HandoverOut,
            description="What publishing the plan now would do with the grid workers: a "
                        "new grid takes over the workers of the grid of the plan in force "
                        "it clearly succeeds (each holding the majority of the other's "
                        "households, or area where there are none); `undecided` lists the "
                        "grids that need a planner's decision, with the grids they overlap "
                        "most first. Grids already staffed in the plan keep their own.")
def handover(plan_id: int, who: Annotated[Principal, Depends(allow("plans", "read"))],
             conn: ConnDep) -> JSONResponse:
    require_plan(conn, plan_id)
    found = plan_handover(conn, plan_id)
    codes = scope_codes(conn, who.grid_ids, [plan_id])
    return JSONResponse({
        "carried": [{k: item[k] for k in ("new", "old", "workers")} for item in found.carried
                    if codes is None or item["new"] in codes],
        "undecided": [{k: item[k] for k in ("new", "candidates")}
                      for item in found.undecided if codes is None or item["new"] in codes]})
