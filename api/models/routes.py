"""Response models of the routing routes."""

from __future__ import annotations

from typing import Literal

from geojson_pydantic import LineString
from pydantic import Field

from .analytics import Strict


class RouteProperties(Strict):
    mode: Literal["foot", "bike", "car"]
    minutes: float
    metres: float


class RouteFeature(Strict):
    type: Literal["Feature"]
    geometry: LineString
    properties: RouteProperties


MAX_MATRIX_POINTS = 500


class MatrixIn(Strict):
    points: list[tuple[float, float]] = Field(
        min_length=1, max_length=MAX_MATRIX_POINTS,
        description="[lon, lat] in WGS84, at most 500")
    mode: Literal["foot", "bike", "car"] = "foot"


class MatrixOut(Strict):
    mode: Literal["foot", "bike", "car"]
    minutes: list[list[float | None]]  # null: no way
