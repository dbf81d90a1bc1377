"""Small builders and checks for API tests."""

from __future__ import annotations

from pyproj import Transformer

from tests.helpers import X0, Y0

PROBLEM = "application/problem+json"
# The centre of the seeded grid 00 (UTM 35N) in WGS84.
LON, LAT = Transformer.from_crs(32635, 4326, always_xy=True).transform(X0 + 50, Y0 + 50)


def point_feature(lon=LON, lat=LAT, **properties) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": properties}


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    return body
