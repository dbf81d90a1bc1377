"""Models every route shares: errors, links, paging, GeoJSON geometry."""

from __future__ import annotations

from typing import Any, Literal

from geojson_pydantic import LineString, MultiLineString, MultiPolygon, Point, Polygon
from pydantic import BaseModel, ConfigDict, Field

Geometry = Point | MultiPolygon | Polygon | LineString | MultiLineString
# The two shapes an update body may take (a Feature, or its fields), as validation errors
# name them in their locations; api.errors leaves them out of the field it reports.
FEATURE_TAG, FIELDS_TAG = "Feature", "fields"


class Problem(BaseModel):
    """An error (RFC 9457 problem details) naming what was wrong and where."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="the parameter or field at fault")
    errors: list[dict[str, Any]] | None = None


class Link(BaseModel):
    rel: Literal["next", "prev", "self", "alternate"]
    href: str


class Page(BaseModel):
    """Paging facts of a list."""

    numberMatched: int = Field(description="rows matching the filters")
    numberReturned: int
    limit: int
    offset: int
    links: list[Link]


Responses = dict[int | str, dict[str, Any]]


def media(*types: str, status: int = 200, description: str | None = None) -> Responses:
    """The documented response of a route that answers in these media types."""
    answer: dict[str, Any] = {"content": {t: {} for t in types}}
    if description:
        answer["description"] = description
    return {status: answer}


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}  # registered by the app's openapi()
ERRORS: Responses = {
    status: {"description": description,
             "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
    for status, description in (
        (400, "Malformed request: a body that is not UTF-8 JSON, a Host not served"),
        (401, "Not signed in: no valid session or bearer token (WWW-Authenticate says how)"),
        (403, "Your roles or scope do not allow this, or a browser change lacks its CSRF "
              "token"),
        (404, "Not found (or outside your scope)"),
        (409, "Conflict (a stale version, a duplicate key)"),
        (413, "Request body too large"), (422, "Invalid input: the field says where"),
        (429, "Too many sign-in attempts (see Retry-After)"),
        (428, "A write without the version it edits"),
        (503, "Database unavailable or a query over its time limit (see Retry-After)"))
}


class Me(BaseModel):
    name: str
    roles: list[str]
    scope: list[str] = Field(description="codes of the grids or areas the user is limited to")
    grids: int | None = Field(description="how many published grids the scope covers "
                              "(null: no scope, the whole district)")
    credential: Literal["session", "token"]
    csrf_token: str | None = Field(description="a browser session's token for X-CSRF-Token")
