"""Choosing the deployment's metric CRS."""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import CRS, Transformer


def utm_srid(lon: float, lat: float) -> int:
    """The WGS 84 / UTM zone EPSG code for a location."""
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise ValueError(f"no UTM zone covers lon {lon}, lat {lat}")
    zone = min(int(math.floor((lon + 180) / 6)) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def utm_srid_for_geometries(geoms: np.ndarray, crs: CRS) -> int:
    """The UTM zone at the centre of the geometries' extent."""
    present = geoms[[g is not None for g in geoms]]
    if len(present) == 0:
        raise ValueError("no geometry to choose a CRS from")
    xmin, ymin, xmax, ymax = shapely.total_bounds(present)
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = to_lonlat.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    return utm_srid(lon, lat)
