"""Units of analysis: a fine regular lattice clipped to the district."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from .defaults import DEFAULT_CELL_M

LATTICE = "gridgis_lattice"  # the attrs key of a lattice's Arrangement
# Closer to an edge than this, a point is located by geometry: arithmetic and the
# cells' vertices round differently, by far less than this
EDGE_M = 1e-6
SIN60 = np.sqrt(3) / 2
POINT = 0  # shapely's type id


def lattice(boundary: gpd.GeoSeries, size_m: float = DEFAULT_CELL_M,
            shape: Literal["hex", "square"] = "hex") -> gpd.GeoDataFrame:
    """Cells of ``size_m`` (square side, or hexagon flat-to-flat width) covering
    ``boundary`` (in a metric CRS), clipped to it; small slivers at the edge are kept so
    that the cells cover the district exactly. The frame's ``attrs[LATTICE]`` is its
    :class:`Arrangement`, with which :func:`unit_of` locates points by arithmetic."""
    if boundary.crs is None or not boundary.crs.is_projected:
        raise ValueError("the boundary must be in a projected (metric) CRS")
    area = shapely.union_all(boundary.values)
    xmin, ymin, xmax, ymax = area.bounds
    if shape == "square":
        xs = np.arange(xmin, xmax, size_m)
        ys = np.arange(ymin, ymax, size_m)
        gx, gy = np.meshgrid(xs, ys)
        cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size_m, gy.ravel() + size_m)
        origin = (xmin, ymin)
    else:
        radius = size_m / np.sqrt(3)  # centre to vertex of a pointy-top hexagon
        dx, dy = size_m, 1.5 * radius
        ys = np.arange(ymin - dy, ymax + dy, dy)
        xs = np.arange(xmin - dx, xmax + dx, dx)
        centres = [(x + (dx / 2 if i % 2 else 0.0), y) for i, y in enumerate(ys) for x in xs]
        angles = np.deg2rad(np.arange(30, 390, 60))
        ring = np.column_stack([np.cos(angles), np.sin(angles)]) * radius
        cells = np.array([shapely.Polygon(ring + c) for c in centres], dtype=object)
        origin = (xmin - dx, ymin - dy)
    meets = shapely.intersects(cells, area)
    clipped = shapely.intersection(cells[meets], area)
    keep = shapely.area(clipped) > 0
    slot_of_cell = np.flatnonzero(meets)[keep]  # row-major slot of each kept cell
    slots = np.full(len(cells), -1, dtype=np.intp)
    slots[slot_of_cell] = np.arange(len(slot_of_cell))
    shapely.prepare(area)
    frame = gpd.GeoDataFrame({"cell": np.arange(keep.sum())}, geometry=clipped[keep],
                             crs=boundary.crs)
    frame.attrs[LATTICE] = Arrangement(
        shape, size_m, origin, _frozen(slots.reshape(len(ys), len(xs))),
        whole=_frozen(shapely.contains(area, cells[slot_of_cell])),
        cells=_frozen(np.asarray(frame.geometry.values)))
    return frame


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Arrangement:
    """Where a lattice's cells lie: slot (row, column) of the regular arrangement from
    ``origin`` (the first square's corner, or the first hexagon's centre; odd rows of
    hexagons shifted half a cell east), the cell in each slot (-1: none), which cells
    are whole (not clipped by the district), and the cells themselves (a frame whose
    geometries are not these, in this order, is located by geometry)."""

    shape: str
    size: float
    origin: tuple[float, float]
    slots: np.ndarray
    whole: np.ndarray
    cells: np.ndarray

    def __deepcopy__(self, memo: dict) -> Arrangement:
        # pandas deep-copies a frame's attrs at every step: this is read-only
        return self

    def arranges(self, units: gpd.GeoDataFrame) -> bool:
        """Whether ``units`` are still these cells, in this order."""
        values = np.asarray(units.geometry.values)
        return len(values) == len(self.cells) and \
            bool(shapely.equals_identical(values, self.cells).all())

    def locate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the cell of each point or -1, whether arithmetic settles it). Unsettled:
        a point in a clipped cell, or within ``EDGE_M`` of a cell's edge, where only
        the cells' geometry can tell (and name the first of two cells sharing an
        edge)."""
        ex, ny = x - self.origin[0], y - self.origin[1]
        with np.errstate(invalid="ignore"):  # infinite or missing: left to geometry
            if self.shape == "square":
                col, row = np.floor(ex / self.size), np.floor(ny / self.size)
                fx, fy = ex - col * self.size, ny - row * self.size
                margin = np.minimum(np.minimum(fx, self.size - fx),
                                    np.minimum(fy, self.size - fy))
            else:
                row, col, margin = _hexagon_slot(ex, ny, self.size)
        rows, cols = self.slots.shape
        in_range = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        cell = np.full(len(x), -1, dtype=np.intp)
        cell[in_range] = self.slots[row[in_range].astype(np.intp),
                                    col[in_range].astype(np.intp)]
        clipped = np.zeros(len(x), dtype=bool)
        inside = cell >= 0
        clipped[inside] = ~self.whole[cell[inside]]
        # out of range too: a point on the edge of the arrangement may touch a cell
        settled = (margin > EDGE_M) & ~clipped
        return cell, settled


def _hexagon_slot(ex: np.ndarray, ny: np.ndarray, size: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, distance inside the hexagon's edge) of points east and north of
    the first pointy-top hexagon's centre: axial coordinates rounded to the nearest
    hexagon, then odd rows' offset."""
    radius = size / np.sqrt(3)
    q = (np.sqrt(3) / 3 * ex - ny / 3) / radius
    r = (2 / 3 * ny) / radius
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    row = rr
    odd = np.mod(row, 2)
    col = rq + (row - odd) / 2
    cx = col * size + odd * size / 2
    cy = row * 1.5 * radius
    dx, dy = ex - cx, ny - cy
    # the flat sides face east-west and the two diagonals: the apothem is size / 2
    reach = np.maximum(np.abs(dx), np.maximum(np.abs(0.5 * dx + SIN60 * dy),
                                              np.abs(0.5 * dx - SIN60 * dy)))
    return row, col, size / 2 - reach


def unit_of(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    """The index of the unit each point falls in (-1: none); a point on a shared edge
    goes to the first unit in index order. The cells of a :func:`lattice` locate most
    points by arithmetic, the others by their geometry."""
    if units.crs != points.crs:
        raise ValueError(f"CRS mismatch: units {units.crs}, points {points.crs}")
    arrangement = units.attrs.get(LATTICE)
    geometries = points.geometry.values
    if isinstance(arrangement, Arrangement) and len(geometries) \
            and (shapely.get_type_id(geometries) == POINT).all() \
            and not shapely.is_empty(geometries).any() and arrangement.arranges(units):
        xy = shapely.get_coordinates(geometries)
        cell, settled = arrangement.locate(xy[:, 0], xy[:, 1])
        rest = np.flatnonzero(~settled)
        if len(rest):
            cell[rest] = _unit_of_geometry(units, geometries[rest])
        return cell
    return _unit_of_geometry(units, geometries)


def _unit_of_geometry(units: gpd.GeoDataFrame, geometries: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(units.geometry.values)
    point_idx, unit_idx = tree.query(geometries, predicate="intersects")
    order = np.lexsort((unit_idx, point_idx))
    point_idx, unit_idx = point_idx[order], unit_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    found = np.full(len(geometries), -1, dtype=np.intp)
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
