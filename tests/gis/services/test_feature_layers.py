"""Staging an analysis's frame as a layer's rows: typed as the layer declares, lists
joined, missing and non-finite values null, tiny p-values kept, empty frames empty."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely

from gridgis.gis.features.layers import LAYERS
from gridgis.gis.services.feature_layers import staged_rows


def test_rows_are_typed_as_the_layer_declares():
    cells = gpd.GeoDataFrame(
        {"cell": [7, 9], "code": ["A", None], "incidents": [3.0, np.nan],
         "z": [4.2, np.inf], "p": [1.23e-12, 0.5], "class": [99, 0]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=32635
    ).set_index("cell", drop=False)
    fids, properties, wkbs = staged_rows(LAYERS["hotspots-gi"], cells, 32635)
    first, second = (json.loads(p) for p in properties)
    assert fids == [7, 9] and len(wkbs) == 2
    assert first == {"cell": 7, "code": "A", "incidents": 3, "z": 4.2, "p": 1.23e-12,
                     "class": 99}
    assert second["code"] is None and second["incidents"] is None and second["z"] is None


def test_lists_are_joined_and_an_empty_frame_stages_nothing():
    areas = gpd.GeoDataFrame({"incidents": [5], "grids": [["G1", "G2"]],
                              "peak_hours": [[22, 23]]},
                             geometry=[shapely.box(0, 0, 1, 1)], crs=32635)
    fids, properties, _ = staged_rows(LAYERS["hotspots-areas"], areas, 32635)
    staged = json.loads(properties[0])
    assert fids == [1] and staged["grids"] == "G1, G2" and staged["peak_hours"] == "22, 23"
    assert staged["share"] is None  # a field the frame lacks
    empty = gpd.GeoDataFrame(geometry=[], crs=32635)
    assert staged_rows(LAYERS["blindspots-gaps"], empty, 32635) == ([], [], [])
