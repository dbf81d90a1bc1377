"""Dividing a district along its streets: blocks, then grids, communities, subdistricts.

1. Street blocks: the road network clipped to the district, noded and polygonised
   together with the district boundary, so the blocks tile the district exactly; slivers
   under ``min_block_m2`` join the neighbour they share most boundary with.
2. Each higher level is a max-p regionalisation (PySAL spopt ``MaxPHeuristic``) of the
   level below on rook contiguity: as many contiguous regions as possible such that each
   holds at least the floor of households, with compactness (centroid coordinates) as the
   homogeneity criterion. Regions are unions of the units below, so levels nest and cover
   the district with no gaps or overlaps.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from ..planning import regions


def district_boundary(roads: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> Polygon:
    """The area the extract covers: the convex hull of its roads and buildings."""
    coords = np.vstack([shapely.get_coordinates(roads.geometry.values),
                        shapely.get_coordinates(buildings.geometry.values)])
    return shapely.convex_hull(shapely.multipoints(coords))


def street_blocks(roads: gpd.GeoDataFrame, boundary: Polygon,
                  min_area_m2: float) -> gpd.GeoDataFrame:
    lines = shapely.intersection(roads.geometry.values, boundary)
    lines = [g for g in lines if not g.is_empty] + [boundary.exterior]
    noded = shapely.union_all(lines)
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    faces = [f for f in faces if boundary.contains(f.representative_point())]
    blocks = gpd.GeoDataFrame(geometry=faces, crs=roads.crs)
    blocks = _merge_slivers(blocks, min_area_m2)
    covered = shapely.union_all(blocks.geometry.values)
    # polygonize leaves nothing out in a connected network, but a road that ends inside a
    # block leaves no gap either; anything missed (numerical slivers) joins its neighbour.
    missing = shapely.difference(boundary, covered)
    for piece in shapely.get_parts(missing):
        if piece.area > 1e-6:
            i = int(np.argmax(shapely.length(shapely.intersection(
                blocks.geometry.values, piece.buffer(0.01)))))
            blocks.loc[blocks.index[i], "geometry"] = blocks.geometry.iloc[i].union(piece)
    return blocks.reset_index(drop=True)


def _merge_slivers(blocks: gpd.GeoDataFrame, min_area: float) -> gpd.GeoDataFrame:
    geoms = list(blocks.geometry.values)
    while True:
        areas = np.array([g.area for g in geoms])
        small = [i for i in np.argsort(areas) if areas[i] < min_area]
        if not small or len(geoms) == 1:
            break
        i = small[0]
        shared = shapely.length(shapely.intersection(np.array(geoms, dtype=object),
                                                     geoms[i].boundary))
        shared[i] = -1
        j = int(np.argmax(shared))
        if shared[j] <= 0:  # an island: nothing to join; keep it
            areas[i] = np.inf
            if all(a >= min_area for a in areas):
                break
            geoms.append(geoms.pop(i))
            continue
        geoms[j] = shapely.union(geoms[j], geoms[i])
        del geoms[i]
    return gpd.GeoDataFrame(geometry=geoms, crs=blocks.crs)


def split_heavy_blocks(blocks: gpd.GeoDataFrame, homes: gpd.GeoDataFrame, weight: str,
                       most: float, part: float) -> gpd.GeoDataFrame:
    """Cut a block holding more than ``most`` of ``weight`` into ceil(w / part) strips
    across its long axis, at weighted quantiles of its buildings' positions, so each strip
    holds about ``part``. (A grid may not be smaller than a street block otherwise.)"""
    rows = []
    for block in blocks.itertuples(index=False):
        inside = homes[homes.within(block.geometry)]
        total = inside[weight].sum()
        if total <= most or len(inside) < 2:
            rows.append(block.geometry)
            continue
        rect = shapely.minimum_rotated_rectangle(block.geometry)
        corners = np.asarray(rect.exterior.coords)[:4]
        edges = corners[1:] - corners[:-1]
        axis = edges[np.argmax(np.hypot(edges[:, 0], edges[:, 1]))]
        axis = axis / np.hypot(*axis)
        position = inside.geometry.x.values * axis[0] + inside.geometry.y.values * axis[1]
        order = np.argsort(position)
        cumulative = np.cumsum(inside[weight].values[order]) / total
        pieces = int(np.ceil(total / part))
        cuts = [position[order][np.searchsorted(cumulative, q)] for q in
                np.arange(1, pieces) / pieces]
        remaining = block.geometry
        big = 1e5
        normal = np.array([-axis[1], axis[0]])
        middle = np.asarray(block.geometry.centroid.coords[0])
        for cut in sorted(set(cuts)):
            centre = middle + axis * (cut - middle @ axis)
            half = shapely.Polygon([centre - normal * big - axis * big,
                                    centre + normal * big - axis * big,
                                    centre + normal * big, centre - normal * big])
            rows.append(shapely.intersection(remaining, half))
            remaining = shapely.difference(remaining, half)
        rows.append(remaining)
    rows = [g for g in rows if not g.is_empty]
    return gpd.GeoDataFrame(geometry=rows, crs=blocks.crs)


regionalise = regions.maxp_labels


def dissolve(units: gpd.GeoDataFrame, labels: np.ndarray, weight: str) -> gpd.GeoDataFrame:
    frame = units.assign(region=labels)
    regions = frame.dissolve(by="region", aggfunc={weight: "sum"})
    regions["geometry"] = regions.geometry.map(lambda g: shapely.set_precision(g, 0.001))
    return regions.reset_index()


def name_after_streets(regions: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> list[str]:
    """Each region named after the named street with the most length inside it."""
    names: list[str] = []
    named = roads[roads["name"].notna()]
    for geom in regions.geometry:
        inside = shapely.length(shapely.intersection(named.geometry.values, geom))
        lengths = pd.Series(inside, index=named["name"].values).groupby(level=0).sum()
        candidates = [n for n in lengths.sort_values(ascending=False).index if n not in names]
        names.append(candidates[0] if candidates else f"#{len(names) + 1}")
    return names
