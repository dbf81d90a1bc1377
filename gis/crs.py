"""Choosing the deployment's metric CRS."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

AREA_MARGIN_DEG = 2.0  # a district at the edge of its zone still projects well


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


@dataclass(frozen=True)
class DeploymentArea:
    """Where the deployment's CRS applies: its area of use plus a margin, in degrees
    (west, south, east, north) and in the CRS's own metres."""

    lonlat: tuple[float, float, float, float]
    metric: tuple[float, float, float, float]

    def contains(self, lon: float, lat: float) -> bool:
        west, south, east, north = self.lonlat
        return west <= lon <= east and south <= lat <= north

    def clip(self, box: tuple[float, float, float, float]
             ) -> tuple[float, float, float, float] | None:
        """The part of a WGS84 box inside the area (None: they do not meet)."""
        west, south = max(box[0], self.lonlat[0]), max(box[1], self.lonlat[1])
        east, north = min(box[2], self.lonlat[2]), min(box[3], self.lonlat[3])
        return (west, south, east, north) if west < east and south < north else None


@cache
def deployment_area(srid: int) -> DeploymentArea:
    target = CRS.from_epsg(srid)
    aou = target.area_of_use
    west, south, east, north = (aou.west, aou.south, aou.east, aou.north) if aou \
        else (-180.0, -90.0, 180.0, 90.0)
    lonlat = (max(west - AREA_MARGIN_DEG, -180), max(south - AREA_MARGIN_DEG, -90),
              min(east + AREA_MARGIN_DEG, 180), min(north + AREA_MARGIN_DEG, 90))
    to_target = Transformer.from_crs(4326, target, always_xy=True)
    return DeploymentArea(lonlat, to_target.transform_bounds(*lonlat, densify_pts=50))
