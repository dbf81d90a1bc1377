"""Edits that keep a plan a partition, on constructed grids with known results (GEOS
areas computed by hand: 100 m squares)."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import LineString, box

from gridgis.gis.planning.reshape import EditRefused, merge, parts, reshape, split

ROW = {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100), "C": box(200, 0, 300, 100)}
COMMUNITY = box(0, 0, 300, 100)


def assert_partition(before: dict, after: dict) -> None:
    """Same land covered, no two grids overlapping."""
    merged = {**before, **after}
    geoms = list(merged.values())
    assert shapely.union_all(geoms).area == pytest.approx(
        shapely.union_all(list(before.values())).area, abs=0.01)
    for i, a in enumerate(geoms):
        for b in geoms[i + 1:]:
            assert a.intersection(b).area < 0.01


def test_a_line_across_a_grid_splits_it_at_the_line():
    pieces = split(ROW["A"], LineString([(40, -0.3), (40, 100.2)]))
    assert [round(p.area) for p in pieces] == [6000, 4000]
    assert pieces[0].bounds == pytest.approx((40, 0, 100, 100))
    assert_partition({"A": ROW["A"]}, {"A": pieces[0], "A-2": pieces[1]})


def test_a_line_that_does_not_cross_the_grid_or_cuts_a_sliver_is_refused():
    with pytest.raises(EditRefused, match="does not cut") as refused:
        split(ROW["A"], LineString([(40, 10), (40, 90)]))
    assert refused.value.shape.length == pytest.approx(80)
    with pytest.raises(EditRefused, match="piece of 5.0 m²"):
        split(ROW["A"], LineString([(0.05, -1), (0.05, 101)]), snap_m=0)
    # within the snapping distance the line lies on the boundary: nothing to cut
    with pytest.raises(EditRefused, match="does not cut"):
        split(ROW["A"], LineString([(0.05, -1), (0.05, 101)]))


def test_neighbours_merge_and_strangers_do_not():
    merged = merge({"A": ROW["A"], "B": ROW["B"]})
    assert merged.area == pytest.approx(20000) and parts(merged) == 1
    with pytest.raises(EditRefused, match="C share no boundary with A") as refused:
        merge({"A": ROW["A"], "C": ROW["C"]})
    assert refused.value.details["grids"] == ["C"]


def test_moving_a_boundary_out_takes_land_from_the_neighbour():
    after = reshape("A", box(0, 0, 130, 100), ROW, COMMUNITY)
    assert after["A"].area == pytest.approx(13000) and after["B"].area == pytest.approx(7000)
    assert set(after) == {"A", "B"}
    assert_partition(ROW, after)


def test_moving_a_boundary_in_gives_the_land_to_the_neighbour():
    after = reshape("B", box(100, 0, 170, 100), ROW, COMMUNITY)
    assert after["B"].area == pytest.approx(7000) and after["C"].area == pytest.approx(13000)
    assert "A" not in after  # the lost strip borders C along 100 m, A nowhere
    assert_partition(ROW, after)


def test_a_hole_that_no_neighbour_borders_is_a_gap_and_refused():
    holed = box(0, 0, 100, 100).difference(box(30, 30, 50, 50))
    with pytest.raises(EditRefused, match="400 m² in no grid") as refused:
        reshape("A", holed, ROW, COMMUNITY)
    assert refused.value.shape.area == pytest.approx(400)


def test_a_drawing_outside_the_community_is_refused_or_clipped():
    with pytest.raises(EditRefused, match="outside the grid's community"):
        reshape("A", box(-50, 0, 100, 100), ROW, COMMUNITY)
    # reassigning clips to the community: A gains from B only
    after = reshape("A", shapely.union(ROW["A"], box(50, -50, 120, 150)), ROW, COMMUNITY,
                    clip=True)
    assert after["A"].area == pytest.approx(12000)
    assert_partition(ROW, after)


def test_an_edit_that_cuts_a_grid_in_two_or_leaves_the_target_in_pieces_is_refused():
    with pytest.raises(EditRefused, match="cut grid B into 2 pieces"):
        reshape("A", shapely.union(ROW["A"], box(100, 40, 200, 60)), ROW, COMMUNITY,
                clip=True)
    with pytest.raises(EditRefused, match="cut grid A into 2 pieces"):
        reshape("A", shapely.union(ROW["A"], box(250, 0, 300, 100)), ROW, COMMUNITY,
                clip=True)
    with pytest.raises(EditRefused, match="take all of grid B"):
        reshape("A", box(0, 0, 200, 100), ROW, COMMUNITY)


def test_a_boundary_drawn_within_the_snapping_distance_changes_nothing():
    with pytest.raises(EditRefused, match="changes nothing"):
        reshape("A", box(0, 0, 100.3, 99.8), ROW, COMMUNITY)


def test_uncovered_land_inside_the_community_closes_a_gap():
    grids = {"A": box(0, 0, 100, 100), "B": box(120, 0, 200, 100)}  # a 20 m gap
    after = reshape("A", box(0, 0, 120, 100), grids, box(0, 0, 200, 100))
    assert after["A"].area == pytest.approx(12000) and set(after) == {"A"}
