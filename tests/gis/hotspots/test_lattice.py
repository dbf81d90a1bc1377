"""The analysis lattice covers the district exactly; points are counted once."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis.gis.hotspots.lattice import LATTICE, _unit_of_geometry, count_points, lattice, unit_of

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


HOLED = gpd.GeoSeries([shapely.Polygon(
    [(0, 0), (3000, 90), (3600, 2400), (300, 2700), (1200, 1500)],
    holes=[[(1500, 600), (1680, 600), (1680, 780), (1500, 780)]])], crs=32635)


def _points(cells: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Random points in and around the district, and every vertex and edge midpoint
    of every cell (where arithmetic must hand over to geometry)."""
    rng = np.random.default_rng(seed)
    xy = np.column_stack([rng.uniform(-400, 4000, 20_000), rng.uniform(-400, 3100, 20_000)])
    vertices = shapely.get_coordinates(cells.geometry.values)
    xy = np.vstack([xy, vertices, (vertices[:-1] + vertices[1:]) / 2])
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32635)


@pytest.mark.parametrize("shape", ["hex", "square"])
@pytest.mark.parametrize("size", [150, 97.3])
def test_arithmetic_locates_points_as_their_geometry_does(shape, size):
    cells = lattice(HOLED, size, shape)
    points = _points(cells, seed=int(size))
    by_geometry = _unit_of_geometry(cells, points.geometry.values)
    assert np.array_equal(unit_of(cells, points), by_geometry)
    # and arithmetic did the work: most random points inside the district (all but
    # those in the clipped cells along its edges) were settled by it
    random = points.geometry.values[:20_000]
    inside = shapely.contains(HOLED[0], random)
    xy = shapely.get_coordinates(random)
    _, settled = cells.attrs[LATTICE].locate(xy[:, 0], xy[:, 1])
    assert settled[inside].mean() > 0.7
    assert np.array_equal(count_points(cells, points),
                          np.bincount(by_geometry[by_geometry >= 0], minlength=len(cells)))


def test_cells_that_are_no_longer_the_lattice_are_located_by_geometry():
    cells = lattice(HOLED, 150)
    points = _points(cells, seed=3)
    notch = shapely.box(600, 600, 1000, 1000)  # inside the district: the bounds stay
    changed = {  # each keeps the attrs, none is the lattice any more
        "filtered": cells.iloc[5:].reset_index(drop=True),
        "reordered": cells.sort_values("cell", ascending=False).reset_index(drop=True),
        "cut": cells.assign(geometry=cells.geometry.difference(notch)),
    }
    for how, units in changed.items():
        assert LATTICE in units.attrs, how
        assert np.array_equal(unit_of(units, points),
                              _unit_of_geometry(units, points.geometry.values)), how


def test_far_from_the_origin_and_with_odd_points():
    district = HOLED.translate(500_000, 4_400_000)
    cells = lattice(district, 150)
    points = _points(cells.translate(-500_000, -4_400_000).to_frame("geometry"), seed=4
                     ).translate(500_000, 4_400_000)
    odd = gpd.GeoSeries([shapely.Point(np.nan, np.nan), shapely.Point(np.inf, 4_400_500),
                         shapely.Point()], crs=32635)
    for located in (gpd.GeoDataFrame(geometry=points, crs=32635),
                    gpd.GeoDataFrame(geometry=pd.concat([points, odd]), crs=32635)):
        assert np.array_equal(unit_of(cells, located),
                              _unit_of_geometry(cells, located.geometry.values))
    assert len(unit_of(cells, gpd.GeoDataFrame(geometry=[], crs=32635))) == 0


def test_the_arrangement_goes_along_without_being_copied():
    cells = lattice(HOLED, 150)
    arrangement = cells.attrs[LATTICE]
    assert cells.copy().attrs[LATTICE] is arrangement
    assert cells.assign(extra=1).attrs[LATTICE] is arrangement
    assert not arrangement.slots.flags.writeable
