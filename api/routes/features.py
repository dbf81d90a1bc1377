"""OGC API – Features (Part 1 Core, Part 2 CRS, Part 3 Filtering with CQL2) over the
grid model's located kinds: the landing page ``/`` (the map portal for browsers),
``/conformance``, ``/api``, ``/collections``, ``/collections/{id}``, ``…/queryables``,
``…/items`` and ``…/items/{fid}``, in JSON (GeoJSON) and HTML. Every read goes through
the resources' repository: the same roles, scope, masking and audit as the rest of the
API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import InvalidInput
from gridgis.gis.features.collections import Collection, collection, collections, extent
from gridgis.gis.features.cql2 import FilterLang, parse_filter
from gridgis.gis.features.items import FeatureRequest, FeatureSource, features_of
from gridgis.gis.features.layers import LAYERS, readable
from gridgis.maps.landing import landing_page

from .. import ogc, ogc_html
from ..auth import AnyoneDep, MaybeSignedInDep, PurposeQuery, with_purpose
from ..compression import UNCOMPRESSED
from ..deps import CatalogDep, ConnDep, LaneDep, SettingsDep, StateDep
from ..geojson import (
    GeoJSONResponse,
    json_text,
    raw_feature,
    strong_etag,
    with_offset,
    with_parameter,
)
from ..models.common import ERRORS, media
from ..models.features import (
    CollectionInfo,
    Collections,
    Conformance,
    Landing,
    OgcFeature,
    OgcFeatureCollection,
    Queryables,
)
from .maps import LangQuery

CollectionId = Annotated[str, Path(description="a collection id from /collections")]
router = APIRouter(tags=["OGC API – Features"], route_class=ogc.OgcRoute, responses=ERRORS)
HTML_TOO = media("text/html", description="the same as an HTML page (f=html)",
                 status=200)
FormatQuery = Annotated[Literal["json", "html"] | None, Query(
    description="json (GeoJSON for features) or html; without it, the Accept header")]
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    # vector tiles of every collection (api.routes.feature_tiles)
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    # on the grids of draft plans (api.routes.feature_edits)
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
MAX_OFFSET = 2 ** 62
SCHEMA_TYPES = {"text": {"type": "string"}, "int": {"type": "integer"},
                "float": {"type": "number"}, "bool": {"type": "boolean"},
                "date": {"type": "string", "format": "date"},
                "datetime": {"type": "string", "format": "date-time"}}
GEOMETRY_SCHEMAS = {"point": "Point", "polygon": "MultiPolygon", "line": "MultiLineString"}


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _answer(request: Request, f: str | None, document: dict[str, Any],
            html: Any, media: str = "application/json",
            headers: dict[str, str] | None = None) -> Response:
    headers = {**(headers or {}), "Vary": "Accept"}
    if ogc.wants_html(request, f):
        return HTMLResponse(html(), headers=headers)
    return Response(json_text(document), media_type=media, headers=headers)


@router.get("/", summary="Landing page: the map portal for browsers (Accept: text/html "
            "or f=html), else the OGC API landing page in JSON", response_model=Landing,
            responses=HTML_TOO)
def landing(request: Request, settings: SettingsDep, who: MaybeSignedInDep,
            lang: LangQuery = None, f: FormatQuery = None) -> Response:
    if ogc.wants_html(request, f):
        return HTMLResponse(landing_page(lang or settings.api.lang, who),
                            headers=UNCOMPRESSED)
    return JSONResponse(landing_document(request))


def landing_document(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"title": "gridgis", "description": "网格化管理要素服务 Grid-management GIS: "
            "areas, grids, buildings, places, things, incidents, households and people "
            "as OGC API – Features collections.",
            "links": [
                _link(f"{base}/?f=json", "self", "application/json", "this document"),
                _link(f"{base}/?f=html", "alternate", "text/html", "this document as HTML"),
                _link(f"{base}/api", "service-desc", ogc.OPENAPI, "the API definition"),
                _link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
                _link(f"{base}/conformance", "conformance", "application/json",
                      "conformance classes"),
                _link(f"{base}/collections", "data", "application/json", "collections")]}


@router.get("/conformance", summary="Conformance classes", response_model=Conformance,
            responses=HTML_TOO)
def conformance(request: Request, f: FormatQuery = None) -> Response:
    return _answer(request, f, {"conformsTo": CONFORMANCE},
                   lambda: ogc_html.conformance(CONFORMANCE))


@router.get("/api", summary="The API definition (OpenAPI 3)",
            responses={200: {"content": {ogc.OPENAPI: {"schema": {"type": "object"}},
                                         "text/html": {}}},
                       303: {"description": "f=html: to the documentation page /docs"}})
def api_definition(request: Request, f: FormatQuery = None) -> Response:
    if ogc.wants_html(request, f):
        return HTMLResponse(status_code=303, headers={"Location": "/docs"})
    return JSONResponse(request.app.openapi(), media_type=ogc.OPENAPI)


async def staged_layer(collection_id: CollectionId, who: AnyoneDep, state: StateDep,
                       lane: LaneDep) -> None:
    """A collection of an analysis (``gis.features.layers``) staged for the current
    data before the request's connection is taken: when the data changed, the analysis
    runs in the analytics lane with no connection held. Access is checked by the route
    (a layer the user may not read is not staged)."""
    layer = LAYERS.get(collection_id)
    if layer is None or not layer.analysis or not readable(layer, who):
        return
    layers = state.feature_layers
    if not await anyio.to_thread.run_sync(layers.current, layer.id):
        await lane.run(layers.stage, layer.id)


StagedLayerDep = Annotated[None, Depends(staged_layer)]


def _collection_document(request: Request, conn, catalog, found: Collection,
                         who: Principal) -> dict:
    base = str(request.base_url).rstrip("/")
    here = f"{base}/collections/{found.id}"
    features = features_of(catalog, who, found)
    box, times = extent(conn, found, features.table, catalog.srid, features.visible())
    document: dict[str, Any] = {
        "id": found.id, "title": found.title, "itemType": "feature",
        "description": f"{found.title_en} ({found.title_zh})",
        "crs": ogc.supported_crs(catalog.srid), "storageCrs": ogc.crs_uri(catalog.srid),
        "links": [_link(here, "self", "application/json", "this collection"),
                  _link(f"{here}?f=html", "alternate", "text/html", "this collection as HTML"),
                  _link(f"{here}/items", "items", ogc.GEOJSON, "its features"),
                  _link(f"{here}/items?f=html", "items", "text/html", "its features as HTML"),
                  _link(f"{here}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/"
                        "queryables", "application/schema+json", "what it may be filtered by"),
                  _link(f"{here}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-"
                        "vector", "application/json", "its vector tiles")]}
    extent_doc: dict[str, Any] = {}
    if box is not None:
        extent_doc["spatial"] = {"bbox": [list(box)], "crs": ogc.CRS84}
    if times is not None:
        extent_doc["temporal"] = {"interval": [[t.isoformat() for t in times]],
                                  "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    if extent_doc:
        document["extent"] = extent_doc
    return document


@router.get("/collections", summary="Feature collections", response_model=Collections,
            responses=HTML_TOO)
def list_collections(request: Request, who: AnyoneDep, conn: ConnDep, catalog: CatalogDep,
                     f: FormatQuery = None) -> Response:
    base = str(request.base_url).rstrip("/")
    document = {"links": [_link(f"{base}/collections", "self", "application/json",
                                "collections"),
                          _link(f"{base}/collections?f=html", "alternate", "text/html",
                                "collections as HTML")],
                "collections": [_collection_document(request, conn, catalog, c, who)
                                for c in collections(conn, who)]}
    return _answer(request, f, document, lambda: ogc_html.collections(document))


@router.get("/collections/{collection_id}", summary="A feature collection",
            response_model=CollectionInfo, responses=HTML_TOO)
def get_collection(request: Request, collection_id: CollectionId, who: AnyoneDep,
                   conn: ConnDep, catalog: CatalogDep, f: FormatQuery = None) -> Response:
    document = _collection_document(request, conn, catalog,
                                    collection(conn, who, collection_id), who)
    return _answer(request, f, document, lambda: ogc_html.collection(document))


@router.get("/collections/{collection_id}/queryables", summary="What a collection's "
            "features may be filtered and sorted by (JSON Schema)",
            response_model=Queryables, responses={200: {"content": {
                "application/schema+json": {}, "text/html": {}}}})
def get_queryables(request: Request, collection_id: CollectionId, who: AnyoneDep,
                   conn: ConnDep, catalog: CatalogDep, f: FormatQuery = None) -> Response:
    found = collection(conn, who, collection_id)
    features = features_of(catalog, who, found)
    properties: dict[str, Any] = {}
    for name, queryable in features.queryables.items():
        if name in features.hidden:
            continue
        if queryable.type == "geometry":
            shape = GEOMETRY_SCHEMAS.get(found.geometry or "", "Geometry")
            properties[name] = {"title": "geometry",
                                "$ref": f"https://geojson.org/schema/{shape}.json"}
        else:
            properties[name] = {"title": name, **SCHEMA_TYPES[queryable.type]}
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": str(request.url.remove_query_params("f")), "type": "object",
                "title": found.title, "properties": properties,
                "additionalProperties": False}
    return _answer(request, f, document, lambda: ogc_html.collection(
        {**document, "links": [{"rel": "up", "href": f"/collections/{found.id}"}]}),
        media="application/schema+json")


STANDARD_PARAMETERS = {"limit", "offset", "bbox", "bbox-crs", "datetime", "sortby",
                       "properties", "crs", "filter", "filter-lang", "filter-crs", "f",
                       "purpose"}


def get_items(request: Request, collection_id: CollectionId, who: AnyoneDep,
              staged: StagedLayerDep, conn: ConnDep, catalog: CatalogDep,
              settings: SettingsDep, state: StateDep,
              limit: Annotated[int | None, Query(ge=1, description=(
                  "page size: above the service's maximum, the maximum (follow the next "
                  "link)"))] = None,
              offset: Annotated[int, Query(ge=0, le=MAX_OFFSET,
                                           description="features to skip")] = 0,
              bbox: Annotated[str | None, Query(description=(
                  "minx,miny,maxx,maxy in bbox-crs (default CRS84: lon,lat)"))] = None,
              bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
              datetime_: Annotated[str | None, Query(alias="datetime", description=(
                  "an instant or an interval start/end (.. for open), on the "
                  "collection's time field"))] = None,
              sortby: Annotated[str | None, Query(description=(
                  "properties, comma-separated, - before one for descending"))] = None,
              properties: Annotated[str | None, Query(description=(
                  "the properties to return, comma-separated"))] = None,
              crs: Annotated[str | None, Query(description="the output CRS")] = None,
              filter_: Annotated[str | None, Query(alias="filter", description=(
                  "a CQL2 filter"))] = None,
              filter_lang: Annotated[FilterLang, Query(alias="filter-lang")] = "cql2-text",
              filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
              purpose: PurposeQuery = None, f: FormatQuery = None) -> Response:
    found = collection(conn, who, collection_id)
    _check_purpose(found, purpose)
    features = features_of(catalog, with_purpose(who, purpose), found, state.counts)
    equals = property_filters(request, features)
    output, crs_header = ogc.output_crs(crs, catalog.srid)
    box = None
    bbox_srid = 4326
    if bbox is not None:
        bbox_srid, lat_first = ogc.parse_crs(bbox_crs, catalog.srid, "bbox-crs")
        box = ogc.parse_bbox(bbox, bbox_srid, lat_first)
    elif bbox_crs is not None:
        raise InvalidInput("bbox-crs is given without a bbox", field="bbox-crs")
    start = end = None
    if datetime_ is not None:
        start, end = ogc.parse_datetime(datetime_)
    parsed_filter, filter_srid, filter_lat_first = cql2_filter(
        filter_, filter_lang, filter_crs, catalog.srid)
    page_size = min(limit or settings.api.default_limit, settings.api.max_limit)
    ask = FeatureRequest(
        limit=page_size, offset=offset, bbox=box, bbox_srid=bbox_srid, start=start, end=end,
        timed=datetime_ is not None, equals=equals, sortby=tuple(_split(sortby)),
        filter=parsed_filter, filter_srid=filter_srid, filter_lat_first=filter_lat_first,
        crs=output,
        properties=chosen_properties(properties))
    rows, matched = features.read(conn, ask)
    url = str(request.url)
    links = [_link(url, "self", ogc.GEOJSON, "this page"),
             _link(with_parameter(url, "f", "html"), "alternate", "text/html", "this page as HTML"),
             _link(str(request.base_url) + f"collections/{found.id}", "collection",
                   "application/json", "the collection")]
    if offset + page_size < matched:
        links.append(_link(with_offset(url, offset + page_size), "next", ogc.GEOJSON,
                           "next page"))
    if offset > 0:
        links.append(_link(with_offset(url, max(offset - page_size, 0)), "prev",
                           ogc.GEOJSON, "previous page"))
    document = {"type": "FeatureCollection", "features": [raw_feature(r) for r in rows],
                "numberMatched": matched, "numberReturned": len(rows),
                "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
                "links": links}
    return _answer(request, f, document, lambda: ogc_html.features(found.title, document),
                   media=ogc.GEOJSON, headers={"Content-Crs": f"<{crs_header}>"})


# Its parameters include the collection's queryables: the handler checks them itself.
router.add_api_route(
    "/collections/{collection_id}/items", get_items, methods=["GET"],
    summary="A collection's features", route_class_override=ogc.OgcOpenQueryRoute,
    response_model=OgcFeatureCollection, response_class=GeoJSONResponse, responses=HTML_TOO,
    description="Besides the parameters below, any queryable (see …/queryables) filters "
                "by equality, e.g. `?category=dispute`. Unknown parameters are a 400.")


@router.get("/collections/{collection_id}/items/{feature_id:int}", summary="One feature",
            response_model=OgcFeature, response_class=GeoJSONResponse, responses=HTML_TOO)
def get_item(request: Request, collection_id: CollectionId, feature_id: int,
             who: AnyoneDep, staged: StagedLayerDep, conn: ConnDep, catalog: CatalogDep,
             crs: Annotated[str | None, Query(description="the output CRS")] = None,
             properties: Annotated[str | None, Query(description=(
                 "the properties to return, comma-separated"))] = None,
             purpose: PurposeQuery = None, f: FormatQuery = None) -> Response:
    found = collection(conn, who, collection_id)
    _check_purpose(found, purpose)
    output, crs_header = ogc.output_crs(crs, catalog.srid)
    row = features_of(catalog, with_purpose(who, purpose), found).one(
        conn, feature_id, output, tuple(_split(properties)) if properties else None)
    url = str(request.url)
    document = raw_feature(row)
    document["links"] = [
        _link(url, "self", ogc.GEOJSON, "this feature"),
        _link(with_parameter(url, "f", "html"), "alternate", "text/html", "this feature as HTML"),
        _link(str(request.base_url) + f"collections/{found.id}", "collection",
              "application/json", "the collection")]
    headers = {"Content-Crs": f"<{crs_header}>"}
    if "version" in row:  # strong: If-Match compares strongly (Part 4)
        headers["ETag"] = strong_etag(row)
    return _answer(request, f, document, lambda: ogc_html.feature(
        f"{found.title} {feature_id}", document), media=ogc.GEOJSON, headers=headers)


def _check_purpose(found: Collection, purpose: str | None) -> None:
    """A purpose unmasks personal fields: the layers beside the resources have none."""
    if purpose is not None and found.layer is not None:
        raise InvalidInput(f"collection {found.id} has no personal field for a purpose to "
                           "unmask; leave purpose out", field="purpose")


def cql2_filter(text: str | None, lang: FilterLang, crs: str | None, srid: int
                ) -> tuple[Any, int, bool]:
    """The ``filter`` parameter parsed (None when not given), with the EPSG code of its
    geometries and whether they are latitude first (``filter-crs``, which needs a
    filter)."""
    if text is None:
        if crs is not None:
            raise InvalidInput("filter-crs is given without a filter", field="filter-crs")
        return None, 4326, False
    return (parse_filter(text, lang), *ogc.parse_crs(crs, srid, "filter-crs"))


def chosen_properties(text: str | None) -> tuple[str, ...] | None:
    """The ``properties`` parameter: the names given, or None when not given (all)."""
    return tuple(_split(text)) if text is not None else None


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def property_filters(request: Request, features: FeatureSource,
                     standard: set[str] | None = None) -> dict[str, str]:
    """The queryables given as parameters (equality filters); any other parameter that
    is not one of the route's ``standard`` ones (default: the items route's) is a 400
    naming it, and so is a parameter given twice."""
    standard = STANDARD_PARAMETERS if standard is None else standard
    equals: dict[str, str] = {}
    for name in dict.fromkeys(request.query_params.keys()):
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise InvalidInput(f"{name} is given {len(values)} times; give it once",
                               field=name)
        if name in standard:
            continue
        if not features.is_queryable(name):
            raise InvalidInput(
                f"unknown query parameter {name!r}; this route takes: "
                + ", ".join(sorted(standard)) + ", or a queryable: "
                + ", ".join(n for n in features.queryables if n != "geometry"
                            and n not in features.hidden), field=name)
        equals[name] = values[0]
    return equals

