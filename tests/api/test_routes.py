"""`/routes` on the seeded district with imported streets."""

from __future__ import annotations

import json

import pytest
from pyproj import Transformer

from gridgis.gis.importing import import_file
from tests.helpers import X0, Y0

TO_WGS84 = Transformer.from_crs(32635, 4326, always_xy=True)


def lonlat(x: float, y: float) -> str:
    lon, lat = TO_WGS84.transform(X0 + x, Y0 + y)
    return f"{lon:.7f},{lat:.7f}"


def roads_geojson(path) -> None:
    """An L of two streets (west to east along y = 150, then north along x = 300) and a
    one-way street back south along x = 0, in WGS84."""
    def line(*xy):
        return {"type": "LineString",
                "coordinates": [list(TO_WGS84.transform(X0 + x, Y0 + y)) for x, y in xy]}
    features = [
        {"type": "Feature", "properties": {"highway": "residential", "name": "东街"},
         "geometry": line((0, 150), (300, 150))},
        {"type": "Feature", "properties": {"highway": "residential", "oneway": True},
         "geometry": line((300, 150), (300, 300))},
        {"type": "Feature", "properties": {"highway": "footway"},
         "geometry": line((0, 150), (0, 300))},
        {"type": "Feature", "properties": {"highway": "residential"},
         "geometry": {"type": "MultiLineString", "coordinates": [
             line((1000, 0), (1000, 100))["coordinates"],
             line((1100, 0), (1100, 100))["coordinates"]]}},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def test_a_route_over_the_imported_streets(seeded, client, tmp_path):
    path = tmp_path / "roads.geojson"
    roads_geojson(path)
    report = import_file(seeded[0], "roads", path, skip_invalid=True,
                         rejects_path=tmp_path / "r.csv")
    assert report.inserted == 3
    for _ in range(2):  # the second from the cached network
        response = client.get("/routes", params={"from": lonlat(0, 140), "to":
                                                 lonlat(310, 250), "mode": "foot"})
        assert response.status_code == 200, response.text
    body = response.json()
    # 10 m to the street, 300 m east, 100 m north, 10 m off the street
    assert body["properties"]["metres"] == pytest.approx(420, abs=0.5)
    assert body["properties"]["minutes"] == pytest.approx(420 / (5000 / 60), abs=0.01)
    assert body["geometry"]["type"] == "LineString"
    back = client.get("/routes", params={"from": lonlat(310, 250), "to": lonlat(0, 140),
                                         "mode": "car"})
    # By car the one-way street goes north only, to a dead end, and the footway is
    # closed to cars: there is no way back.
    assert back.status_code == 404 and "no route" in back.json()["detail"]


@pytest.mark.parametrize("params, field", [
    ({"from": "x", "to": "24.9,60.1"}, "from"), ({"from": "24.9,60.1", "to": "200,1"}, "to"),
    ({"from": "24.9,60.1", "to": "24.9,60.1", "mode": "boat"}, "mode")])
def test_bad_places_are_422s(client, params, field):
    response = client.get("/routes", params=params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_without_roads_a_route_is_a_clear_422(client):
    response = client.get("/routes", params={"from": lonlat(0, 0), "to": lonlat(10, 10)})
    assert response.status_code == 422 and "gridgis import roads" in response.json()["detail"]


def test_a_travel_time_matrix_over_the_imported_streets(seeded, client, tmp_path):
    path = tmp_path / "roads.geojson"
    roads_geojson(path)
    import_file(seeded[0], "roads", path, skip_invalid=True, rejects_path=tmp_path / "r.csv")

    def point(x, y):
        return [float(v) for v in lonlat(x, y).split(",")]
    body = {"points": [point(0, 140), point(310, 250), point(1000, 50)], "mode": "car"}
    response = client.post("/routes/matrix", json=body)
    assert response.status_code == 200, response.text
    minutes = response.json()["minutes"]
    walk = 10 / (5000 / 60)  # each end's 10 m walk to its street
    assert minutes[0][0] == 0 and minutes[0][1] == pytest.approx(
        walk * 2 + 300 / (25_000 / 60) + 100 / (25_000 / 60), abs=1e-3)
    assert minutes[1][0] is None  # the one-way street back is a dead end
    # the island street is not part of the largest piece: it joins the main network
    assert minutes[0][2] is not None
    bad = client.post("/routes/matrix", json={"points": [[200, 1]], "mode": "car"})
    assert bad.status_code == 422 and bad.json()["field"] == "points"
    too_many = client.post("/routes/matrix", json={"points": [[24.9, 60.1]] * 501})
    assert too_many.status_code == 422
