"""Mapbox Vector Tiles of a collection in the WebMercatorQuad tile matrix set, made by
PostGIS (``ST_AsMVT``) from the rows the user reaches, with their unmasked fields only.

Per zoom: polygons and lines are simplified to half a pixel before they are clipped and
quantised; points are drawn one by one from ``POINT_DETAIL_ZOOM`` and, below it, as
clusters of the points in each ``CLUSTER_PX``-pixel cell with their ``count`` (a city's
million incidents stay a small tile at every zoom); no tile carries more than
``MAX_FEATURES`` features (``truncated`` says when a tile was cut).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import morecantile
import sqlalchemy as sa

from ..access import audit
from ..access.masking import personal_fields
from ..crs import deployment_area
from ..errors import InvalidInput
from .items import Features

TMS = morecantile.tms.get("WebMercatorQuad")
MAX_ZOOM = 22
EXTENT = 4096  # the tile's integer coordinate space
BUFFER = 64  # of EXTENT: geometry kept beyond the tile's edge, so strokes join
MAX_FEATURES = 20_000
POINT_DETAIL_ZOOM = 15
CLUSTER_PX = 8
WORLD_M = 2 * 20037508.342789244  # the width of the Web Mercator world


@dataclass(frozen=True)
class Tile:
    data: bytes
    truncated: bool


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom {z} is outside 0..{MAX_ZOOM}", field="tileMatrix")
    if not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise InvalidInput(f"tile {x}/{y} does not exist at zoom {z} (0..{2 ** z - 1})",
                           field="tileCol" if not 0 <= x < 2 ** z else "tileRow")


def fields(features: Features) -> dict[str, str]:
    """The properties a tile carries (name → queryable type): the collection's
    queryables but the personal ones, which no tile carries (a map needs none, and the
    items, which do, are where reading them is asked for and audited)."""
    personal = set(personal_fields(features.found.resource))
    return {name: q.type for name, q in features.queryables.items()
            if q.type != "geometry" and name not in personal}


def make_tile(conn: sa.Connection, features: Features, z: int, x: int, y: int) -> Tile:
    check_tile(z, x, y)
    repository = features.repository
    repository.guard.check_read()
    bounds = TMS.bounds(morecantile.Tile(x, y, z))
    inside = deployment_area(features.catalog.srid).clip(
        (bounds.left, bounds.bottom, bounds.right, bounds.top))
    if inside is None:  # nothing can lie where the deployment's CRS does not reach
        return Tile(b"", False)
    table = features.table
    srid = features.catalog.srid
    pixel = WORLD_M / 256 / 2 ** z
    envelope = sa.func.ST_TileEnvelope(z, x, y)
    reach = sa.func.ST_Transform(sa.func.ST_Segmentize(sa.func.ST_MakeEnvelope(
        *inside, 4326), 0.01), srid)
    where = [*features.found.where(table), *repository.guard.visible(),
             table.c.geom.op("&&")(reach)]
    point = features.found.spec.kind.geometry == "point"
    if point and z < POINT_DETAIL_ZOOM:
        # clustered where the points are stored (metres), so that only the clusters'
        # centres are projected: a Web Mercator metre is cos(latitude) ground metres
        latitude = math.radians((bounds.bottom + bounds.top) / 2)
        cell = pixel * CLUSTER_PX * math.cos(latitude)
        east, north = sa.func.ST_X(table.c.geom), sa.func.ST_Y(table.c.geom)
        clusters = sa.select(sa.func.count().label("count"), sa.func.avg(east).label("x"),
                             sa.func.avg(north).label("y")).where(*where).group_by(
            sa.func.floor(east / cell), sa.func.floor(north / cell)).subquery("clusters")
        centre = sa.func.ST_SetSRID(sa.func.ST_MakePoint(clusters.c.x, clusters.c.y), srid)
        rows = sa.select(clusters.c.count, sa.func.ST_AsMVTGeom(
            sa.func.ST_Transform(centre, 3857), envelope, EXTENT, BUFFER, True
        ).label("geom")).limit(MAX_FEATURES + 1)
    else:
        shape: Any = table.c.geom if point else \
            sa.func.ST_SimplifyPreserveTopology(table.c.geom, pixel / 2)
        rows = sa.select(*_properties(features), sa.func.ST_AsMVTGeom(
            sa.func.ST_Transform(shape, 3857), envelope, EXTENT, BUFFER, True
        ).label("geom")).where(*where).order_by(table.c.id).limit(MAX_FEATURES + 1)
    kept = rows.cte("kept")
    shown = sa.select(kept).where(kept.c.geom.isnot(None)).limit(MAX_FEATURES).subquery("q")
    mvt = sa.select(sa.func.ST_AsMVT(sa.literal_column("q"), features.found.id, EXTENT,
                                     "geom", *(["id"] if "id" in shown.c else []))
                    ).select_from(shown).scalar_subquery()
    count = sa.select(sa.func.count()).select_from(kept).where(
        kept.c.geom.isnot(None)).scalar_subquery()
    data, total = conn.execute(sa.select(mvt, count)).one()
    who = repository.guard.who
    if total and who.audited_read(features.found.resource):  # where they are is personal
        audit.record(conn, who, audit.Entry(
            "read", features.found.resource,
            detail=f"vector tile {z}/{x}/{y}: {min(total, MAX_FEATURES)} features"))
    return Tile(bytes(data or b""), total > MAX_FEATURES)


def _properties(features: Features) -> list[Any]:
    columns = []
    for name, kind in fields(features).items():
        column = features.queryables[name].column
        # MVT values are strings, numbers and booleans: times go as ISO 8601 text
        columns.append((sa.func.to_char(sa.func.timezone("UTC", column),
                                        'YYYY-MM-DD"T"HH24:MI:SS"Z"') if kind == "datetime"
                        else sa.cast(column, sa.Text) if kind == "date" else column
                        ).label(name))
    return columns
