"""Publishing a grid plan."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gridgis.gis.errors import NotFound
from gridgis.gis.resources import RESOURCES, Repository

from ..deps import CatalogDep, ConnDep
from ..geojson import single

router = APIRouter(prefix="/plans", tags=["plans"])


@router.post("/{plan_id}/publish", summary="Publish a plan",
             description="Retires the published plan, publishes this one and relinks every "
                         "person, place, thing and incident to its grids, in one transaction.")
def publish(plan_id: int, conn: ConnDep, catalog: CatalogDep) -> JSONResponse:
    if conn.execute(sa.text("SELECT 1 FROM grid_plans WHERE id = :p"),
                    {"p": plan_id}).first() is None:
        raise NotFound(f"no grid plan with id {plan_id}")
    conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
    changed = conn.execute(sa.text("SELECT gridgis_publish_plan(:p)"),
                           {"p": plan_id}).scalar_one()
    response = single(Repository(catalog, RESOURCES["plans"]).get(conn, plan_id), False)
    response.headers["X-Relinked"] = str(changed)
    return response
