"""The province batch: every city's lattice Gi* computed on a Dask cluster of worker
processes, each city read from its own database where its task runs, equals what one
process computes city by city."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster

from gridgis.gis.hotspots.province import city_gi, province_gi
from gridgis.gis.services.province import DatabaseCity
from tests.seed import add_hot_cluster


@pytest.fixture
def cities(seeded, make_db):
    """Two cities, each its own database: the seeded district with a violent cluster,
    and the same district without it."""
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    url = db.engine.url.render_as_string(hide_password=False)
    return [DatabaseCity("hot", url), DatabaseCity("calm", url, end=pd.Timestamp(
        "2026-01-01", tz="UTC").to_pydatetime())]


def test_the_cluster_computes_what_one_process_does(cities):
    alone = province_gi(cities, cell_m=50)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        spread = province_gi(cities, cell_m=50, client=client)
    pd.testing.assert_frame_equal(spread, alone)
    assert list(alone["city"].unique()) == ["hot", "calm"]
    hot = alone[alone["city"] == "hot"]
    assert hot.loc[hot["incidents"].idxmax(), "class"] == 99  # the cluster's cell
    assert (alone[alone["city"] == "calm"]["incidents"] == 0).all()  # nothing before 2026


def test_a_city_is_computed_as_the_service_computes_it(cities):
    city = cities[0].load()
    frame = city_gi(city, cell_m=50, permutations=99, seed=7)
    inside = shapely.covers(city.boundary, shapely.points(city.points)).sum()
    assert frame["incidents"].sum() == inside < len(city.points)  # some lie outside
    again = city_gi(city, cell_m=50, permutations=99, seed=7)
    pd.testing.assert_frame_equal(frame, again)  # the seed makes p_sim repeatable
    assert {"z", "p", "class", "p_sim"} <= set(frame.columns)


def test_no_cities_no_rows():
    assert province_gi([]).empty
