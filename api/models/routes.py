"""Response models of the routing routes."""

from __future__ import annotations

from typing import Literal

from geojson_pydantic import LineString

from .analytics import Strict


class RouteProperties(Strict):
    mode: Literal["foot", "car"]
    minutes: float
    metres: float


class RouteFeature(Strict):
    type: Literal["Feature"]
    geometry: LineString
    properties: RouteProperties
