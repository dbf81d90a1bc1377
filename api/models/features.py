"""Documents of the OGC API – Features routes (as the standard's OpenAPI fragments
describe them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class OgcLink(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Landing(BaseModel):
    title: str
    description: str
    links: list[OgcLink]


class Conformance(BaseModel):
    conformsTo: list[str]


class Extent(BaseModel):
    spatial: dict[str, Any] | None = Field(default=None, description="bbox in CRS84")
    temporal: dict[str, Any] | None = Field(default=None, description="time span")


class CollectionInfo(BaseModel):
    id: str
    title: str
    description: str
    itemType: Literal["feature"] = "feature"
    crs: list[str] = Field(description="the CRSs features can be given in (crs=)")
    storageCrs: str
    extent: Extent | None = None
    links: list[OgcLink]


class Collections(BaseModel):
    links: list[OgcLink]
    collections: list[CollectionInfo]


class Queryables(BaseModel):
    """A JSON Schema of what the collection may be filtered and sorted by."""

    model_config = {"extra": "allow"}

    type: Literal["object"] = "object"
    title: str
    properties: dict[str, dict[str, Any]]


class OgcFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    links: list[OgcLink] | None = None


class OgcFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[OgcFeature]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[OgcLink]
