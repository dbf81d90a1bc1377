"""What the OGC API routes share: the route class that answers bad parameters with 400
(as the standard asks, where the rest of the API answers 422), content negotiation,
CRS URIs, and the parsing of ``bbox``, ``datetime`` and ``crs``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from gridgis.gis.errors import InvalidInput
from gridgis.gis.resources.repository import OutputCrs
from gridgis.gis.times import end_of_day, parse_instant

from .errors import BadRequest, field_name
from .routing import StrictQueryRoute

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
WEB_MERCATOR = 3857
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


class OgcRoute(StrictQueryRoute):
    """Unknown query parameters and malformed values are a 400 naming them."""

    strict = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler() if self.strict else \
            APIRoute.get_route_handler(self)

        async def as_bad_request(request: Request) -> Response:
            try:
                return await handler(request)
            except BadRequest:
                raise
            except InvalidInput as exc:
                raise BadRequest(exc.message, **exc.details) from exc
            except sa.exc.DataError as exc:  # a value the column's type cannot hold
                raise BadRequest("a value is out of range for what it is compared with"
                                 ) from exc
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                raise BadRequest(f"{where}: {first.get('msg', 'invalid request')}",
                                 field=field_name(first.get("loc", ()))) from exc

        return as_bad_request


class OgcOpenQueryRoute(OgcRoute):
    """For routes whose parameters depend on the collection (property filters): the
    handler checks them itself."""

    strict = False


def wants_html(request: Request, f: str | None) -> bool:
    """``f`` decides; without it, a client that accepts HTML (a browser) gets HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def crs_uri(srid: int) -> str:
    return f"{EPSG}{srid}"


def supported_crs(deployment_srid: int) -> list[str]:
    """CRS84 first (the default), then EPSG:4326 (latitude first), the deployment's
    metric CRS and Web Mercator."""
    return [CRS84, *dict.fromkeys(crs_uri(s) for s in (4326, deployment_srid, WEB_MERCATOR))]


def parse_crs(value: str | None, deployment_srid: int, field: str) -> tuple[int, bool]:
    """(EPSG code, latitude first) of a CRS URI (or ``EPSG:n``); CRS84 is (4326, False)."""
    if value is None:
        return 4326, False
    text = value.strip().strip("[]")
    if text in (CRS84, "OGC:CRS84", "CRS84"):
        return 4326, False
    code = text.removeprefix(EPSG).removeprefix("EPSG:")
    if re.fullmatch(r"[0-9]{1,6}", code) and \
            crs_uri(int(code)) in supported_crs(deployment_srid):
        return int(code), int(code) == 4326
    raise InvalidInput(f"{field} {value!r} is not supported here; supported: "
                       + ", ".join(supported_crs(deployment_srid)), field=field)


def output_crs(value: str | None, deployment_srid: int) -> tuple[OutputCrs, str]:
    """The output CRS of ``crs`` and its URI for the Content-Crs header."""
    srid, lat_first = parse_crs(value, deployment_srid, "crs")
    uri = CRS84 if srid == 4326 and not lat_first else crs_uri(srid)
    return OutputCrs(srid, lat_first, 7 if srid == 4326 else 3), uri


def parse_bbox(value: str, srid: int, lat_first: bool) -> tuple[float, float, float, float]:
    """minx,miny,maxx,maxy (or the six numbers of a 3D box) in the bbox's CRS, as
    x-first numbers."""
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise InvalidInput(f"bbox {value!r} is not a list of numbers", field="bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput("bbox needs four numbers (or six, for a 3D box): "
                           "minx,miny,maxx,maxy", field="bbox")
    if lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    west, south, east, north = numbers
    if south > north or west > east:
        raise InvalidInput("bbox must have its lower corner first (minx,miny,maxx,maxy); "
                           "a box across the antimeridian is not supported", field="bbox")
    if srid == 4326 and not (-180 <= west and east <= 180 and -90 <= south and north <= 90):
        raise InvalidInput("bbox in degrees must lie within -180..180 and -90..90",
                           field="bbox")
    return west, south, east, north


def parse_datetime(value: str) -> tuple[datetime | None, datetime | None]:
    """[start, end] of a ``datetime`` parameter: an instant (a date: the whole day) or
    an interval ``start/end`` with ``..`` or nothing for an open end (UTC unless an
    offset is given)."""
    if "/" not in value:
        start = parse_instant(value, "datetime")
        if start is None:
            raise InvalidInput("datetime is empty", field="datetime")
        if len(value.strip()) == 10:  # a date: the whole day
            return start, end_of_day(start)
        return start, start
    first, _, last = value.partition("/")
    if "/" in last:
        raise InvalidInput("datetime has one '/' at most (start/end)", field="datetime")
    start = None if first.strip() in ("", "..") else parse_instant(first, "datetime")
    end = None if last.strip() in ("", "..") else parse_instant(last, "datetime")
    if end is not None and len(last.strip()) == 10:
        end = end_of_day(end)
    if start is None and end is None:
        raise InvalidInput("datetime '../..' bounds nothing; give a start or an end",
                           field="datetime")
    if start is not None and end is not None and end < start:
        raise InvalidInput("datetime ends before it starts", field="datetime")
    return start, end
