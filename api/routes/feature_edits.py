"""OGC API – Features Part 4 (create, replace, update, delete) on the grids of a draft
plan, the collections ``grids-plan-{id}``: a planner edits a draft from a GIS client over
HTTP, and every change keeps the draft a partition by the planning edits' rules
(``gis.services.plan_features``), is logged for undo and audited. The published plan
and the other collections are read-only here (405; the resource routes change them).
Bodies are GeoJSON Features in CRS84; ``If-Match`` with the ETag a read gave guards
against overwriting someone else's change (412)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from geojson_pydantic import MultiPolygon, Polygon
from pydantic import BaseModel, ConfigDict, Field

from gridgis.gis.access.audit import Entry, record
from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import InvalidInput
from gridgis.gis.features.collections import Collection, collection
from gridgis.gis.features.items import Features
from gridgis.gis.resources.repository import OutputCrs
from gridgis.gis.services.plan_edits import Edit
from gridgis.gis.services.plan_features import FeatureEditor

from .. import ogc
from ..auth import AnyoneDep, require_may
from ..deps import CatalogDep, ConnDep
from ..errors import MethodNotAllowed, PreconditionFailed
from ..geojson import GeoJSONResponse, json_text, raw_feature, strong_etag
from ..models.common import ERRORS, PROBLEM_REF, Responses
from ..models.features import OgcFeature

EDIT_ERRORS: Responses = {**ERRORS, **{status: {
    "description": description,
    "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
    for status, description in (
        (405, "The collection is read-only here (Allow says what it takes)"),
        (412, "If-Match names a version the grid is no longer at"))}}
router = APIRouter(tags=["OGC API – Features"], route_class=ogc.OgcRoute,
                   responses=EDIT_ERRORS)
WRITABLE = ("code", "name")  # and, when a grid is created, community_id
# what a client read with a grid and may send back: not written, whatever it says (the
# version a client edits goes in If-Match)
ECHOED = ("id", "version", "plan_id", "external_id", "properties", "created_at",
          "updated_at")
IfMatch = Annotated[str | None, Header(alias="If-Match", description=(
    "the ETag of the grid as you read it: the change is refused (412) if it changed"))]
ContentCrs = Annotated[str | None, Header(alias="Content-Crs", description=(
    "the body's CRS: CRS84 only"))]


class GridFeatureIn(BaseModel):
    """A grid as a GeoJSON Feature (CRS84): ``code`` and ``name`` are written; other
    properties a client read with the grid may be sent back unchanged."""

    model_config = ConfigDict(extra="allow")

    type: str | None = Field(default="Feature", pattern="^Feature$")
    geometry: Polygon | MultiPolygon | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


def _draft(conn: sa.Connection, who: Principal, collection_id: str) -> Collection:
    """The draft plan's collection, if ``who`` may change it (405 for a read-only one,
    whoever asks)."""
    found = collection(conn, who, collection_id)
    if not found.draft:
        what = "the published plan's grids" if found.resource == "grids" else found.title_en
        raise MethodNotAllowed(f"{found.id} ({what}) is read-only here: draft plans' grid "
                               "collections (grids-plan-{id}) take changes",
                               allow="GET, HEAD")
    require_may(who, "write", "grids")
    return found


def _check_version(editor: FeatureEditor, grid_id: int, if_match: str | None) -> None:
    """After the editor has locked the draft: the grid is still at the version sent."""
    if if_match is None or if_match.strip() == "*":
        return
    current = editor.version(grid_id)
    sent = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if str(current) not in sent:
        raise PreconditionFailed(f"grid {grid_id} changed since you read it (it is at "
                                 f'version {current}, ETag "{current}"); read it again')


def _check_crs(content_crs: str | None) -> None:
    if content_crs is not None and content_crs.strip().strip("<>") != ogc.CRS84:
        raise InvalidInput(f"bodies are in CRS84 ({ogc.CRS84}); Content-Crs says "
                           f"{content_crs}", field="Content-Crs")


def _fields(body: GridFeatureIn, current: dict[str, Any] | None) -> dict[str, Any]:
    """The written fields; any other property must be sent as it was read."""
    values = {k: v for k, v in body.properties.items() if k not in ECHOED}
    unknown = [k for k in values if k not in (*WRITABLE, "community_id")]
    if current is not None and "community_id" in values and \
            values["community_id"] != current.get("community_id"):
        unknown.append("community_id")
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be written here (a grid's code and name "
                           "are; its land changes with its geometry)", field=unknown[0])
    code = values.get("code", current.get("code") if current else None)
    if not isinstance(code, str):
        raise InvalidInput("a grid needs a code (a string)", field="code")
    name = values.get("name", None if current is None else current.get("name"))
    if name is not None and not isinstance(name, str):
        raise InvalidInput("name is a string", field="name")
    community = values.get("community_id")
    if community is not None and (isinstance(community, bool) or not isinstance(community, int)):
        raise InvalidInput("community_id is an area id", field="community_id")
    return {"code": code, "name": name, "community_id": community}


def _geometry(body: GridFeatureIn) -> dict | None:
    return None if body.geometry is None else body.geometry.model_dump(exclude_none=True)


def _answer(request: Request, conn: sa.Connection, found: Collection, who: Principal,
            grid_id: int, catalog, status: int = 200) -> Response:
    row = Features(catalog, who, found).one(conn, grid_id, OutputCrs())
    here = f"{str(request.base_url).rstrip('/')}/collections/{found.id}/items/{grid_id}"
    headers = {"ETag": strong_etag(row), "Content-Crs": f"<{ogc.CRS84}>"}
    if status == 201:
        headers["Location"] = here
    return Response(json_text(raw_feature(row)), status_code=status, headers=headers,
                    media_type=ogc.GEOJSON)


def _audit(conn: sa.Connection, who: Principal, action: str, grid_id: int,
           done: list[Edit]) -> None:
    record(conn, who, Entry(action, "grids", record_ids=[grid_id],
                            detail="; ".join(e.summary for e in done) or "unchanged"))


def _current(conn: sa.Connection, catalog, who: Principal, found: Collection,
             grid_id: int) -> dict:
    row = Features(catalog, who, found).one(conn, grid_id, OutputCrs())
    row.pop("_geometry", None)
    return jsonable_encoder(row)  # as a client read it


@router.post("/collections/{collection_id}/items", status_code=201,
             summary="Draw a new grid in a draft plan", response_model=OgcFeature,
             response_class=GeoJSONResponse,
             description="A GeoJSON Feature (CRS84) with `code` (and `name`, and "
                         "`community_id` unless the drawing's community is meant): its land "
                         "is taken from the grids of the community that held it; no grid "
                         "may be emptied or cut in two (400 with the reason).")
def create_item(request: Request, collection_id: str, who: AnyoneDep, conn: ConnDep,
                catalog: CatalogDep, body: Annotated[GridFeatureIn, Body()],
                content_crs: ContentCrs = None) -> Response:
    found = _draft(conn, who, collection_id)
    _check_crs(content_crs)
    fields = _fields(body, None)
    if body.geometry is None:
        raise InvalidInput("a new grid needs a geometry", field="geometry")
    editor = FeatureEditor(conn, catalog.srid, found.value, who.name, who.grid_ids)
    grid_id, done = editor.create(fields["code"], fields["name"], _geometry(body) or {},
                                  fields["community_id"])
    _audit(conn, who, "create", grid_id, [done])
    return _answer(request, conn, found, who, grid_id, catalog, status=201)


@router.put("/collections/{collection_id}/items/{feature_id:int}",
            summary="Replace a grid of a draft plan", response_model=OgcFeature,
            response_class=GeoJSONResponse,
            description="A new outline redraws the grid (its neighbours give or take the "
                        "land); a new code or name renames it; the grid sent as it is "
                        "changes nothing.")
def replace_item(request: Request, collection_id: str, feature_id: int, who: AnyoneDep,
                 conn: ConnDep, catalog: CatalogDep, body: Annotated[GridFeatureIn, Body()],
                 if_match: IfMatch = None, content_crs: ContentCrs = None) -> Response:
    return _change(request, conn, catalog, who, collection_id, feature_id, body,
                   (if_match, content_crs), replacing=True)


@router.patch("/collections/{collection_id}/items/{feature_id:int}",
              summary="Change part of a grid of a draft plan", response_model=OgcFeature,
              response_class=GeoJSONResponse,
              description="A JSON merge patch as a Feature: the properties and the geometry "
                          "sent change, the rest stays.")
def update_item(request: Request, collection_id: str, feature_id: int, who: AnyoneDep,
                conn: ConnDep, catalog: CatalogDep, body: Annotated[GridFeatureIn, Body()],
                if_match: IfMatch = None, content_crs: ContentCrs = None) -> Response:
    return _change(request, conn, catalog, who, collection_id, feature_id, body,
                   (if_match, content_crs), replacing=False)


def _change(request: Request, conn: sa.Connection, catalog, who: Principal,
            collection_id: str, feature_id: int, body: GridFeatureIn,
            headers: tuple[str | None, str | None], *, replacing: bool) -> Response:
    """Replace or patch a grid; ``headers``: If-Match and Content-Crs as sent."""
    if_match, content_crs = headers
    found = _draft(conn, who, collection_id)
    _check_crs(content_crs)
    if replacing and body.geometry is None:
        raise InvalidInput("a replaced grid needs its geometry (PATCH changes part of it)",
                           field="geometry")
    editor = FeatureEditor(conn, catalog.srid, found.value, who.name, who.grid_ids)
    _check_version(editor, feature_id, if_match)
    current = _current(conn, catalog, who, found, feature_id)
    fields = _fields(body, current)
    if replacing and "name" not in body.properties:
        fields["name"] = None  # a replacement without a name has none
    done = editor.replace(feature_id, fields["code"], fields["name"], _geometry(body))
    _audit(conn, who, "update", feature_id, done)
    return _answer(request, conn, found, who, feature_id, catalog)


@router.delete("/collections/{collection_id}/items/{feature_id:int}", status_code=204,
               summary="Delete a grid of a draft plan",
               description="The grid's land and workers go to the neighbour of its "
                           "community sharing most boundary with it.")
def delete_item(collection_id: str, feature_id: int, who: AnyoneDep, conn: ConnDep,
                catalog: CatalogDep, if_match: IfMatch = None) -> Response:
    found = _draft(conn, who, collection_id)
    editor = FeatureEditor(conn, catalog.srid, found.value, who.name, who.grid_ids)
    _check_version(editor, feature_id, if_match)
    done = editor.delete(feature_id)
    _audit(conn, who, "delete", feature_id, [done])
    return Response(status_code=204)
