"""Mapbox Vector Tiles of a collection in the WebMercatorQuad tile matrix set, made by
PostGIS (``ST_AsMVT``) from the rows the user reaches, with their unmasked fields only.

Per zoom: polygons and lines smaller than a pixel are left out (a city's 300,000
buildings are not drawn at the zoom that shows the whole city) and the rest simplified
to half a pixel before they are clipped and quantised; points are drawn one by one
from ``POINT_DETAIL_ZOOM`` and, below it, as clusters of the points in each
``CLUSTER_PX``-pixel cell with their ``count`` (a city's million incidents stay a small
tile at every zoom); no tile carries more than
``MAX_FEATURES`` features (``truncated`` says when a tile was cut).

Tiles are kept in the owner's cache keyed by the versions of the tables they are made
from (``gis.versions``) and the reader's scope, so that a tile is made once per change
of its data; a tile of rows whose reads are audited is audited on every read, also
when it comes from the cache.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import morecantile
import sqlalchemy as sa

from ..crs import deployment_area
from ..errors import InvalidInput
from ..replica import Reads
from ..services.cache import SizedCache
from ..versions import table_version
from .cells import CELL_M, cell_categories, cell_clusters
from .items import FeatureRequest, FeatureSource

TMS = morecantile.tms.get("WebMercatorQuad")
MAX_ZOOM = 22
EXTENT = 4096  # the tile's integer coordinate space
BUFFER = 64  # of EXTENT: geometry kept beyond the tile's edge, so strokes join
MAX_FEATURES = 20_000
# Below this zoom road tiles carry the major classes only, as web maps draw streets: a
# city's 80,000 street segments would fill every tile of the view that shows the city
MINOR_ROADS_ZOOM = 14
MAJOR_ROADS = ("motorway", "motorway_link", "trunk", "trunk_link", "primary",
               "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link")
POINT_DETAIL_ZOOM = 15
CLUSTER_PX = 8
GZIP_LEVEL = 6
FEATURE_ID = "_fid"  # the column ST_AsMVT takes the feature ids from (and leaves out)
WORLD_M = 2 * 20037508.342789244  # the width of the Web Mercator world


@dataclass(frozen=True)
class Tile:
    data: bytes
    truncated: bool
    features: int = 0

    @functools.cached_property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.data).hexdigest()[:32]}"'

    @functools.cached_property
    def gzipped(self) -> bytes:
        """Compressed once however often it is served (MVT shrinks to about a third)."""
        return gzip.compress(self.data, compresslevel=GZIP_LEVEL, mtime=0)


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom {z} is outside 0..{MAX_ZOOM}", field="tileMatrix")
    if not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise InvalidInput(f"tile {x}/{y} does not exist at zoom {z} (0..{2 ** z - 1})",
                           field="tileCol" if not 0 <= x < 2 ** z else "tileRow")


def vector_tile(conn: sa.Connection, features: FeatureSource, z: int, x: int, y: int,
                cache: SizedCache | None = None, request: FeatureRequest | None = None,
                variant: str = "", reads: Reads | None = None) -> Tile:
    """The tile as ``features``' reader may see it, of the features ``request`` selects
    (its datetime, property filters and CQL2 filter; ``variant`` is their text, for the
    cache's key), from ``cache`` when its data have not changed since it was made.
    ``conn`` reads the versions and writes the audit; the tile is made from ``reads``
    (a replica caught up with ``conn``'s database: :mod:`~gridgis.gis.replica`) when
    given."""
    check_tile(z, x, y)
    features.check_read()
    _check_properties(features, request)
    # the selection is checked whether or not the tile is kept: filtering by a field
    # masked for this reader is refused, also when another reader's tile would answer
    conditions = features.conditions(request) if request is not None else \
        features.found.where(features.table)
    key = None
    if cache is not None:
        key = (features.found.id, features.found.value, z, x, y, variant,
               table_version(conn, features.tables), features.view(), features.hidden)
        tile = cache.get(key)
        if tile is not None:
            features.audit_tile(conn, tile.features, f"{z}/{x}/{y}")
            return tile
    properties = request.properties if request is not None else None
    categories = cell_categories(features, request)
    if reads is None:
        tile = make_tile(conn, features, z, x, y, conditions, properties, categories)
    else:
        with reads.beside(conn) as reading:
            tile = make_tile(reading, features, z, x, y, conditions, properties, categories)
    features.audit_tile(conn, tile.features, f"{z}/{x}/{y}")
    if key is not None:
        cache.put(key, tile, len(tile.data) + len(tile.gzipped) + 100)  # type: ignore[union-attr]
    return tile


def make_tile(conn: sa.Connection, features: FeatureSource, z: int, x: int, y: int,
              conditions: list[Any], properties: tuple[str, ...] | None = None,
              cells_for: tuple[str, ...] | None = None) -> Tile:
    """The tile made now of the rows meeting ``conditions``, carrying ``properties``
    (None: all the tiles carry); clusters of the cells' size or more are counted
    from the incidents' cells when ``cells_for`` says they may be (the
    categories ``conditions`` keep: see :mod:`.cells`); no check, no audit: see
    :func:`vector_tile`."""
    bounds = TMS.bounds(morecantile.Tile(x, y, z))
    inside = deployment_area(features.catalog.srid).clip(
        (bounds.left, bounds.bottom, bounds.right, bounds.top))
    if inside is None:  # nothing can lie where the deployment's CRS does not reach
        return Tile(b"", False)
    table = features.table
    srid = features.catalog.srid
    # a pixel in metres on the ground, where the CRS's metres are: a Web Mercator metre
    # is cos(latitude) ground metres
    ground = WORLD_M / 256 / 2 ** z * math.cos(math.radians((bounds.bottom + bounds.top) / 2))
    envelope = sa.func.ST_TileEnvelope(z, x, y)
    reach = sa.func.ST_Transform(sa.func.ST_Segmentize(sa.func.ST_MakeEnvelope(
        *inside, 4326), 0.01), srid)
    where = [*conditions, *features.visible(), table.c.geom.op("&&")(reach)]
    point = features.found.geometry == "point"
    if point and z < POINT_DETAIL_ZOOM:
        # clustered where the points are stored (metres), so that only the clusters'
        # centres are projected
        cell = ground * CLUSTER_PX
        east, north = sa.func.ST_X(table.c.geom), sa.func.ST_Y(table.c.geom)
        if cells_for is not None and cell >= CELL_M:
            clusters = cell_clusters(reach, cell, cells_for)
        else:
            clusters = sa.select(sa.func.count().label("count"),
                                 sa.func.avg(east).label("x"), sa.func.avg(north).label("y")
                                 ).where(*where).group_by(sa.func.floor(east / cell),
                                                          sa.func.floor(north / cell)
                                                          ).subquery("clusters")
        centre = sa.func.ST_SetSRID(sa.func.ST_MakePoint(clusters.c.x, clusters.c.y), srid)
        rows = sa.select(clusters.c.count, sa.func.ST_AsMVTGeom(
            sa.func.ST_Transform(centre, 3857), envelope, EXTENT, BUFFER, True
        ).label("geom")).limit(MAX_FEATURES + 1)
    elif features.found.id == "roads" and z < MINOR_ROADS_ZOOM:
        rows = _streets(table, _properties(features, properties),
                        [*where, table.c.highway.in_(MAJOR_ROADS)], ground, envelope)
    else:
        shape: Any = table.c.geom if point else \
            sa.func.ST_SimplifyPreserveTopology(table.c.geom, ground / 2)
        if features.found.geometry == "polygon":
            where.append(sa.func.ST_Area(table.c.geom) >= ground ** 2)
        elif features.found.geometry == "line":
            where.append(sa.func.ST_Length(table.c.geom) >= ground)
        # the id both as the MVT feature id and as a property: web map libraries
        # (Leaflet.VectorGrid) hand a feature's properties to their events, not its id
        rows = sa.select(*_properties(features, properties), table.c.id.label(FEATURE_ID),
                         sa.func.ST_AsMVTGeom(
            sa.func.ST_Transform(shape, 3857), envelope, EXTENT, BUFFER, True
        ).label("geom")).where(*where).order_by(table.c.id).limit(MAX_FEATURES + 1)
    kept = rows.cte("kept")
    shown = sa.select(kept).where(kept.c.geom.isnot(None)).limit(MAX_FEATURES).subquery("q")
    mvt = sa.select(sa.func.ST_AsMVT(sa.literal_column("q"), features.found.id, EXTENT,
                                     "geom", *([FEATURE_ID] if FEATURE_ID in shown.c else []))
                    ).select_from(shown).scalar_subquery()
    count = sa.select(sa.func.count()).select_from(kept).where(
        kept.c.geom.isnot(None)).scalar_subquery()
    # The planner's estimate for a city's clusters passes the JIT threshold, and
    # compiling the query then takes longer than running it (140 of 250 ms, measured).
    # Nor are parallel workers started: a map asks for its view's tiles at once, which
    # keep every core busy, and a city's road tile waited 190 ms for its worker alone.
    conn.execute(sa.text("SET LOCAL jit = off"))
    conn.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    data, total = conn.execute(sa.select(mvt, count)).one()
    return Tile(bytes(data or b""), total > MAX_FEATURES, min(total, MAX_FEATURES))


def _streets(table: Any, properties: list[Any], where: list[Any], ground: float,
             envelope: Any) -> sa.Select:
    """Road tiles below ``MINOR_ROADS_ZOOM``: the segments of a street (the same carried
    properties) as one feature, merged into lines where they meet, as web maps generalise
    roads at small scales. A road network noded at every junction (as routing needs it)
    has a segment per block side, and a browser spends its time per feature, not per
    vertex: a city's view held 8,400 two-point segments. Merged features carry no id.
    A street is kept when its length in the tile's reach is a pixel or more, however
    short its segments."""
    properties = [column for column in properties if column.name != "id"]
    merged = sa.func.ST_LineMerge(sa.func.ST_Collect(table.c.geom))
    return sa.select(*properties, sa.func.ST_AsMVTGeom(
        sa.func.ST_Transform(sa.func.ST_SimplifyPreserveTopology(merged, ground / 2), 3857),
        envelope, EXTENT, BUFFER, True).label("geom")
    ).where(*where).group_by(*(column.element for column in properties)).having(
        sa.func.sum(sa.func.ST_Length(table.c.geom)) >= ground).limit(MAX_FEATURES + 1)


def _check_properties(features: FeatureSource, request: FeatureRequest | None) -> None:
    """The properties asked for are ones the tiles carry (clusters, below the point
    detail zoom, carry only their count, whatever is asked)."""
    fields = features.tile_fields()
    unknown = [name for name in (request.properties or ()) if name not in fields] \
        if request is not None else []
    if unknown:
        raise InvalidInput(f"properties names {unknown[0]!r}, which tiles of "
                           f"{features.found.id} do not carry; they carry: "
                           + ", ".join(fields), field="properties")


def _properties(features: FeatureSource, chosen: tuple[str, ...] | None) -> list[Any]:
    columns = []
    for name, kind in features.tile_fields().items():
        if chosen is not None and name not in chosen:
            continue
        column = features.queryables[name].column
        # MVT values are strings, numbers and booleans: times go as ISO 8601 text
        columns.append((sa.func.to_char(sa.func.timezone("UTC", column),
                                        'YYYY-MM-DD"T"HH24:MI:SS"Z"') if kind == "datetime"
                        else sa.cast(column, sa.Text) if kind == "date" else column
                        ).label(name))
    return columns
