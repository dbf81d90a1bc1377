"""Generated plans on a synthetic city with known weights: two 600 m communities of
100 m street blocks holding 50 households each."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gridgis.gis.blindspots.coverage import plan_coverage
from gridgis.gis.errors import InvalidInput, NotFound
from gridgis.gis.services.plan_generate import GenerateOptions, generate
from tests.helpers import X0, Y0, add_grid, add_plan

SRID = 32635


@pytest.fixture
def city(make_db):
    db = make_db(srid=SRID)
    box = shapely.box
    with db.engine.begin() as conn:
        def area(level, code, geom, parent=None):
            return conn.execute(sa.text(
                "INSERT INTO areas (level, code, name, parent_id, geom) VALUES "
                "(:l, :c, :c, :p, ST_Multi(ST_GeomFromWKB(:w, :s))) RETURNING id"),
                {"l": level, "c": code, "p": parent, "w": geom.wkb, "s": SRID}).scalar_one()

        district = area("district", "D", box(X0, Y0, X0 + 1200, Y0 + 600))
        a = area("community", "A", box(X0, Y0, X0 + 600, Y0 + 600), district)
        b = area("community", "B", box(X0 + 600, Y0, X0 + 1200, Y0 + 600), district)
        lines = [((x, 0), (x, 600)) for x in range(0, 1201, 100)] + \
                [((0, y), (1200, y)) for y in range(0, 601, 100)]
        for (x0, y0), (x1, y1) in lines:
            conn.execute(sa.text(
                "INSERT INTO roads (highway, geom) VALUES ('residential', "
                "ST_SetSRID(ST_MakeLine(ST_MakePoint(:a, :b), ST_MakePoint(:c, :d)), :s))"),
                {"a": X0 + x0, "b": Y0 + y0, "c": X0 + x1, "d": Y0 + y1, "s": SRID})
        for table, extra in (("households", ""), ("people", "'居民', ")):
            columns = "name, geom" if extra else "geom"
            conn.execute(sa.text(f"""
                INSERT INTO {table} ({columns})
                SELECT {extra} ST_SetSRID(ST_MakePoint(
                    :x + bx * 100 + 5 + (i % 10) * 10, :y + by * 100 + 10 + (i / 10) * 20), :s)
                FROM generate_series(0, 11) bx, generate_series(0, 5) by,
                     generate_series(0, 49) i"""), {"x": X0, "y": Y0, "s": SRID})
        plan = add_plan(conn, "current")
        for column in range(6):  # community A: six columns of 300 households
            gid = add_grid(conn, plan, f"A{column}", box(X0 + 100 * column, Y0,
                                                          X0 + 100 * (column + 1), Y0 + 600))
            conn.execute(sa.text("UPDATE grids SET community_id = :c WHERE id = :g"),
                         {"c": a, "g": gid})
        gid = add_grid(conn, plan, "B0", box(X0 + 600, Y0, X0 + 1200, Y0 + 600))  # 1,800
        conn.execute(sa.text("UPDATE grids SET community_id = :c WHERE id = :g"),
                     {"c": b, "g": gid})
    return db


def grids_of(db, name: str) -> gpd.GeoDataFrame:
    with db.engine.connect() as conn:
        return gpd.read_postgis(sa.text(
            "SELECT g.code, c.code AS community, g.geom FROM grids g "
            "JOIN grid_plans p ON p.id = g.plan_id JOIN areas c ON c.id = g.community_id "
            "WHERE p.name = :n ORDER BY g.code"), conn, geom_col="geom", params={"n": name})


def households_in(db, grids: gpd.GeoDataFrame) -> np.ndarray:
    with db.engine.connect() as conn:
        homes = gpd.read_postgis("SELECT geom FROM households", conn, geom_col="geom")
    _, idx = grids.sindex.query(homes.geometry.values, predicate="within")
    return np.bincount(idx, minlength=len(grids))


def communities_of(db) -> gpd.GeoDataFrame:
    with db.engine.connect() as conn:
        return gpd.read_postgis("SELECT code, geom FROM areas WHERE level = 'community'",
                                conn, geom_col="geom")


@pytest.mark.parametrize("method", ["bisect", "maxp"])
def test_grids_from_scratch_are_within_bounds_contiguous_and_tile_each_community(
        city, method):
    report = generate(city.engine, SRID, GenerateOptions(
        name=f"new {method}", min_households=300, max_households=500, method=method))
    grids = grids_of(city, f"new {method}")
    homes = households_in(city, grids)
    assert homes.sum() == 3600 and ((300 <= homes) & (homes <= 500)).all(), homes
    assert (shapely.get_num_geometries(grids.geometry.values) == 1).all()
    communities = communities_of(city)
    for code, community in zip(communities["code"], communities.geometry, strict=True):
        mine = grids[grids["community"] == code]
        assert shapely.union_all(mine.geometry.values).symmetric_difference(
            community).area < 1.0
    coverage = plan_coverage(grids.rename_geometry("geometry"),
                             shapely.union_all(communities.geometry.values),
                             communities.rename_geometry("geometry"))
    assert not coverage.has_gaps_or_overlaps
    assert (coverage.grids["outside_community_m2"] < 1).all()
    assert report.proposed.out_of_bounds == 0 and report.out_of_bounds == []
    assert report.current.max == 1800 and report.current.out_of_bounds == 1
    assert report.proposed.grids == len(grids) and report.people == 3600


def test_starting_from_a_plan_keeps_the_grids_in_bounds_and_their_people(city):
    report = generate(city.engine, SRID, GenerateOptions(
        name="repaired", min_households=300, max_households=500, source="current"))
    grids = grids_of(city, "repaired")
    current = grids_of(city, "current")
    for column in range(6):  # A's grids were within bounds: kept, codes and shapes
        kept = grids[grids["code"] == f"A{column}"].geometry.iloc[0]
        assert kept.symmetric_difference(
            current[current["code"] == f"A{column}"].geometry.iloc[0]).area < 1.0
    b_grids = grids[grids["community"] == "B"]
    assert len(b_grids) == 4 and (households_in(city, b_grids) == 450).all()
    assert report.people_moved == 1350  # B's grid was cut in four: 3 of 4 moved


def test_a_kept_grid_stays_as_it_is_and_bad_options_are_refused(city):
    generate(city.engine, SRID, GenerateOptions(
        name="keep", min_households=300, max_households=500, community="A",
        keep=("A0",), source="current"))
    grids = grids_of(city, "keep")
    assert "A0" in set(grids["code"])
    b0 = grids[grids["community"] == "B"]  # the other community: copied as it was
    assert list(b0["code"]) == ["B0"] and round(b0.geometry.iloc[0].area) == 360_000
    with pytest.raises(NotFound, match="A9"):
        generate(city.engine, SRID, GenerateOptions(
            name="x", min_households=300, max_households=500, keep=("A9",),
            source="current"))
    with pytest.raises(InvalidInput, match="1.5"):
        generate(city.engine, SRID, GenerateOptions(
            name="x", min_households=400, max_households=500))
    with pytest.raises(NotFound, match="no community Z"):
        generate(city.engine, SRID, GenerateOptions(
            name="x", min_households=300, max_households=500, community="Z"))
    with city.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM grid_plans WHERE name = 'x'")
                            ).scalar_one() == 0
