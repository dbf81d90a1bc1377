"""Publishing a grid plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from gridgis.gis.access.audit import Entry, record
from gridgis.gis.access.principal import Principal
from gridgis.gis.linking import publish_plan
from gridgis.gis.resources import RESOURCES, Repository

from ..auth import allow
from ..deps import CatalogDep, ConnDep, SettingsDep
from ..geojson import single
from ..models.common import ERRORS
from ..models.resources import MODELS
from ..routing import StrictQueryRoute

router = APIRouter(prefix="/plans", tags=["plans"], route_class=StrictQueryRoute,
                   responses=ERRORS)


@router.post("/{plan_id:int}/publish", summary="Publish a plan", response_model=MODELS["plans"].one,
             description="Retires the published plan, publishes this one and relinks every "
                         "person, place, thing and incident to its grids, in one transaction "
                         "of at most GRIDGIS_API_PUBLISH_TIMEOUT_MS (503 and nothing changed "
                         "beyond it; a city too large for that publishes with `gridgis plans "
                         "publish NAME`). The header X-Relinked says how many entities "
                         "changed grid.")
def publish(plan_id: int, who: Annotated[Principal, Depends(allow("plans", "write"))],
            conn: ConnDep, catalog: CatalogDep, settings: SettingsDep) -> JSONResponse:
    plans = Repository(catalog, RESOURCES["plans"], who)
    plans.guard.check_row(conn, plan_id)  # planners publish drafts only
    before = plans.get(conn, plan_id)
    changed = publish_plan(conn, plan_id, time_limit_ms=settings.api.publish_timeout_ms)
    after = plans.get(conn, plan_id)
    record(conn, who, Entry("publish", "plans", record_ids=[plan_id], before=before,
                            after=after, detail=f"{changed} entities relinked"))
    response = single(after, False)
    response.headers["X-Relinked"] = str(changed)
    return response
