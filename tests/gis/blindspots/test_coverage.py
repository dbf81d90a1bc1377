"""Coverage of a plan on constructed cases whose answer is known by hand, and the same
areas computed by PostGIS as the reference."""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import MultiPolygon, Polygon, box

from gridgis.gis.blindspots.coverage import plan_coverage

CRS = 32635


def frame(codes, geoms, communities=None):
    return gpd.GeoDataFrame({"code": codes, "community": communities or [None] * len(codes)},
                            geometry=geoms, crs=CRS)


def test_a_gap_of_known_area_is_found_and_named_by_its_neighbours():
    # Two 100 m squares 10 m apart in a 210 x 100 district: a 10 x 100 m gap.
    grids = frame(["A", "B"], [box(0, 0, 100, 100), box(110, 0, 210, 100)])
    result = plan_coverage(grids, box(0, 0, 210, 100))
    gaps = result.gaps[~result.gaps["sliver"]]
    assert len(gaps) == 1
    assert gaps["area_m2"].iloc[0] == pytest.approx(1000.0)
    assert sorted(gaps["grids"].iloc[0]) == ["A", "B"]
    assert result.gap_m2 == pytest.approx(1000.0)
    assert result.overlaps.empty
    assert result.has_gaps_or_overlaps
    assert result.covered_m2 == pytest.approx(20_000.0)
    assert dict(zip(result.grids["code"], result.grids["gap_m2"], strict=True)) == \
        {"A": pytest.approx(1000.0), "B": pytest.approx(1000.0)}


def test_overlaps_and_slivers_are_told_apart_by_the_tolerance():
    # A and B overlap by 5 x 100 m; C overlaps B by a 0.05 x 100 m sliver (5 m²).
    grids = frame(["A", "B", "C"], [box(0, 0, 105, 100), box(100, 0, 200, 100),
                                    box(199.95, 0, 300, 100)])
    result = plan_coverage(grids, box(0, 0, 300, 100), sliver_m2=10)
    solid = result.overlaps[~result.overlaps["sliver"]]
    assert list(zip(solid["grid_a"], solid["grid_b"], strict=True)) == [("A", "B")]
    assert solid["area_m2"].iloc[0] == pytest.approx(500.0)
    sliver = result.overlaps[result.overlaps["sliver"]]
    assert sliver["area_m2"].iloc[0] == pytest.approx(5.0)
    assert result.gaps.empty
    assert result.has_gaps_or_overlaps
    # With a larger tolerance the same overlap is a sliver and the plan passes.
    assert not plan_coverage(grids, box(0, 0, 300, 100), sliver_m2=600).has_gaps_or_overlaps


def test_parts_holes_and_crossing_the_community_boundary():
    ring = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(40, 40), (60, 40), (60, 60),
                                                                (40, 60)]])
    split = MultiPolygon([box(100, 0, 150, 100), box(160, 0, 199, 100), box(200, 0, 202, 2)])
    grids = frame(["R", "S", "H"], [ring, split, box(40, 40, 60, 60)],
                  communities=["west", "east", "west"])
    communities = gpd.GeoDataFrame({"code": ["west", "east"]},
                                   geometry=[box(0, 0, 120, 100), box(120, 0, 202, 100)],
                                   crs=CRS)
    result = plan_coverage(grids, box(0, 0, 202, 100), communities, sliver_m2=10)
    rows = result.grids.set_index("code")
    assert rows.loc["R", "holes"] == 1  # filled by H: a hole, but no gap
    assert rows.loc["S", "parts"] == 3
    assert rows.loc["S", "sliver_parts"] == 1  # the 2 x 2 m part
    assert rows.loc["S", "outside_community_m2"] == pytest.approx(20 * 100)
    assert rows.loc["R", "outside_community_m2"] == 0
    gaps = result.gaps[~result.gaps["sliver"]]
    # 150-160 (1,000 m²), and 199-200 joined to the strip above the 2 x 2 part (296 m²)
    assert list(gaps["area_m2"]) == [pytest.approx(1000), pytest.approx(100 + 2 * 98)]
    assert gaps["community"].iloc[0] == "east"


def test_gap_and_overlap_areas_agree_with_postgis(conn):
    grids = frame(["A", "B", "C"], [
        Polygon([(0, 0), (120, 0), (95, 100), (0, 100)]),
        Polygon([(100, 0), (200, 0), (200, 100), (90, 100)]),
        box(0, 100, 180, 170)])
    region = box(0, 0, 200, 170)
    result = plan_coverage(grids, region, sliver_m2=0)
    wkts = [g.wkt for g in grids.geometry]
    gap, overlap = conn.execute(sa.text("""
        WITH g AS (SELECT ST_GeomFromText(w) AS geom, i FROM unnest(CAST(:w AS text[]))
                   WITH ORDINALITY AS t(w, i))
        SELECT ST_Area(ST_Difference(ST_GeomFromText(:region), (SELECT ST_Union(geom) FROM g))),
               (SELECT sum(ST_Area(ST_Intersection(a.geom, b.geom))) FROM g a JOIN g b
                ON a.i < b.i AND ST_Intersects(a.geom, b.geom))"""),
        {"w": wkts, "region": region.wkt}).one()
    assert result.gaps["area_m2"].sum() == pytest.approx(gap)
    assert result.overlaps["area_m2"].sum() == pytest.approx(overlap)
    assert gap > 100 and overlap > 100


def test_without_a_region_only_overlaps_count():
    grids = frame(["A", "B"], [box(0, 0, 100, 100), box(150, 0, 250, 100)])
    result = plan_coverage(grids, None)
    assert result.gaps.empty and result.overlaps.empty
