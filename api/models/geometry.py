"""GeoJSON geometry as the API accepts it: WGS84 longitude and latitude as JSON numbers,
two per position (a height is refused, not dropped), closed rings of four positions or
more, and only the types a resource stores."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat

Number = StrictFloat  # a JSON integer is a number too; a string or true is not
Longitude = Annotated[Number, Field(ge=-180, le=180)]
Latitude = Annotated[Number, Field(ge=-90, le=90)]
Position = Annotated[tuple[Longitude, Latitude], Field(description="[longitude, latitude]")]


def _closed(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if ring[0] != ring[-1]:
        raise ValueError("a linear ring must end where it starts")
    return ring


Ring = Annotated[list[Position], Field(min_length=4), AfterValidator(_closed)]


class _Geometry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bbox: list[Number] | None = None


class PointIn(_Geometry):
    type: Literal["Point"]
    coordinates: Position


class LineStringIn(_Geometry):
    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Field(min_length=2)]


class PolygonIn(_Geometry):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class MultiPolygonIn(_Geometry):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]],
                           Field(min_length=1)]


def geometry_in(*types: type[_Geometry]) -> object:
    """A geometry of one of ``types``, told apart by its ``type`` member."""
    if len(types) == 1:
        return types[0]
    union = types[0]
    for extra in types[1:]:
        union = union | extra  # type: ignore[assignment]
    return Annotated[union, Field(discriminator="type")]
