"""Units of analysis: a fine regular lattice clipped to the district."""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from .defaults import DEFAULT_CELL_M


def lattice(boundary: gpd.GeoSeries, size_m: float = DEFAULT_CELL_M,
            shape: Literal["hex", "square"] = "hex") -> gpd.GeoDataFrame:
    """Cells of ``size_m`` (square side, or hexagon flat-to-flat width) covering
    ``boundary`` (in a metric CRS), clipped to it; small slivers at the edge are kept so
    that the cells cover the district exactly."""
    if boundary.crs is None or not boundary.crs.is_projected:
        raise ValueError("the boundary must be in a projected (metric) CRS")
    area = shapely.union_all(boundary.values)
    xmin, ymin, xmax, ymax = area.bounds
    if shape == "square":
        xs = np.arange(xmin, xmax, size_m)
        ys = np.arange(ymin, ymax, size_m)
        gx, gy = np.meshgrid(xs, ys)
        cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size_m, gy.ravel() + size_m)
    else:
        radius = size_m / np.sqrt(3)  # centre to vertex of a pointy-top hexagon
        dx, dy = size_m, 1.5 * radius
        rows = np.arange(ymin - dy, ymax + dy, dy)
        centres = [(x + (dx / 2 if i % 2 else 0.0), y) for i, y in enumerate(rows)
                   for x in np.arange(xmin - dx, xmax + dx, dx)]
        angles = np.deg2rad(np.arange(30, 390, 60))
        ring = np.column_stack([np.cos(angles), np.sin(angles)]) * radius
        cells = np.array([shapely.Polygon(ring + c) for c in centres], dtype=object)
    cells = cells[shapely.intersects(cells, area)]
    clipped = shapely.intersection(cells, area)
    keep = shapely.area(clipped) > 0
    frame = gpd.GeoDataFrame({"cell": np.arange(keep.sum())}, geometry=clipped[keep],
                             crs=boundary.crs)
    return frame


def unit_of(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    """The index of the unit each point falls in (-1: none); a point on a shared edge
    goes to the first unit in index order."""
    if units.crs != points.crs:
        raise ValueError(f"CRS mismatch: units {units.crs}, points {points.crs}")
    tree = shapely.STRtree(units.geometry.values)
    point_idx, unit_idx = tree.query(points.geometry.values, predicate="intersects")
    order = np.lexsort((unit_idx, point_idx))
    point_idx, unit_idx = point_idx[order], unit_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    found = np.full(len(points), -1, dtype=np.intp)
    found[point_idx[first]] = unit_idx[first]
    return found


def count_points(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                 weights: np.ndarray | None = None) -> np.ndarray:
    """How many points (or how much of their ``weights``) fall in each unit; a point on
    a shared edge counts once, in the first unit in index order."""
    return count_in_units(unit_of(units, points), len(units), weights)


def count_in_units(unit: np.ndarray, units: int, weights: np.ndarray | None = None
                   ) -> np.ndarray:
    """Counts (or sums of ``weights``) per unit, from each point's unit (-1: none)."""
    inside = unit >= 0
    return np.bincount(unit[inside], minlength=units,
                       weights=None if weights is None else np.asarray(weights)[inside])
