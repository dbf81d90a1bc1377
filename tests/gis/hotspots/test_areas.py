"""Hotspot areas merge touching hot units and describe them."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridgis.gis.hotspots.areas import hotspot_areas


def test_touching_hot_cells_merge_and_carry_their_facts():
    cells = gpd.GeoDataFrame({"class": [99, 95, 0, 90]},
                             geometry=[shapely.box(0, 0, 100, 100),
                                       shapely.box(100, 0, 200, 100),
                                       shapely.box(200, 0, 300, 100),
                                       shapely.box(500, 0, 600, 100)], crs=32635)
    times = pd.to_datetime(["2026-01-02T22:00Z", "2026-01-03T22:30Z", "2026-01-05T10:00Z",
                            "2026-01-06T22:10Z", "2026-01-07T10:00Z"], utc=True)
    incidents = gpd.GeoDataFrame({"occurred_at": times}, geometry=gpd.points_from_xy(
        [50, 150, 250, 120, 550], [50] * 5), crs=32635)
    grids = gpd.GeoDataFrame({"code": ["A", "B", "C"]},
                             geometry=[shapely.box(0, 0, 150, 100),
                                       shapely.box(150, 0, 600, 100),
                                       shapely.box(0, 100, 600, 200)], crs=32635)
    areas = hotspot_areas(cells, incidents, grids)
    assert len(areas) == 2
    first = areas.iloc[0]
    assert first["area_m2"] == pytest.approx(20_000.0)
    assert (first["incidents"], first["peak_class"]) == (3, 99)
    assert first["share"] == pytest.approx(0.6)
    assert first["grids"] == ["A", "B"]  # C only shares an edge
    assert first["peak_hours"][0] == 22


def test_no_hot_units_no_areas():
    cells = gpd.GeoDataFrame({"class": [0, -95]}, geometry=[shapely.box(0, 0, 1, 1),
                                                          shapely.box(1, 0, 2, 1)], crs=32635)
    assert hotspot_areas(cells, gpd.GeoDataFrame({"occurred_at": []}, geometry=[],
                                                 crs=32635)).empty
