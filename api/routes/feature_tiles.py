"""Vector tiles of the collections (OGC API – Tiles, WebMercatorQuad, Mapbox Vector
Tiles): ``/tileMatrixSets``, ``/collections/{id}/tiles``, its tileset with a TileJSON
document, and the tiles ``…/tiles/WebMercatorQuad/{z}/{x}/{y}``, made by PostGIS from
what the user reaches (``gis.features.tiles``). A tile's ETag is the hash of its bytes:
a client sending it back in If-None-Match gets a 304 without the tile."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from gridgis.gis.errors import NotFound
from gridgis.gis.features.collections import collection, extent
from gridgis.gis.features.cql2 import FilterLang
from gridgis.gis.features.items import FeatureRequest, features_of
from gridgis.gis.features.tiles import MAX_ZOOM, TMS, vector_tile

from .. import ogc
from ..auth import AnyoneDep
from ..deps import CatalogDep, ConnDep, StateDep
from ..models.common import ERRORS, Responses
from .features import StagedLayerDep, chosen_properties, cql2_filter, property_filters

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
    features = features_of(catalog, who, found)
    box, _ = extent(conn, found, features.table, catalog.srid, features.visible())
    base = str(request.base_url).rstrip("/")
    document: dict[str, Any] = {
        "tilejson": "3.0.0", "name": found.title, "scheme": "xyz",
        "tiles": [f"{base}/collections/{found.id}/tiles/{TMS.id}/{{z}}/{{x}}/{{y}}"],
        "minzoom": 0, "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": found.id, "fields": {
            name: JSON_TYPES[kind] for name, kind in features.tile_fields().items()}}]}
    if box is not None:
        document["bounds"] = list(box)
    return JSONResponse(document)


TILE_PARAMETERS = {"datetime", "filter", "filter-lang", "filter-crs", "properties", "f"}


def get_tile(request: Request, collection_id: str, tile_matrix_set: str, z: int, x: int,
             y: int, who: AnyoneDep, staged: StagedLayerDep, conn: ConnDep,
             catalog: CatalogDep, state: StateDep,
             datetime_: Annotated[str | None, Query(alias="datetime", description=(
                 "only the features at an instant or in an interval start/end (.. for "
                 "open), on the collection's time field"))] = None,
             filter_: Annotated[str | None, Query(alias="filter", description=(
                 "only the features a CQL2 filter selects"))] = None,
             filter_lang: Annotated[FilterLang, Query(alias="filter-lang")] = "cql2-text",
             filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
             properties: Annotated[str | None, Query(description=(
                 "the properties the features carry, comma-separated (default: all "
                 "in the TileJSON document)"))] = None,
             f: Annotated[Literal["mvt"] | None, Query(description="mvt (the default)")]
             = None,
             if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None
             ) -> Response:
    found = collection(conn, who, collection_id)
    features = features_of(catalog, who, found)
    equals = property_filters(request, features, TILE_PARAMETERS)  # a bad one first
    _check_matrix_set(tile_matrix_set)
    parsed_filter, filter_srid, lat_first = cql2_filter(filter_, filter_lang, filter_crs,
                                                        catalog.srid)
    selection = None
    if datetime_ is not None or filter_ is not None or equals or properties is not None:
        start, end = ogc.parse_datetime(datetime_) if datetime_ is not None else (None, None)
        selection = FeatureRequest(
            start=start, end=end, timed=datetime_ is not None, equals=equals,
            filter=parsed_filter, filter_srid=filter_srid, filter_lat_first=lat_first,
            properties=chosen_properties(properties))
    variant = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items())
                       if k != "f")
    tile = vector_tile(conn, features, z, x, y, state.vector_tiles, selection, variant,
                      state.reads)
    # compressed when the client takes it: a representation of its own, with its own ETag
    compressed = "gzip" in request.headers.get("accept-encoding", "") and bool(tile.data)
    tag = tile.etag[:-1] + '-gz"' if compressed else tile.etag
    headers = {"ETag": tag, "Cache-Control": "private, no-cache",
               "Vary": "Authorization, Cookie, Accept-Encoding"}
    if tile.truncated:
        headers["X-Tile-Truncated"] = "true"
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    if not tile.data:
        return Response(status_code=204, headers=headers)
    if compressed:
        return Response(tile.gzipped, media_type=MVT,
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(tile.data, media_type=MVT, headers=headers)


# Its parameters include the collection's queryables: the handler checks them itself.
router.add_api_route(
    "/collections/{collection_id}/tiles/{tile_matrix_set}/{z:int}/{x:int}/{y:int}", get_tile,
    methods=["GET"], summary="A vector tile (Mapbox Vector Tile)", response_class=Response,
    route_class_override=ogc.OgcOpenQueryRoute,
    description="Besides `datetime` and `filter`, any queryable (see …/queryables) "
                "selects by equality, e.g. `?category=dispute`. Unknown parameters are a "
                "400.",
    responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
               204: {"description": "an empty tile"},
               304: {"description": "unchanged since the ETag sent"}})
