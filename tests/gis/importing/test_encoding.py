"""The fast COPY encoders agree with shapely and pandas."""

import numpy as np
import pandas as pd
import shapely

from gridgis.gis.importing.encoding import ewkb_hex, iso_utc


def test_point_ewkb_matches_shapely():
    rng = np.random.default_rng(3)
    points = shapely.points(rng.uniform(-1e6, 1e6, 100), rng.uniform(-1e7, 1e7, 100))
    expected = shapely.to_wkb(shapely.set_srid(points, 32635), hex=True, include_srid=True)
    assert ewkb_hex(points, 32635).tolist() == expected.tolist()


def test_polygon_ewkb_round_trips():
    polygons = np.array([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 4)], dtype=object)
    decoded = shapely.from_wkb(ewkb_hex(polygons, 4547))
    assert shapely.equals(decoded, polygons).all()
    assert shapely.get_srid(decoded).tolist() == [4547, 4547]


def test_iso_utc_formats_and_leaves_missing_empty():
    values = pd.Series(pd.to_datetime(["2024-03-01T08:30:15+08:00", None], utc=True))
    assert iso_utc(values).tolist() == ["2024-03-01T00:30:15Z", ""]
