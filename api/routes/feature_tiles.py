"""Vector tiles of the collections (OGC API – Tiles, WebMercatorQuad, Mapbox Vector
Tiles): ``/tileMatrixSets``, ``/collections/{id}/tiles``, its tileset with a TileJSON
document, and the tiles ``…/tiles/WebMercatorQuad/{z}/{x}/{y}``, made by PostGIS from
what the user reaches (``gis.features.tiles``). A tile's ETag is the hash of its bytes:
a client sending it back in If-None-Match gets a 304 without the tile."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from gridgis.gis.errors import NotFound
from gridgis.gis.features.collections import collection, extent
from gridgis.gis.features.items import Features
from gridgis.gis.features.tiles import MAX_ZOOM, TMS, fields, make_tile

from .. import ogc
from ..auth import AnyoneDep
from ..deps import CatalogDep, ConnDep
from ..models.common import ERRORS, Responses

router = APIRouter(tags=["OGC API – Tiles"], route_class=ogc.OgcRoute, responses=ERRORS)
MVT = "application/vnd.mapbox-vector-tile"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
JSON_TYPES = {"text": "String", "int": "Number", "float": "Number", "bool": "Boolean",
              "date": "String", "datetime": "String"}
OBJECT: Responses = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}}


def _check_matrix_set(name: str) -> None:
    if name != TMS.id:
        raise NotFound(f"no tile matrix set {name!r}; this service has {TMS.id}")


@router.get("/tileMatrixSets", summary="Tile matrix sets", responses=OBJECT)
def tile_matrix_sets(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    return JSONResponse({"tileMatrixSets": [{
        "id": TMS.id, "title": TMS.title, "uri": TMS_URI,
        "links": [{"rel": "self", "type": "application/json",
                   "href": f"{base}/tileMatrixSets/{TMS.id}"}]}]})


@router.get("/tileMatrixSets/{tile_matrix_set}", summary="A tile matrix set",
            responses=OBJECT)
def tile_matrix_set(tile_matrix_set: str) -> JSONResponse:
    _check_matrix_set(tile_matrix_set)
    return JSONResponse(TMS.model_dump(mode="json", exclude_none=True))


def _tileset(request: Request, collection_id: str) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    here = f"{base}/collections/{collection_id}/tiles/{TMS.id}"
    return {"title": f"{collection_id} tiles", "tileMatrixSetURI": TMS_URI,
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857", "dataType": "vector",
            "links": [
                {"rel": "self", "type": "application/json", "href": here},
                {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                 "type": "application/json", "href": f"{base}/tileMatrixSets/{TMS.id}"},
                {"rel": "item", "type": MVT, "templated": True,
                 "href": f"{here}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"},
                {"rel": "describedby", "type": "application/json",
                 "href": f"{here}/tilejson.json", "title": "TileJSON"}]}


@router.get("/collections/{collection_id}/tiles", summary="A collection's tilesets",
            responses=OBJECT)
def tilesets(request: Request, collection_id: str, who: AnyoneDep,
             conn: ConnDep) -> JSONResponse:
    found = collection(conn, who, collection_id)
    return JSONResponse({"tilesets": [_tileset(request, found.id)]})


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set}",
            summary="A collection's tileset", responses=OBJECT)
def tileset(request: Request, collection_id: str, tile_matrix_set: str, who: AnyoneDep,
            conn: ConnDep) -> JSONResponse:
    found = collection(conn, who, collection_id)
    _check_matrix_set(tile_matrix_set)
    return JSONResponse(_tileset(request, found.id))


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set}/tilejson.json",
            summary="A collection's tiles as a TileJSON document (for web maps)",
            responses=OBJECT)
def tilejson(request: Request, collection_id: str, tile_matrix_set: str, who: AnyoneDep,
             conn: ConnDep, catalog: CatalogDep) -> JSONResponse:
    found = collection(conn, who, collection_id)
    _check_matrix_set(tile_matrix_set)
    features = Features(catalog, who, found)
    box, _ = extent(conn, found, features.table, catalog.srid,
                    features.repository.guard.visible())
    base = str(request.base_url).rstrip("/")
    document: dict[str, Any] = {
        "tilejson": "3.0.0", "name": found.title, "scheme": "xyz",
        "tiles": [f"{base}/collections/{found.id}/tiles/{TMS.id}/{{z}}/{{x}}/{{y}}"],
        "minzoom": 0, "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": found.id, "fields": {
            name: JSON_TYPES[kind] for name, kind in fields(features).items()}}]}
    if box is not None:
        document["bounds"] = list(box)
    return JSONResponse(document)


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set}/{z:int}/{x:int}/{y:int}",
            summary="A vector tile (Mapbox Vector Tile)", response_class=Response,
            responses={200: {"content": {MVT: {"schema": {"type": "string",
                                                          "format": "binary"}}}},
                       204: {"description": "an empty tile"},
                       304: {"description": "unchanged since the ETag sent"}})
def get_tile(collection_id: str, tile_matrix_set: str, z: int, x: int, y: int,
             who: AnyoneDep, conn: ConnDep, catalog: CatalogDep,
             if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None
             ) -> Response:
    found = collection(conn, who, collection_id)
    _check_matrix_set(tile_matrix_set)
    tile = make_tile(conn, Features(catalog, who, found), z, x, y)
    tag = f'"{hashlib.sha256(tile.data).hexdigest()[:32]}"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache",
               "Vary": "Authorization, Cookie"}
    if tile.truncated:
        headers["X-Tile-Truncated"] = "true"
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    if not tile.data:
        return Response(status_code=204, headers=headers)
    return Response(tile.data, media_type=MVT, headers=headers)
