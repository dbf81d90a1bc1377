"""Reach over hand-built road networks whose travel times are known by hand, and the
noding checked against PostGIS's ST_Node."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString

from gridgis.gis.blindspots.reach import RoadGraph, Speeds, Thresholds, node_roads

WALK = Speeds(foot_kmh=6.0, car_kmh={"residential": 30.0}, car_default_kmh=30.0)
# 6 km/h: 100 m a minute on foot; 30 km/h: 500 m a minute by car.


def roads(*rows):
    """rows of (coordinates, highway, oneway)"""
    return gpd.GeoDataFrame({"highway": [r[1] for r in rows], "oneway": [r[2] for r in rows]},
                            geometry=[LineString(r[0]) for r in rows], crs=32635)


def graph(*rows) -> RoadGraph:
    return RoadGraph.from_edges(node_roads(roads(*rows)))


def test_a_street_six_minutes_away_is_flagged_at_five_and_not_at_seven():
    network = graph(([(0, 0), (1200, 0)], "residential", False))
    # Noded into one edge; its middle, 600 m from the post, is 6 minutes on foot.
    minutes = network.street_minutes(np.array([[0.0, 0.0]]), "foot", WALK)
    assert minutes == pytest.approx([6.0])
    assert minutes[0] > Thresholds(foot_min=5).foot_min
    assert not minutes[0] > Thresholds(foot_min=7).foot_min


def test_side_streets_meeting_mid_line_are_noded_and_routed_through():
    # A main street 0-1000 with a vertex at 400 where a side street starts (OSM style),
    # and a crossing street at 700 with no shared vertex.
    network = graph(([(0, 0), (400, 0), (1000, 0)], "residential", False),
                    ([(400, 0), (400, 300)], "residential", False),
                    ([(700, -100), (700, 100)], "residential", False))
    assert len(network.edges) == 3 + 1 + 2  # main split at 400 and 700; cross at 700
    minutes = network.street_minutes(np.array([[0.0, 0.0]]), "foot", WALK)
    by_end = {tuple(np.round(line.coords[-1])): m
              for line, m in zip(network.edges.geometry, minutes, strict=True)}
    assert by_end[(400, 300)] == pytest.approx(4.0 + 1.5)  # 400 m, then half of 300 m
    assert by_end[(700, 100)] == pytest.approx(7.0 + 0.5)


def test_one_way_streets_bind_cars_and_not_walkers():
    # A one-way loop drawn anticlockwise from the post's corner.
    network = graph(([(0, 0), (500, 0)], "residential", True),
                    ([(500, 0), (500, 500)], "residential", True),
                    ([(500, 500), (0, 500)], "residential", True),
                    ([(0, 500), (0, 0)], "residential", True))
    post = np.array([[0.0, 0.0]])
    car = network.street_minutes(post, "car", WALK)
    foot = network.street_minutes(post, "foot", WALK)
    last = int(np.argmax([line.coords[0] == (0, 500) for line in network.edges.geometry]))
    # By car the last side is reached the long way round: 3 sides, then half of it.
    assert car[last] == pytest.approx((1500 + 250) / 500)
    assert foot[last] == pytest.approx(250 / 100)  # on foot straight from the post


def test_the_nearest_post_wins_and_footways_are_closed_to_cars():
    network = graph(([(0, 0), (1000, 0)], "residential", False),
                    ([(1000, 0), (2000, 0)], "residential", False),
                    ([(2000, 0), (2000, 300)], "footway", False))
    posts = np.array([[0.0, 0.0], [2000.0, 0.0]])
    foot = network.street_minutes(posts, "foot", WALK)
    car = network.street_minutes(posts, "car", WALK)
    assert foot == pytest.approx([5.0, 5.0, 1.5])
    assert car[:2] == pytest.approx([1.0, 1.0]) and np.isinf(car[2])


def test_unreachable_and_beyond_the_limit_are_infinite():
    network = graph(([(0, 0), (100, 0)], "residential", False),
                    ([(5000, 0), (5100, 0)], "residential", False))
    minutes = network.street_minutes(np.array([[0.0, 0.0]]), "foot", WALK, limit_min=30)
    assert minutes[0] == pytest.approx(0.5) and np.isinf(minutes[1])
    three = graph(([(0, 0), (100, 0)], "residential", False),
                  ([(100, 0), (200, 0)], "residential", False),
                  ([(5000, 0), (5100, 0)], "residential", False))
    assert list(three.components()) == [0, 0, 1]  # the largest piece is 0
    assert np.isinf(network.street_minutes(np.zeros((0, 2)), "foot", WALK)).all()


def test_noding_agrees_with_postgis(conn):
    lines = roads(([(0, 0), (400, 0), (1000, 0)], "residential", False),
                  ([(400, 0), (400, 300)], "residential", False),
                  ([(700, -100), (700, 100)], "residential", False),
                  ([(0, 50), (1000, 60)], "residential", False),
                  ([(1000, 0), (1000, 60)], "residential", False))
    edges = node_roads(lines)
    pieces, length = conn.execute(sa.text("""
        SELECT count(*), sum(ST_Length(geom)) FROM (
            SELECT (ST_Dump(ST_Node(ST_Collect(ST_GeomFromText(w))))).geom
            FROM unnest(CAST(:w AS text[])) w) n"""),
        {"w": [g.wkt for g in lines.geometry]}).one()
    assert len(edges) == pieces
    assert edges.length.sum() == pytest.approx(length)


def test_a_post_beside_the_middle_of_a_street_starts_there():
    network = graph(([(0, 0), (1000, 0)], "residential", True))
    post = np.array([[500.0, 10.0]])  # 10 m off the street, half way along
    at = (np.array([0, 0]), np.array([0.75, 0.25]))
    foot = network.street_minutes(post, "foot", WALK, at=at)
    assert foot == pytest.approx([0.1 + 2.5, 0.1 + 2.5])  # 10 m walked, then 250 m
    car = network.street_minutes(post, "car", WALK, at=at)
    assert car[0] == pytest.approx(0.1 + 0.5)  # forwards along the one-way street
    assert np.isinf(car[1])  # not backwards
