"""The space-time cube: points counted per unit and per calendar bin."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis.gis.errors import InvalidInput
from gridgis.gis.hotspots.cube import binned_counts, time_bins
from gridgis.gis.hotspots.lattice import lattice

CRS = "EPSG:32635"


def test_each_point_counts_once_in_its_cell_and_its_month():
    cells = lattice(gpd.GeoSeries([shapely.box(0, 0, 300, 300)], crs=CRS), 100, "square")
    rng = np.random.default_rng(1)
    xy = rng.uniform(-50, 350, (2000, 2)).round(1) + 0.05  # never on a cell's edge
    when = pd.Timestamp("2025-12-20", tz="UTC") + pd.to_timedelta(
        rng.uniform(0, 130, len(xy)), unit="D")
    edges = time_bins(pd.Timestamp("2026-01-01", tz="UTC"),
                      pd.Timestamp("2026-04-01", tz="UTC"), "MS")
    points = gpd.GeoDataFrame({"occurred_at": when},
                              geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    counted = binned_counts(cells, points, edges)

    # by arithmetic: square cells are numbered row by row from the south-west
    expected = np.zeros((9, 3))
    inside = (xy >= 0).all(axis=1) & (xy < 300).all(axis=1)
    month = (when.year - 2026) * 12 + when.month - 1
    for (x, y), m in zip(xy[inside], np.asarray(month)[inside], strict=True):
        if 0 <= m < 3:
            expected[int(y // 100) * 3 + int(x // 100), m] += 1
    np.testing.assert_array_equal(counted, expected)

    on_edge = gpd.GeoDataFrame({"occurred_at": [edges[0]]},
                               geometry=[shapely.Point(100, 50)], crs=CRS)
    assert binned_counts(cells, on_edge, edges).sum() == 1  # in one cell of the two
    assert not binned_counts(cells, points.iloc[:0], edges).any()


def test_too_many_bins_are_refused_with_the_field():
    with pytest.raises(InvalidInput, match="at most 60") as raised:
        time_bins(pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2026-01-01", tz="UTC"),
                  "MS")
    assert raised.value.details == {"field": "bin"}
