"""Camera views cut by buildings, on cases computed by hand; the greedy siting against
the optimal maximal covering from spopt (an independent solver)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from gridgis.gis.blindspots.cameras import (
    covering_sets,
    greedy_sites,
    in_view,
    sectors,
    view_polygons,
)


def cameras(*rows):
    """rows of (x, y, bearing, fov, range)"""
    x, y, bearing, fov, reach = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"bearing_deg": bearing, "fov_deg": fov, "range_m": reach},
                            geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
                            crs=32635)


def test_a_bare_sector_has_the_area_of_its_circle_slice():
    wedge = sectors(np.array([0.0]), np.array([0.0]), np.array([45.0]), np.array([90.0]),
                    np.array([50.0]))[0]
    exact = math.pi * 50 ** 2 / 4
    assert wedge.area == pytest.approx(exact, rel=0.005)  # chords every 5 degrees
    assert wedge.covers(Point(20, 20)) and not wedge.covers(Point(-5, 20))


def test_a_camera_behind_a_wall_sees_nothing_past_it():
    # Looking east, 90 degrees wide, 50 m; a wall 10-12 m east spans the whole view.
    view = view_polygons(cameras((0, 0, 90, 90, 50)), [box(10, -30, 12, 30)])[0]
    assert view.area == pytest.approx(10 * 20 / 2)  # the triangle in front of the wall
    assert view.covers(Point(8, 0))
    assert not view.intersects(Point(11, 0))  # the wall itself
    assert not view.intersects(Point(20, 0))  # behind it
    assert not view.intersects(Point(40, 15))


def test_a_building_casts_a_shadow_and_the_rest_stays_in_view():
    # A 10 x 10 m block 20 m north of an all-round camera of 50 m.
    view = view_polygons(cameras((0, 0, 0, 360, 50)), [box(-5, 20, 5, 30)])[0]
    assert not view.intersects(Point(0, 40))  # straight behind it
    assert view.covers(Point(0, -40)) and view.covers(Point(30, 30))
    # The shadow is the slice between the rays through the block's near corners: its
    # angle is 2 * atan(5 / 20) on the near side.
    shadow = math.pi * 50 ** 2 - view.area
    near = 2 * math.atan(5 / 20)
    assert shadow == pytest.approx(near / 2 * 50 ** 2 - 20 * 5, rel=0.02)


def test_a_courtyard_open_towards_the_camera_is_seen_into():
    u_shape = Polygon([(20, -20), (40, -20), (40, 20), (20, 20), (20, 15), (35, 15),
                       (35, -15), (20, -15)])  # open towards the camera at the origin
    view = view_polygons(cameras((0, 0, 90, 120, 60)), [u_shape])[0]
    assert view.covers(Point(30, 0))  # inside the courtyard
    assert not view.intersects(Point(45, 0))  # behind its back wall
    assert list(in_view(shapely.points([[30, 0], [45, 0], [10, 5]]), [view])) == \
        [True, False, True]


def test_a_camera_on_a_wall_sees_out_and_not_through_its_building():
    block = box(0, 0, 20, 20)
    # On the west wall at (0, 10), one looking west (out), one east (into the block).
    out, into = view_polygons(cameras((0, 10, 270, 90, 30), (0, 10, 90, 90, 30)), [block])
    wedge = math.pi * 30 ** 2 / 4
    assert out.area == pytest.approx(wedge, rel=0.01)  # nothing blocks it
    assert not out.intersects(Point(10, 10))
    assert into.area < 1.0  # the 0.5 m between the camera and its wall
    assert not into.intersects(Point(10, 10)) and not into.intersects(Point(25, 10))
    # Inside the footprint (a geocoding error) counts as on the nearest wall.
    inside = view_polygons(cameras((1, 10, 270, 90, 30)), [block])[0]
    assert inside.area == pytest.approx(wedge, rel=0.01)
    assert inside.covers(Point(-10, 10))


def test_the_greedy_picks_the_best_site_first_and_reports_gains():
    coverage = [np.array([0, 1, 2]), np.array([2, 3]), np.array([3, 4, 5, 6]), np.array([0])]
    sites = greedy_sites(coverage, np.ones(7), k=3)
    assert [(s.candidate, s.gain) for s in sites] == [(2, 4.0), (0, 3.0)]  # then no gain
    assert sites[-1].cumulative == 7.0
    already = np.zeros(7, bool)
    already[[3, 4, 5, 6]] = True
    assert greedy_sites(coverage, np.ones(7), 1, already)[0].candidate == 0


def test_the_greedy_reaches_the_guaranteed_share_of_the_optimal_covering():
    from spopt.locate import MCLP

    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 1000, (150, 2))
    weights = rng.integers(1, 5, 150).astype(float)
    candidates = rng.uniform(0, 1000, (40, 2))
    distance = np.hypot(*(demand[:, None, :] - candidates[None, :, :]).transpose(2, 0, 1))
    radius, k = 150.0, 5
    coverage = [np.flatnonzero(distance[:, c] <= radius) for c in range(len(candidates))]
    greedy = greedy_sites(coverage, weights, k)[-1].cumulative
    model = MCLP.from_cost_matrix(distance, weights, service_radius=radius,
                                  p_facilities=k).solve(__import__("pulp").PULP_CBC_CMD(
                                      msg=False))
    covered = np.zeros(len(demand), bool)
    for c in np.flatnonzero([v.value() > 0.5 for v in model.fac_vars]):
        covered |= distance[:, c] <= radius
    optimal = weights[covered].sum()
    assert greedy <= optimal + 1e-9
    assert greedy >= (1 - 1 / math.e) * optimal
    assert greedy >= 0.9 * optimal  # in practice far above the bound


def test_covering_sets_use_views_cut_by_buildings():
    targets = shapely.points([[10, 0], [30, 0], [0, 25]])
    sets = covering_sets(shapely.points([[0, 0]]), targets, np.array([box(15, -10, 20, 10)]),
                         range_m=40)
    assert sorted(sets[0].tolist()) == [0, 2]  # (30, 0) is behind the building
