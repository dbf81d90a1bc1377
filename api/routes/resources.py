"""The standard routes of a resource: list, get, create, update, delete.

Their query parameters and bodies come from the resource's spec (its filters, sortable
columns and fields), so ``/openapi.json`` lists exactly what each resource accepts.
No ``from __future__ import annotations`` here: FastAPI reads the generated models
from the annotations of the handlers defined inside :func:`resource_router`.
"""

import inspect
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, RootModel

from gridgis.gis.access.masking import personal_fields
from gridgis.gis.access.principal import Principal
from gridgis.gis.resources import ListQuery, Repository, ResourceSpec
from gridgis.gis.resources.listing import filter_choices

from ..auth import PurposeQuery, allow, with_purpose
from ..deps import (
    REPEATABLE,
    BBoxDep,
    CatalogDep,
    ConnDep,
    PagingDep,
    TimeRange,
    TimeRangeDep,
    VersionDep,
    require_version,
)
from ..geojson import GeoJSONResponse, collection, csv_response, single
from ..models.common import ERRORS, media
from ..models.resources import MODELS
from ..routing import StrictQueryRoute

FILTER_TYPES: dict[str, Any] = {"codes": list[str] | None, "text": list[str] | None,
                                "special": list[str] | None, "ref": list[str] | None,
                                "bool": bool | None}


@dataclass
class Filters:
    values: dict[str, Any]
    time: TimeRange | None


def filters_dependency(spec: ResourceSpec):
    """A dependency whose query parameters are exactly the resource's filters."""
    parameters = []
    for declared in spec.filters:
        if declared.type == "time":
            parameters.append(inspect.Parameter("time_range", inspect.Parameter.KEYWORD_ONLY,
                                                annotation=TimeRangeDep))
            continue
        if declared.type == "bbox":
            parameters.append(inspect.Parameter("bbox", inspect.Parameter.KEYWORD_ONLY,
                                                annotation=BBoxDep))
            continue
        choices = filter_choices(spec, declared)
        description = declared.description + ("" if declared.type == "bool" else
                                              f" ({REPEATABLE})") + (
            ": " + ", ".join(choices) if choices else "")
        parameters.append(inspect.Parameter(
            declared.name, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[FILTER_TYPES[declared.type], Query(description=description)]))

    def dependency(**values: Any) -> Filters:
        time_range = values.pop("time_range", None)
        return Filters(values, time_range)

    dependency.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return dependency


def _body_parts(body: BaseModel, spatial: bool) -> tuple[dict[str, Any], dict | None]:
    """(field values, GeoJSON geometry) of a create or update body, as sent."""
    shape = body.root if isinstance(body, RootModel) else body
    data = shape.model_dump(mode="json", exclude_unset=True)
    if not spatial:
        return data, None
    if data.get("type") == "Feature":
        return dict(data.get("properties") or {}), data.get("geometry")
    geometry = data.pop("geometry", None)
    return data, geometry


def purpose_dependency(spec: ResourceSpec):
    """The ``purpose`` parameter, on resources with personal fields only."""
    if personal_fields(spec.name):
        def stated(purpose: PurposeQuery = None) -> str | None:
            return purpose
        return stated
    return lambda: None


