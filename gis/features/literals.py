"""Geometries a request sends (a bbox in some CRS, a filter's geometry literal) moved
into the table's CRS the way list filters move a bbox: the part inside the deployment
area only (only it can be projected, and only it can hold rows), densified so that a
straight edge in degrees becomes the curve it is once projected. The work is pyproj's,
in Python, so a coordinate no projection can take is a 400 and never a database error.
"""

from __future__ import annotations

from functools import cache

import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from ..crs import deployment_area
from ..errors import InvalidInput

SEGMENT_DEG = 0.01  # about 1 km


@cache
def _transformer(source: int, target: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_table_crs(shape: BaseGeometry, source_srid: int, table_srid: int, *,
                 lat_first: bool = False, field: str = "filter") -> BaseGeometry:
    """``shape`` (in ``source_srid``; latitude first if ``lat_first``) in the table's CRS,
    cut to the deployment area (an empty geometry when they do not meet)."""
    if lat_first:
        shape = shapely.transform(shape, lambda xy: xy[:, ::-1])
    if source_srid == table_srid:
        return shape
    try:
        lonlat = shape if source_srid == 4326 else shapely.transform(
            shape, lambda xy: _projected(xy, source_srid, 4326))
        area = shapely.box(*deployment_area(table_srid).lonlat)
        inside = shapely.intersection(shapely.make_valid(lonlat), area)
        if inside.is_empty:
            return inside
        dense = shapely.segmentize(inside, SEGMENT_DEG)
        moved = shapely.transform(dense, lambda xy: _projected(xy, 4326, table_srid))
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise InvalidInput(f"the {field}'s geometry cannot be projected: {exc}",
                           field=field) from None
    if not shapely.is_valid(moved) and moved.geom_type.endswith("Polygon"):
        moved = shapely.make_valid(moved)
    return moved


def _projected(xy, source: int, target: int):
    import numpy as np

    x, y = _transformer(source, target).transform(xy[:, 0], xy[:, 1])
    out = np.column_stack([x, y])
    if not np.isfinite(out).all():
        raise ValueError("a coordinate lies outside what the projection covers")
    return out
