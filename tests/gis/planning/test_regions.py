"""Regions between a floor and a ceiling of households, contiguous, on synthetic block
lattices with known weights."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from gridgis.gis.planning.regions import balanced_regions


def lattice(cols: int, rows: int, seed: int = 3, low: int = 5, high: int = 40,
            size: float = 50.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    cells = [box(c * size, r * size, (c + 1) * size, (r + 1) * size)
             for r in range(rows) for c in range(cols)]
    return gpd.GeoDataFrame({"households": rng.integers(low, high, len(cells))},
                            geometry=cells, crs=32650)


def assert_valid(blocks: gpd.GeoDataFrame, labels: np.ndarray, floor: float,
                 ceiling: float) -> None:
    for region in np.unique(labels):
        inside = blocks[labels == region]
        assert floor <= inside["households"].sum() <= ceiling, region
        union = shapely.union_all(inside.geometry.values)
        assert union.geom_type == "Polygon", f"region {region} is not contiguous"


@pytest.mark.parametrize("method", ["bisect", "maxp"])
def test_every_region_is_contiguous_and_between_the_floor_and_the_ceiling(method):
    blocks = lattice(20, 20)
    found = balanced_regions(blocks, "households", 300, 500, method=method, seed=7)
    assert found.under == [] and found.over == []
    assert_valid(blocks, found.labels, 300, 500)
    assert found.weights.sum() == blocks["households"].sum()
    assert sorted(np.unique(found.labels)) == list(range(len(found.weights)))


def test_a_plan_in_bounds_is_kept_and_only_the_regions_out_of_bounds_change():
    blocks = lattice(12, 6, seed=5, low=10, high=20)  # 72 blocks of ~15
    column = np.arange(72) % 12
    initial = np.where(column < 3, 0, np.where(column < 6, 1, 2))  # 3 | 3 | 6 columns
    weights = np.bincount(initial, weights=blocks["households"])
    floor, ceiling = 200, 1.1 * max(weights[0], weights[1])
    assert weights[2] > ceiling  # the wide region must be cut
    found = balanced_regions(blocks, "households", floor, ceiling, initial=initial)
    assert_valid(blocks, found.labels, floor, ceiling)
    for kept in (0, 1):  # the two regions in bounds keep exactly their blocks
        members = set(np.flatnonzero(initial == kept))
        assert any(set(np.flatnonzero(found.labels == r)) == members
                   for r in np.unique(found.labels))


def test_regions_that_cannot_be_brought_within_bounds_are_reported():
    blocks = lattice(2, 1, low=100, high=101)  # two blocks of 100
    found = balanced_regions(blocks, "households", 300, 500)
    assert found.under == [0] and found.over == []
    heavy = lattice(1, 1, low=900, high=901)
    assert balanced_regions(heavy, "households", 300, 500).over == [0]
