"""The units grids are drawn from: street blocks (the area cut by its roads), or a
square lattice where there are no roads; blocks too heavy for one grid are cut in
strips.

Street blocks: the roads inside the area are noded and polygonised together with the
area's boundary (holes included), so the blocks tile the area exactly; slivers under
``min_area_m2`` join the neighbour they share most boundary with.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

NOISE_M2 = 1e-6


def street_blocks(roads: np.ndarray, area: BaseGeometry, min_area_m2: float,
                  crs: object) -> gpd.GeoDataFrame:
    """Blocks tiling ``area`` (Polygon or MultiPolygon) cut by the ``roads`` (lines)."""
    area = shapely.make_valid(area)
    lines = shapely.intersection(np.asarray(roads, dtype=object), area) if len(roads) \
        else np.array([], dtype=object)
    lines = [g for g in lines if not g.is_empty]
    rings = [shapely.boundary(part) for part in shapely.get_parts(area)
             if part.geom_type == "Polygon"]
    noded = shapely.union_all(lines + rings)
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    faces = [f for f in faces if f.area > NOISE_M2
             and area.contains(f.representative_point())]
    blocks = _merge_slivers(faces, min_area_m2)
    covered = shapely.union_all(blocks) if blocks else shapely.Polygon()
    # a road ending inside a block leaves no gap; anything polygonize missed (numerical
    # slivers) joins the neighbour it shares most boundary with
    for piece in shapely.get_parts(shapely.difference(area, covered)):
        if piece.area <= NOISE_M2:
            continue
        if not blocks:
            blocks.append(piece)
            continue
        shared = shapely.length(shapely.intersection(np.asarray(blocks, dtype=object),
                                                     piece.buffer(0.01)))
        i = int(np.argmax(shared))
        if shared[i] > 0:
            blocks[i] = shapely.union(blocks[i], piece)
        else:
            blocks.append(piece)
    return gpd.GeoDataFrame(geometry=blocks, crs=crs)


def lattice_blocks(area: BaseGeometry, cell_m: float, crs: object) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` clipped to ``area`` (for land without roads)."""
    x0, y0, x1, y1 = area.bounds
    xs = np.arange(np.floor(x0 / cell_m) * cell_m, x1, cell_m)
    ys = np.arange(np.floor(y0 / cell_m) * cell_m, y1, cell_m)
    cells = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + cell_m, ys + cell_m))
    clipped = shapely.intersection(cells.ravel(), area)
    keep = [g for g in clipped if g.area > NOISE_M2]
    pieces = [p for g in keep for p in shapely.get_parts(g) if p.geom_type == "Polygon"]
    return gpd.GeoDataFrame(geometry=_merge_slivers(pieces, cell_m * cell_m * 0.05),
                            crs=crs)


def _merge_slivers(faces: list[BaseGeometry], min_area: float) -> list[BaseGeometry]:
    geoms = list(faces)
    islands: list[BaseGeometry] = []
    while len(geoms) > 1:
        areas = shapely.area(np.asarray(geoms, dtype=object))
        i = int(np.argmin(areas))
        if areas[i] >= min_area:
            break
        shared = shapely.length(shapely.intersection(np.asarray(geoms, dtype=object),
                                                     geoms[i].boundary))
        shared[i] = -1
        j = int(np.argmax(shared))
        if shared[j] <= 0:  # an island: nothing to join; set aside
            islands.append(geoms.pop(i))
            continue
        geoms[j] = shapely.union(geoms[j], geoms[i])
        del geoms[i]
    return geoms + islands


def split_heavy(blocks: gpd.GeoDataFrame, homes: gpd.GeoDataFrame, weight: str,
                most: float, part: float) -> gpd.GeoDataFrame:
    """Cut a block holding more than ``most`` of ``weight`` into ceil(w / part) strips
    across its long axis, at weighted quantiles of its homes' positions, so each strip
    holds about ``part``. (A grid could not be smaller than a street block otherwise.)"""
    rows = []
    joined = gpd.sjoin(homes[[weight, "geometry"]], blocks[["geometry"]],
                       predicate="within", how="inner")
    by_block = {b: frame for b, frame in joined.groupby("index_right")}
    for index, block in blocks.geometry.items():
        inside = by_block.get(index)
        total = 0.0 if inside is None else float(inside[weight].sum())
        if total <= most or inside is None or len(inside) < 2:
            rows.append(block)
            continue
        rect = shapely.minimum_rotated_rectangle(block)
        corners = np.asarray(rect.exterior.coords)[:4]
        edges = corners[1:] - corners[:-1]
        axis = edges[np.argmax(np.hypot(edges[:, 0], edges[:, 1]))]
        axis = axis / np.hypot(*axis)
        position = inside.geometry.x.to_numpy() * axis[0] + \
            inside.geometry.y.to_numpy() * axis[1]
        order = np.argsort(position)
        cumulative = np.cumsum(inside[weight].to_numpy()[order]) / total
        pieces = int(np.ceil(total / part))
        cuts = _cuts(position[order], cumulative, pieces)
        if not cuts:  # every home at one spot (one building): it cannot be cut
            rows.append(block)
            continue
        remaining = block
        reach = 2 * max(rect.length, 1.0)
        normal = np.array([-axis[1], axis[0]])
        middle = np.asarray(block.centroid.coords[0])
        for cut in sorted(set(cuts)):
            centre = middle + axis * (cut - middle @ axis)
            half = shapely.Polygon([centre - normal * reach - axis * reach,
                                    centre + normal * reach - axis * reach,
                                    centre + normal * reach, centre - normal * reach])
            rows.append(shapely.intersection(remaining, half))
            remaining = shapely.difference(remaining, half)
        rows.append(remaining)
    polygons = [p for g in rows for p in shapely.get_parts(shapely.make_valid(g))
                if p.geom_type == "Polygon" and p.area > NOISE_M2]
    return gpd.GeoDataFrame(geometry=polygons, crs=blocks.crs)


def _cuts(ordered: np.ndarray, cumulative: np.ndarray, pieces: int) -> list[float]:
    """Cut positions between homes (never through a spot holding several), near the
    weighted quantiles 1/pieces, 2/pieces, ..."""
    cuts: set[float] = set()
    for q in np.arange(1, pieces) / pieces:
        j = int(np.searchsorted(cumulative, q))
        before = ordered[:j + 1]
        after = ordered[j + 1:]
        if len(after) == 0:
            continue
        left = before[-1]
        right = after[after > left]
        if len(right):
            cuts.add(float((left + right[0]) / 2))
    return sorted(cuts)
