"""The compact polygon encoding round-trips."""

import numpy as np
import shapely

from gridgis.layers.encoding import SCALE, encode_polygons, script_json


def decode(packed):
    """A Python twin of the page's decodePolygons."""
    c, out = packed["coords"], []
    for f in range(len(packed["features"]) - 1):
        polygons = []
        for q in range(packed["features"][f], packed["features"][f + 1]):
            rings = []
            for r in range(packed["polygons"][q], packed["polygons"][q + 1]):
                x = y = 0
                ring = []
                for i in range(packed["rings"][r], packed["rings"][r + 1]):
                    x += c[2 * i]
                    y += c[2 * i + 1]
                    ring.append((x / SCALE, y / SCALE))
                rings.append(ring)
            polygons.append(shapely.Polygon(rings[0], rings[1:]))
        out.append(shapely.MultiPolygon(polygons))
    return out


def test_polygons_with_holes_and_parts_round_trip_to_a_metre():
    holed = shapely.box(24.9, 60.1, 24.95, 60.15).difference(
        shapely.box(24.91, 60.11, 24.92, 60.12))
    multi = shapely.MultiPolygon([shapely.box(25, 60, 25.01, 60.01),
                                  shapely.box(25.02, 60, 25.03, 60.01)])
    packed = encode_polygons([holed, multi], {"code": ["A", "B"]})
    decoded = decode(packed)
    assert [len(shapely.get_parts(g)) for g in decoded] == [1, 2]
    for original, back in zip([holed, multi], decoded, strict=True):
        assert shapely.hausdorff_distance(original, back) < 1e-5
        assert abs(original.area - back.area) / original.area < 1e-6
    assert packed["properties"] == {"code": ["A", "B"]}


def test_numbers_are_compact_and_missing_values_are_null():
    packed = encode_polygons([shapely.box(0, 0, 1, 1)] * 3,
                             {"v": [np.float64(2.0), np.nan, 1.23456]})
    assert packed["properties"]["v"] == [2, None, 1.235]


def test_script_json_cannot_close_the_script_element():
    text = script_json({"name": "</script><script>alert(1)</script>"})
    assert "</script>" not in text and "<" not in text
