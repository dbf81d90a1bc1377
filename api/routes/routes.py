"""Shortest paths over the road network (`/routes`)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import InvalidInput, NotFound

from ..auth import allow
from ..deps import LaneDep, StateDep
from ..geojson import GeoJSONResponse
from ..models.common import ERRORS
from ..models.routes import MatrixIn, MatrixOut, RouteFeature
from ..routing import StrictQueryRoute

router = APIRouter(prefix="/routes", tags=["routes"], route_class=StrictQueryRoute,
                   responses=ERRORS)


def lonlat(text: str, name: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput(f"{name} must be lon,lat in WGS84", field=name) from None
    return check_lonlat(lon, lat, name, name)


def check_lonlat(lon: float, lat: float, what: str, field: str) -> tuple[float, float]:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        raise InvalidInput(f"{what} must be a longitude in -180..180 and a latitude in "
                           "-90..90", field=field)
    return lon, lat


@router.get("", summary="Shortest path between two places", response_model=RouteFeature,
            response_class=GeoJSONResponse,
            description="The fastest way from `from` to `to` (lon,lat in WGS84) on foot or "
                        "by car over the road network (one-way streets bind cars): the line, "
                        "its minutes and metres. Each end joins its nearest street by a "
                        "straight walk.")
async def route(_who: Annotated[Principal, Depends(allow("routes"))], state: StateDep,
                lane: LaneDep,
                from_: Annotated[str, Query(alias="from", max_length=60,
                                            description="lon,lat")],
                to: Annotated[str, Query(max_length=60, description="lon,lat")],
                mode: Annotated[Literal["foot", "bike", "car"], Query()] = "foot"
                ) -> GeoJSONResponse:
    start, end = lonlat(from_, "from"), lonlat(to, "to")

    def answer() -> GeoJSONResponse:
        path, line = state.roads.route(start, end, mode)
        if line is None:
            how = {"foot": "on foot", "bike": "by bicycle", "car": "by car"}[mode]
            raise NotFound(f"no route between these places {how}")
        return GeoJSONResponse({
            "type": "Feature", "geometry": line.__geo_interface__,
            "properties": {"mode": mode, "minutes": round(path.minutes, 3),
                           "metres": round(path.metres, 1)}})
    return await lane.run(answer)


@router.post("/matrix", summary="Travel-time matrix", response_model=MatrixOut,
             description="Minutes from every point to every other over the road network "
                         "(row: from, column: to; null where there is no way), one search "
                         "per point on one graph.")
async def matrix(_who: Annotated[Principal, Depends(allow("routes"))], state: StateDep,
                 lane: LaneDep, body: MatrixIn) -> dict:
    for i, (lon, lat) in enumerate(body.points):
        check_lonlat(lon, lat, f"point {i + 1}", "points")

    def answer() -> dict:
        minutes = state.roads.matrix(list(body.points), body.mode)
        return {"mode": body.mode, "minutes": [
            [round(float(v), 3) if math.isfinite(v) else None for v in row]
            for row in minutes]}
    return await lane.run(answer)
