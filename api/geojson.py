"""GeoJSON (RFC 7946) and CSV shapes of resource rows."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import orjson
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """JSON in the GeoJSON media type (RFC 7946); as a route's ``response_class`` it puts
    the response model under that media type in the OpenAPI document."""

    media_type = GEOJSON


def raw_feature(row: dict) -> dict:
    """A row as a Feature, its values as they are (for :func:`json_text`)."""
    row = dict(row)
    geometry = row.pop("_geometry", None)
    return {"type": "Feature", "id": row.get("id"), "geometry": geometry,
            "properties": row}


def feature(row: dict) -> dict:
    shaped = raw_feature(row)
    shaped["properties"] = jsonable_encoder(shaped["properties"])
    return shaped


def json_text(document: Any) -> bytes:
    """The document as compact UTF-8 JSON: a thousand features a page, so by orjson
    rather than FastAPI's generic encoder walking each value (times are ISO 8601, as
    ``isoformat`` writes them; decimals and UUIDs are converted here)."""
    return orjson.dumps(document, default=_plain, option=orjson.OPT_NON_STR_KEYS)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):  # as FastAPI writes them: whole ones as integers
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        return value.item()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def etag(row: dict) -> str:
    return f'W/"{row["version"]}"'


def strong_etag(row: dict) -> str:
    """For If-Match, which compares strongly (OGC API – Features Part 4)."""
    return f'"{row["version"]}"'


def single(row: dict, spatial: bool, status: int = 200) -> JSONResponse:
    body = feature(row) if spatial else jsonable_encoder(row)
    headers = {"ETag": etag(row)} if "version" in row else {}
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type=GEOJSON if spatial else "application/json")


def collection(rows: list[dict], total: int, limit: int, offset: int, spatial: bool,
               base_url: str) -> JSONResponse:
    links = []
    if offset + limit < total:
        links.append({"rel": "next", "href": with_offset(base_url, offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "href": with_offset(base_url, max(offset - limit, 0))})
    if spatial:
        body: dict[str, Any] = {"type": "FeatureCollection",
                                "features": [feature(r) for r in rows]}
    else:
        body = {"items": jsonable_encoder(rows)}
    body.update({"numberMatched": total, "numberReturned": len(rows), "limit": limit,
                 "offset": offset, "links": links})
    return JSONResponse(body, media_type=GEOJSON if spatial else "application/json")


def with_offset(url: str, offset: int) -> str:
    return with_parameter(url, "offset", str(offset))


def with_parameter(url: str, name: str, value: str) -> str:
    """The URL with query parameter ``name`` set to ``value`` (and no other value)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def csv_response(rows: list[dict], filename: str) -> Response:
    """Rows as CSV; point geometry as lon/lat, other geometry as WKT-free GeoJSON text."""
    buffer = io.StringIO()
    flat = []
    for row in rows:
        row = dict(row)
        geometry = row.pop("_geometry", None)
        if geometry and geometry.get("type") == "Point":
            row["lon"], row["lat"] = geometry["coordinates"][:2]
        elif geometry:
            import json

            row["geometry"] = json.dumps(geometry, separators=(",", ":"))
        flat.append(jsonable_encoder(row))
    fields: list[str] = []
    for row in flat:
        fields += [k for k in row if k not in fields]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in flat)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value
