"""Shortest paths and travel-time matrices on hand-built networks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from gridgis.gis.network.graph import RoadGraph, Speeds, node_roads
from gridgis.gis.network.paths import shortest_path, travel_minutes

SPEEDS = Speeds(foot_kmh=6.0, car_kmh={"residential": 30.0}, car_default_kmh=30.0)
# 100 m a minute on foot, 500 m a minute by car


def network(*rows) -> RoadGraph:
    frame = gpd.GeoDataFrame({"highway": [r[1] for r in rows], "oneway": [r[2] for r in rows]},
                             geometry=[LineString(r[0]) for r in rows], crs=32635)
    return RoadGraph.from_edges(node_roads(frame))


# A 1 km square block, one-way anticlockwise for cars, with a footpath across it.
BLOCK = network(([(0, 0), (1000, 0)], "residential", True),
                ([(1000, 0), (1000, 1000)], "residential", True),
                ([(1000, 1000), (0, 1000)], "residential", True),
                ([(0, 1000), (0, 0)], "residential", True),
                ([(0, 500), (1000, 500)], "footway", False))


def test_on_foot_the_path_takes_the_shortest_way_and_cuts_across():
    path = shortest_path(BLOCK, (0, 400), (1000, 600), "foot", SPEEDS)
    # 100 m up the west side, 1000 m across the footpath, 100 m up the east side
    assert path.metres == pytest.approx(1200)
    assert path.minutes == pytest.approx(12.0)
    assert path.geometry.coords[0] == (0, 400) and path.geometry.coords[-1] == (1000, 600)
    assert path.geometry.intersects(LineString([(500, 490), (500, 510)]))


def test_by_car_one_way_streets_force_the_long_way_round():
    # The west side runs south. From 400 m up it to 600 m up: against it, so all the way
    # round: 400 down, 1000 east, 1000 north, 1000 west, 400 down.
    path = shortest_path(BLOCK, (0, 400), (0, 600), "car", SPEEDS)
    assert path.metres == pytest.approx(400 + 1000 + 1000 + 1000 + 400)
    assert path.minutes == pytest.approx(3800 / 500)
    forward = shortest_path(BLOCK, (0, 400), (0, 100), "car", SPEEDS)
    assert forward.metres == pytest.approx(300) and forward.minutes == pytest.approx(0.6)


def test_walks_to_and_from_the_street_are_part_of_the_path():
    path = shortest_path(BLOCK, (-30, 200), (200, 40), "foot", SPEEDS)
    # 30 m to the west side, 200 m down, 200 m east, 40 m up to the destination
    assert path.metres == pytest.approx(30 + 200 + 200 + 40)
    assert path.minutes == pytest.approx(4.7)


def test_points_by_an_island_join_the_main_network():
    # The main piece has two streets; the island one. A destination beside the island
    # is reached on the main network and walked to from its nearest point (the island
    # is not driven on: it cannot be reached).
    roads = network(([(0, 0), (100, 0)], "residential", False),
                    ([(100, 0), (200, 0)], "residential", False),
                    ([(5000, 0), (5100, 0)], "residential", False))
    path = shortest_path(roads, (0, 0), (5050, 0), "car", SPEEDS)
    assert path.minutes == pytest.approx(200 / 500 + 4850 / 100)
    assert path.metres == pytest.approx(5050)


def test_the_matrix_agrees_with_single_paths_and_is_zero_on_the_diagonal():
    points = np.array([[0, 400], [1000, 600], [0, 100], [500, 1000]], dtype=float)
    for mode in ("foot", "car"):
        matrix = travel_minutes(BLOCK, points, mode, SPEEDS)
        assert np.diag(matrix) == pytest.approx(np.zeros(4))
        for i in range(4):
            for j in range(4):
                if i != j:
                    assert matrix[i, j] == pytest.approx(shortest_path(
                        BLOCK, tuple(points[i]), tuple(points[j]), mode, SPEEDS).minutes)
    car = travel_minutes(BLOCK, points[[0, 2]], "car", SPEEDS)
    assert car[0, 1] == pytest.approx(300 / 500)  # with the one-way street
    assert car[1, 0] == pytest.approx(3700 / 500)  # against it: the long way round


def test_the_matrix_is_the_same_whatever_the_batch_and_on_a_shared_street():
    # Three points on the same (one-way) south side and two elsewhere.
    points = np.array([[100, 0], [600, 0], [900, 0], [1000, 300], [0, 700]], dtype=float)
    whole = travel_minutes(BLOCK, points, "car", SPEEDS)
    for batch in (1, 2, 3):
        assert travel_minutes(BLOCK, points, "car", SPEEDS, batch=batch) == \
            pytest.approx(whole)
    assert whole[0, 1] == pytest.approx(500 / 500)  # straight along the street
    assert whole[1, 0] == pytest.approx(3500 / 500)  # against it: round the block
    limited = travel_minutes(BLOCK, points, "car", SPEEDS, limit_min=2.0)
    assert np.isinf(limited[1, 0]) and limited[0, 1] == pytest.approx(1.0)


def test_bicycles_keep_to_one_way_streets_use_footways_and_not_steps():
    speeds = Speeds(foot_kmh=6.0, bike_kmh=12.0)  # 200 m a minute by bicycle
    # The west side runs south: 100 m down it to the footpath (open to bicycles), 1000 m
    # across, then 100 m up the east side, which runs north.
    path = shortest_path(BLOCK, (0, 600), (1000, 600), "bike", speeds)
    assert path.metres == pytest.approx(1200) and path.minutes == pytest.approx(6.0)
    # From below the path, going north against the west side is not allowed: round
    # by the south and east sides.
    assert shortest_path(BLOCK, (0, 400), (1000, 600), "bike", speeds).metres == \
        pytest.approx(400 + 1000 + 600)
    back = shortest_path(BLOCK, (0, 600), (0, 400), "bike", speeds)
    assert back.metres == pytest.approx(200)  # with the one-way street
    against = shortest_path(BLOCK, (0, 400), (0, 600), "bike", speeds)
    assert against.metres > 1000  # not against it
    stairs = network(([(0, 0), (100, 0)], "residential", False),
                     ([(100, 0), (200, 0)], "steps", False),
                     ([(100, 0), (100, 300), (200, 300), (200, 0)], "residential", False))
    assert shortest_path(stairs, (0, 0), (200, 0), "foot", speeds).metres == \
        pytest.approx(200)
    assert shortest_path(stairs, (0, 0), (200, 0), "bike", speeds).metres == \
        pytest.approx(100 + 300 + 100 + 300)
