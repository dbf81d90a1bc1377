"""Normalising data for the page: WGS84, rounded coordinates, escaped text."""

from __future__ import annotations

import html
import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

COORD_DECIMALS = 6  # ~0.1 m, plenty for display


def for_page(frame: gpd.GeoDataFrame, decimals: int = COORD_DECIMALS) -> gpd.GeoDataFrame:
    """Non-empty geometries in EPSG:4326 with coordinates rounded for a compact page
    (rounding the numbers, not snapping the geometry, so nothing collapses)."""
    if frame.crs is None:
        raise ValueError("layer data has no CRS")
    frame = frame[~(frame.geometry.is_empty | frame.geometry.isna())]
    if frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame = frame.copy()
    frame[frame.geometry.name] = shapely.transform(frame.geometry.values,
                                                   lambda xy: np.round(xy, decimals))
    return frame


def escape(value: Any) -> str:
    """Text for HTML: every user-supplied string passes through here."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def geojson(frame: gpd.GeoDataFrame, properties: list[str]) -> dict:
    """A FeatureCollection with only ``properties``; strings escaped, numbers JSON-safe."""
    features = []
    geometries = shapely.to_geojson(frame.geometry.values)
    for geometry, row in zip(geometries, frame[properties].itertuples(index=False),
                             strict=True):
        props: dict[str, Any] = {}
        for name, value in zip(properties, row, strict=True):
            if isinstance(value, str):
                props[name] = escape(value)
            elif value is None or (isinstance(value, float) and np.isnan(value)):
                props[name] = None
            elif isinstance(value, np.integer):
                props[name] = int(value)
            elif isinstance(value, np.floating):
                props[name] = float(value)
            else:
                props[name] = value
        features.append({"type": "Feature", "geometry": json.loads(geometry),
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}


def bounds(frame: gpd.GeoDataFrame) -> list[list[float]] | None:
    if frame.empty:
        return None
    west, south, east, north = frame.total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]
