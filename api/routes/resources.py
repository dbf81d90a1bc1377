"""The standard routes of a resource: list, get, create, update, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from gridgis.gis.errors import InvalidInput
from gridgis.gis.resources import Query as ListQuery
from gridgis.gis.resources import Repository, ResourceSpec

from ..deps import BBoxDep, CatalogDep, ConnDep, PagingDep, TimeRangeDep, expected_version
from ..geojson import collection, csv_response, parse_body, single

VALUE_FILTERS = ("category", "status", "source", "type", "kind", "level", "use", "risk_level",
                 "residence_type", "state")


def list_query(request: Request, spec: ResourceSpec, paging, bbox, time_range, sort: str | None,
               grid: str | None, grid_id: int | None, community: str | None,
               community_id: int | None, special: str | None,
               synthetic: bool | None) -> ListQuery:
    values = {}
    for name in VALUE_FILTERS:
        raw = request.query_params.get(name)
        if raw is None:
            continue
        if name not in spec.filters:
            raise InvalidInput(f"{spec.name} cannot be filtered by {name!r}", field=name)
        values[name] = [v.strip() for v in raw.split(",") if v.strip()]
    if bbox is not None and "bbox" not in spec.filters:
        raise InvalidInput(f"{spec.name} have no geometry to filter by bbox", field="bbox")
    return ListQuery(limit=paging.limit, offset=paging.offset,
                     sort=[s.strip() for s in sort.split(",") if s.strip()] if sort else [],
                     bbox=bbox, values=values, grid=grid, grid_id=grid_id,
                     community=community, community_id=community_id,
                     start=time_range.start, end=time_range.end,
                     special=[s.strip() for s in special.split(",")] if special else [],
                     synthetic=synthetic)


def _requested_version(request: Request) -> int:
    """The version a write expects, from If-Match or ?version= (see expected_version)."""
    raw = request.query_params.get("version", "")
    return expected_version(request.headers.get("if-match"),
                            int(raw) if raw.isdigit() else None)


def resource_router(spec: ResourceSpec) -> APIRouter:
    router = APIRouter(prefix=f"/{spec.name}", tags=[spec.name])
    filters = ", ".join(sorted(spec.filters)) or "none"

    @router.get("", summary=f"List {spec.name}",
                description=f"Filters: {filters}. Sortable: {', '.join(spec.sortable)} "
                            "(prefix - for descending). `f=csv` for CSV.")
    def list_rows(request: Request, conn: ConnDep, catalog: CatalogDep, paging: PagingDep,
                  bbox: BBoxDep, time_range: TimeRangeDep,
                  sort: Annotated[str | None, Query()] = None,
                  grid: Annotated[str | None, Query(
                      description="grid code in the published plan")] = None,
                  grid_id: Annotated[int | None, Query()] = None,
                  community: Annotated[str | None, Query(description="area code")] = None,
                  community_id: Annotated[int | None, Query()] = None,
                  special: Annotated[str | None, Query(
                      description="people: special groups, comma separated, or any")] = None,
                  synthetic: Annotated[bool | None, Query()] = None,
                  f: Annotated[str, Query(pattern="^(json|geojson|csv)$")] = "json",
                  ) -> Response:
        q = list_query(request, spec, paging, bbox, time_range, sort, grid, grid_id,
                       community, community_id, special, synthetic)
        rows, total = Repository(catalog, spec).list(conn, q)
        if f == "csv":
            return csv_response(rows, f"{spec.name}.csv")
        return collection(rows, total, q.limit, q.offset, spec.spatial, str(request.url))

    @router.get("/{row_id}", summary=f"Get one of {spec.name}")
    def get_row(row_id: int, conn: ConnDep, catalog: CatalogDep) -> JSONResponse:
        return single(Repository(catalog, spec).get(conn, row_id), spec.spatial)

    @router.post("", status_code=201, summary=f"Create one of {spec.name}",
                 description="A GeoJSON Feature (WGS84) for spatial resources, else a JSON "
                             "object. Invalid geometry is rejected with the reason unless "
                             "`repair=true`.")
    def create_row(conn: ConnDep, catalog: CatalogDep, body: Annotated[Any, Body()],
                   repair: Annotated[bool, Query()] = False) -> JSONResponse:
        values, geometry = parse_body(body, spec.spatial, creating=True)
        row = Repository(catalog, spec).create(conn, values, geometry, repair=repair)
        return single(row, spec.spatial, status=201)

    @router.patch("/{row_id}", summary=f"Update one of {spec.name}",
                  description="Send the version you edited (If-Match: the ETag, ?version=, "
                              "or version in the body); a stale version gets 409.")
    def update_row(row_id: int, request: Request, conn: ConnDep, catalog: CatalogDep,
                   body: Annotated[Any, Body()],
                   repair: Annotated[bool, Query()] = False) -> JSONResponse:
        values, geometry = parse_body(body, spec.spatial, creating=False)
        body_version = values.pop("version", None)
        version = body_version if isinstance(body_version, int) else \
            _requested_version(request)
        row = Repository(catalog, spec).update(conn, row_id, version, values, geometry,
                                               repair=repair)
        return single(row, spec.spatial)

    @router.delete("/{row_id}", status_code=204, summary=f"Delete one of {spec.name}")
    def delete_row(row_id: int, request: Request, conn: ConnDep,
                   catalog: CatalogDep) -> Response:
        version = None
        if request.headers.get("if-match") or request.query_params.get("version"):
            version = _requested_version(request)
        Repository(catalog, spec).delete(conn, row_id, version)
        return Response(status_code=204)

    return router