def resource_router(spec: ResourceSpec) -> APIRouter:
    router = APIRouter(prefix=f"/{spec.name}", tags=[spec.name],
                       route_class=StrictQueryRoute, responses=ERRORS)
    models = MODELS[spec.name]
    filters = Annotated[Filters, Depends(filters_dependency(spec))]
    answer = GeoJSONResponse if spec.spatial else JSONResponse
    purpose = Annotated[str | None, Depends(purpose_dependency(spec))]
    reader = Annotated[Principal, Depends(allow(spec.name, "read"))]
    writer = Annotated[Principal, Depends(allow(spec.name, "write"))]

    @router.get("", summary=f"List {spec.name}", response_model=models.many,
                operation_id=f"list_{spec.name}",
                response_class=answer, responses=media("text/csv"),
                description="Filters, paging (`limit`, `offset`, `next`/`prev` links) and "
                            "sorting; `f=csv` for CSV.")
    def list_rows(request: Request, who: reader, stated: purpose, conn: ConnDep,
                  catalog: CatalogDep, paging: PagingDep, chosen: filters,
                  sort: Annotated[list[str] | None, Query(description=(
                      f"columns ({REPEATABLE}), - before one for descending: "
                      + ", ".join(spec.sortable)))] = None,
                  f: Annotated[Literal["json", "geojson", "csv"], Query(
                      description="output format")] = "json") -> Response:
        time = chosen.time
        q = ListQuery.build(spec, limit=paging.limit, offset=paging.offset, sort=sort or (),
                            filters=chosen.values, start=time.start if time else None,
                            end=time.end if time else None)
        rows, total = Repository(catalog, spec, with_purpose(who, stated)).list(conn, q)
        if f == "csv":
            return csv_response(rows, f"{spec.name}.csv")
        return collection(rows, total, q.limit, q.offset, spec.spatial, str(request.url))

    @router.get("/{row_id:int}", summary=f"Get one of {spec.name}", response_model=models.one,
                operation_id=f"get_{spec.name}",
                response_class=answer)
    def get_row(row_id: int, who: reader, stated: purpose, conn: ConnDep,
                catalog: CatalogDep) -> JSONResponse:
        row = Repository(catalog, spec, with_purpose(who, stated)).get(conn, row_id)
        return single(row, spec.spatial)

    created = {"links": {f"{verb}_{spec.name}": {
        "operationId": f"{verb}_{spec.name}", "parameters": {"row_id": "$response.body#/id"},
        "description": f"{verb} the row just created"} for verb in ("get", "update", "delete")}}

    @router.post("", status_code=201, summary=f"Create one of {spec.name}",
                 operation_id=f"create_{spec.name}", responses={201: created},
                 response_model=models.one, response_class=answer,
                 description="A GeoJSON Feature (WGS84) for spatial resources, else a JSON "
                             "object. Invalid geometry is rejected with the reason unless "
                             "`repair=true`.")
    def create_row(who: writer, conn: ConnDep, catalog: CatalogDep,
                   body: Annotated[models.create, Body()],  # type: ignore[name-defined]
                   repair: Annotated[bool, Query(
                       description="repair invalid polygons when possible")] = False
                   ) -> JSONResponse:
        values, geometry = _body_parts(body, spec.spatial)
        row = Repository(catalog, spec, who).create(conn, values, geometry, repair=repair)
        return single(row, spec.spatial, status=201)

    @router.patch("/{row_id:int}", summary=f"Update one of {spec.name}",
                  operation_id=f"update_{spec.name}",
                  response_model=models.one, response_class=answer,
                  description="Send the version you edited (If-Match: the ETag, ?version=, "
                              "or version in the body); a stale version gets 409.")
    def update_row(row_id: int, who: writer, conn: ConnDep, catalog: CatalogDep,
                   version: VersionDep,
                   body: Annotated[models.update, Body()],  # type: ignore[name-defined]
                   repair: Annotated[bool, Query(
                       description="repair invalid polygons when possible")] = False
                   ) -> JSONResponse:
        values, geometry = _body_parts(body, spec.spatial)
        body_version = values.pop("version", None)
        expected = require_version(body_version if body_version is not None else version)
        row = Repository(catalog, spec, who).update(conn, row_id, expected, values,
                                                    geometry, repair=repair)
        return single(row, spec.spatial)

    @router.delete("/{row_id:int}", status_code=204, summary=f"Delete one of {spec.name}",
                   operation_id=f"delete_{spec.name}",
                   description="With If-Match or ?version=, only if the row is still at "
                               "that version (409 otherwise).")
    def delete_row(row_id: int, who: writer, conn: ConnDep, catalog: CatalogDep,
                   version: VersionDep) -> Response:
        Repository(catalog, spec, who).delete(conn, row_id, version)
        return Response(status_code=204)

    return router
