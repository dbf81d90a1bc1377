"""The analysis lattice covers the district exactly; points are counted once."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridgis.gis.hotspots.lattice import count_points, lattice

DISTRICT = gpd.GeoSeries([shapely.Polygon([(0, 0), (1000, 0), (1200, 800), (100, 900)])],
                         crs=32635)


@pytest.mark.parametrize("shape", ["hex", "square"])
def test_cells_cover_the_district_without_overlap(shape):
    cells = lattice(DISTRICT, 150, shape)
    assert cells.area.sum() == pytest.approx(DISTRICT.area[0], rel=1e-9)
    assert shapely.union_all(cells.geometry.values).area == pytest.approx(DISTRICT.area[0],
                                                                          rel=1e-9)
    full = cells.area.max()
    expected = 150 ** 2 if shape == "square" else np.sqrt(3) / 2 * 150 ** 2
    assert full == pytest.approx(expected, rel=1e-6)


def test_a_metric_crs_is_required():
    with pytest.raises(ValueError, match="metric"):
        lattice(DISTRICT.to_crs(4326), 150)


def test_points_on_shared_edges_count_once():
    cells = lattice(DISTRICT, 150, "square")
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([150, 150, 75, 5000],
                                                          [150, 75, 75, 5000]), crs=32635)
    counts = count_points(cells, points)
    assert counts.sum() == 3  # the far point lies in no cell
