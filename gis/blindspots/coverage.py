"""Coverage of a grid plan: is every part of the district in exactly one grid, and is
every grid one clean piece inside its community?

Rules (areas in m², in the plan's metric CRS):

- A **gap** is a connected piece of the region in no grid with an area of at least
  ``sliver_m2``; a smaller piece is a **sliver gap**. Pieces under ``NOISE_M2`` (a 10 cm
  square) are floating-point noise from polygon operations and are ignored.
- An **overlap** is the intersection of two grids of at least ``sliver_m2``; smaller
  ones are **sliver overlaps**.
- A grid **crosses its community** when more than ``sliver_m2`` of it lies outside its
  community's polygon.
- A **hole** is an interior ring of a grid; a **multi-part** grid has more than one
  polygon (it is not contiguous); a **sliver part** is a part under ``sliver_m2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

NOISE_M2 = 0.01
DEFAULT_SLIVER_M2 = 10.0


@dataclass
class Coverage:
    region_m2: float
    covered_m2: float
    gaps: gpd.GeoDataFrame  # area_m2, sliver, community, grids (touching grid codes)
    overlaps: gpd.GeoDataFrame  # grid_a, grid_b, area_m2, sliver, community
    grids: pd.DataFrame  # per grid code: parts, holes, sliver_parts, outside_community_m2,
    #                      gap_m2 (touching gaps), overlap_m2

    @property
    def gap_m2(self) -> float:
        return float(self.gaps.loc[~self.gaps["sliver"], "area_m2"].sum())

    @property
    def overlap_m2(self) -> float:
        return float(self.overlaps.loc[~self.overlaps["sliver"], "area_m2"].sum())

    @property
    def has_gaps_or_overlaps(self) -> bool:
        return bool((~self.gaps["sliver"]).any() or (~self.overlaps["sliver"]).any())


def plan_coverage(grids: gpd.GeoDataFrame, region: shapely.Geometry | None,
                  communities: gpd.GeoDataFrame | None = None,
                  sliver_m2: float = DEFAULT_SLIVER_M2) -> Coverage:
    """``grids`` have ``code`` and ``community`` (a community code or None);
    ``communities`` have ``code``; ``region`` is the district (or community) the plan
    must cover (None: unknown, so there are no gaps to find, only overlaps)."""
    if sliver_m2 < 0:
        raise ValueError("sliver_m2 must not be negative")
    if communities is not None and communities.crs != grids.crs:
        raise ValueError(f"CRS mismatch: grids {grids.crs}, communities {communities.crs}")
    geoms = shapely.make_valid(grids.geometry.values)
    codes = grids["code"].to_numpy()
    union = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
    if region is None:
        region = union
    gaps = _gaps(region, union, geoms, codes, communities, sliver_m2, grids.crs)
    overlaps = _overlaps(geoms, codes, sliver_m2, grids.crs)
    overlaps["community"] = _community_of(overlaps.geometry.values, communities)
    per_grid = _per_grid(grids, geoms, communities, sliver_m2)
    gap_by_grid: dict[str, float] = {}
    for row in gaps[~gaps["sliver"]].itertuples():
        for code in row.grids:
            gap_by_grid[code] = gap_by_grid.get(code, 0.0) + row.area_m2
    solid = overlaps[~overlaps["sliver"]]
    overlap_by_grid = pd.concat([solid.groupby("grid_a")["area_m2"].sum(),
                                 solid.groupby("grid_b")["area_m2"].sum()]) \
        .groupby(level=0).sum()
    per_grid["gap_m2"] = per_grid["code"].map(gap_by_grid).fillna(0.0)
    per_grid["overlap_m2"] = per_grid["code"].map(overlap_by_grid).fillna(0.0)
    return Coverage(region_m2=float(shapely.area(region)),
                    covered_m2=float(shapely.area(shapely.intersection(union, region))),
                    gaps=gaps, overlaps=overlaps, grids=per_grid)


def _gaps(region, union, geoms, codes, communities, sliver_m2, crs) -> gpd.GeoDataFrame:
    pieces = shapely.get_parts(shapely.difference(region, union))
    pieces = pieces[shapely.get_type_id(pieces) == 3]  # polygons only
    area = shapely.area(pieces)
    keep = area >= NOISE_M2
    pieces, area = pieces[keep], area[keep]
    tree = shapely.STRtree(geoms)
    touching = [codes[tree.query(p, predicate="intersects")].tolist() for p in pieces]
    community = _community_of(pieces, communities)
    order = np.argsort(-area, kind="stable")
    return gpd.GeoDataFrame({
        "area_m2": area[order], "sliver": area[order] < sliver_m2,
        "community": [community[i] for i in order], "grids": [touching[i] for i in order],
    }, geometry=pieces[order], crs=crs)


def _community_of(pieces: np.ndarray, communities: gpd.GeoDataFrame | None) -> list:
    """The community each piece's interior point lies in (None: none)."""
    community: list[str | None] = [None] * len(pieces)
    if communities is not None and len(communities) and len(pieces):
        centre = shapely.point_on_surface(pieces)
        piece_idx, comm_idx = shapely.STRtree(communities.geometry.values).query(
            centre, predicate="intersects")
        codes = communities["code"].to_numpy()
        for p, c in zip(piece_idx, comm_idx, strict=True):
            community[p] = codes[c]
    return community


def _overlaps(geoms, codes, sliver_m2, crs) -> gpd.GeoDataFrame:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    polygonal = shapely.intersection(geoms[left], geoms[right])  # area: polygonal parts
    area = shapely.area(polygonal)
    keep = area >= NOISE_M2
    order = np.argsort(-area[keep], kind="stable")
    return gpd.GeoDataFrame({
        "grid_a": codes[left[keep]][order], "grid_b": codes[right[keep]][order],
        "area_m2": area[keep][order], "sliver": area[keep][order] < sliver_m2,
    }, geometry=polygonal[keep][order], crs=crs)


def _per_grid(grids, geoms, communities, sliver_m2) -> pd.DataFrame:
    parts = shapely.get_parts(geoms, return_index=True)
    part_area = shapely.area(parts[0])
    holes = np.bincount(parts[1], weights=shapely.get_num_interior_rings(parts[0]),
                        minlength=len(geoms)).astype(int)
    sliver_parts = np.bincount(parts[1], weights=part_area < sliver_m2,
                               minlength=len(geoms)).astype(int)
    outside = np.zeros(len(geoms))
    if communities is not None and "community" in grids:
        lookup = dict(zip(communities["code"], communities.geometry.values, strict=True))
        home = np.array([lookup.get(c) for c in grids["community"]], dtype=object)
        known = np.array([h is not None for h in home])
        if known.any():
            inside = shapely.area(shapely.intersection(geoms[known], home[known].tolist()))
            outside[known] = shapely.area(geoms[known]) - inside
    outside[outside < sliver_m2] = 0.0
    return pd.DataFrame({
        "code": grids["code"].to_numpy(),
        "community": grids["community"].to_numpy() if "community" in grids else None,
        "area_m2": shapely.area(geoms),
        "parts": shapely.get_num_geometries(geoms), "holes": holes,
        "sliver_parts": sliver_parts, "outside_community_m2": outside,
    })
