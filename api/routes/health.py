"""``/health``: whether this worker answers, for load balancers and process
supervisors. It touches nothing (a database that is away is the 503s of the routes
that need it), names no version and is public."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..models.common import ERRORS
from ..routing import StrictQueryRoute

router = APIRouter(tags=["service"], route_class=StrictQueryRoute, responses=ERRORS)


class Health(BaseModel):
    status: str


@router.get("/health", summary="Whether the service answers", response_model=Health)
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
