"""Measuring things per grid: street length by sample points, points to grids, sums and
shares per grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

STREET_SAMPLE_M = 5.0  # street length is measured at points this far apart


def street_samples(lines: np.ndarray, with_fractions: bool = False) -> tuple:
    """Points along every line at most ``STREET_SAMPLE_M`` apart, each standing for an
    equal share of its line's length: (points, metres each, line index), and with
    ``with_fractions`` the fraction of the line at which each point lies."""
    length = shapely.length(lines)
    count = np.maximum(1, np.ceil(length / STREET_SAMPLE_M)).astype(int)
    edge = np.repeat(np.arange(len(lines)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    fraction = (offset + 0.5) / count[edge]
    points = shapely.line_interpolate_point(lines[edge], fraction, normalized=True)
    if with_fractions:
        return np.asarray(points), (length / count)[edge], edge, fraction
    return np.asarray(points), (length / count)[edge], edge


def grid_of(points: np.ndarray, grids: gpd.GeoDataFrame) -> np.ndarray:
    """The index of the (first) grid each point lies in; -1 for none."""
    found = np.full(len(points), -1)
    if len(points) and len(grids):
        point, grid = shapely.STRtree(grids.geometry.values).query(points,
                                                                   predicate="intersects")
        first = np.unique(point, return_index=True)[1]
        found[point[first]] = grid[first]
    return found


def sum_by(grid: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    inside = grid >= 0
    return np.bincount(grid[inside], weights=np.asarray(values, float)[inside], minlength=n)


def share(part, whole) -> np.ndarray:
    part, whole = np.asarray(part, float), np.asarray(whole, float)
    out = np.full(len(whole), np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out


def codes(grids: gpd.GeoDataFrame, index: np.ndarray) -> np.ndarray:
    values = grids["code"].to_numpy()
    return np.asarray(np.where(index >= 0, values[np.maximum(index, 0)], None), dtype=object)
