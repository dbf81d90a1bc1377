"""The province batch: every city's lattice Gi*, emerging hot spots and forecast
backtest computed on a Dask cluster of worker processes, each city read from its own
database where its task runs, equal what one process computes city by city, and what
the service computes for that city."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from distributed import Client, LocalCluster

from gridgis.gis.errors import InvalidInput, NotFound
from gridgis.gis.hotspots.province import (
    City,
    city_backtest,
    city_emerging,
    city_gi,
    for_each_city,
    province_gi,
)
from gridgis.gis.services.hotspot_inputs import Selection
from gridgis.gis.services.hotspots import BacktestWindow, HotspotService
from gridgis.gis.services.province import DatabaseCity
from tests.seed import add_hot_cluster

UTC = "UTC"
START, END = pd.Timestamp("2025-07-01", tz=UTC), pd.Timestamp("2026-07-01", tz=UTC)
TRAIN = (pd.Timestamp("2025-07-01", tz=UTC), pd.Timestamp("2026-04-01", tz=UTC),
         pd.Timestamp("2026-07-01", tz=UTC))


@pytest.fixture
def hot_db(seeded):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    return db


@pytest.fixture
def cities(hot_db):
    """Two cities, each its own database: the seeded district with a violent cluster
    growing through the first half of 2026, and the same district before 2026."""
    url = hot_db.engine.url.render_as_string(hide_password=False)
    return [DatabaseCity("hot", url, time_zone=UTC), DatabaseCity(
        "calm", url, end=pd.Timestamp("2026-01-01", tz=UTC).to_pydatetime(), time_zone=UTC)]


def test_the_cluster_computes_what_one_process_does(cities):
    tasks = [(city_gi, {"cell_m": 50}),
             (city_emerging, {"start": START, "end": END, "cell_m": 50}),
             (city_backtest, {"train_start": TRAIN[0], "train_end": TRAIN[1],
                              "test_end": TRAIN[2], "cell_m": 50})]
    alone = [for_each_city(task, cities, **kwargs) for task, kwargs in tasks]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        spread = [for_each_city(task, cities, client, **kwargs) for task, kwargs in tasks]
    for one, many in zip(alone, spread, strict=True):
        pd.testing.assert_frame_equal(many, one)
        assert list(one["city"].unique()) == ["hot", "calm"]
    gi, emerging, backtest = alone
    hot = gi[gi["city"] == "hot"]
    assert hot.loc[hot["incidents"].idxmax(), "class"] == 99  # the cluster's cell
    assert (gi[gi["city"] == "calm"]["incidents"] == 0).all()  # nothing before 2026
    hot = emerging[emerging["city"] == "hot"]
    # hot in each month of 2026, never before: the last 6 of 12 monthly bins
    assert hot.loc[hot["incidents"].idxmax(), "pattern"] == "consecutive hot spot"
    assert hot.loc[hot["incidents"].idxmax(), "hot_bins"] == 6
    assert set(emerging[emerging["city"] == "calm"]["pattern"]) == {"no pattern"}
    assert set(backtest["method"]) >= {"blended", "oracle"}


def test_a_city_is_computed_as_the_service_computes_it(hot_db, cities):
    service = HotspotService(hot_db.engine, 32635)
    city = cities[0].load()
    lattice = Selection("lattice", cell_m=50)
    ours = city_gi(city, cell_m=50, permutations=99, seed=7)
    theirs = service.gi(lattice, permutations=99, seed=7)
    for column in ("incidents", "z", "p", "p_sim", "class"):
        np.testing.assert_array_equal(ours[column], theirs[column], err_msg=column)
    np.testing.assert_allclose(ours[["x", "y"]], np.column_stack(
        [theirs.centroid.x, theirs.centroid.y]))

    # the service's dates and bins are UTC's: so are this city's
    ours = city_emerging(city, "2025-07-01", "2026-07-01", "month", cell_m=50)
    theirs = service.emerging(lattice.within(START.to_pydatetime(), END.to_pydatetime()),
                              "month")
    for column in ("pattern", "hot_bins", "cold_bins", "final_state", "incidents",
                   "trend_z", "trend_p"):
        np.testing.assert_array_equal(ours[column], theirs[column], err_msg=column)

    ours = city_backtest(city, *TRAIN, cell_m=50)
    theirs = service.backtest(lattice, BacktestWindow(*TRAIN))
    columns = ["method", "coverage", "hit_rate", "pai", "pei", "incidents", "area_km2"]
    pd.testing.assert_frame_equal(ours[columns], theirs[columns])


def test_bins_follow_the_citys_calendar():
    """An incident at 23:00 UTC on the last day of January is February's in Shanghai
    (UTC+8); dates without a time zone are the city's midnight."""
    box = shapely.box(0, 0, 300, 300)
    xy = np.array([[150.0, 150.0]] * 3)
    when = pd.DatetimeIndex(["2026-01-31 23:00", "2026-02-10 12:00", "2026-02-11 12:00"],
                            tz="UTC")
    shanghai = City("c", box, xy, "EPSG:32635", when, "Asia/Shanghai")
    assert shanghai.local("2026-02-01") == pd.Timestamp("2026-01-31 16:00", tz="UTC")
    utc = City("c", box, xy, "EPSG:32635", when, "UTC")
    february = ("2026-02-01", "2026-03-01")
    assert city_emerging(shanghai, *february, cell_m=100)["incidents"].sum() == 3
    assert city_emerging(utc, *february, cell_m=100)["incidents"].sum() == 2
    naive = City("c", box, xy, "EPSG:32635", when.tz_localize(None), "Asia/Shanghai")
    assert naive.when.equals(when)  # times without a zone are UTC, as stored


def test_a_citys_time_zone_is_the_one_given_or_its_databases(hot_db, cities):
    url = cities[0].url
    assert DatabaseCity("c", url).load().time_zone == "Asia/Shanghai"  # none recorded
    with hot_db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO gridgis_meta (key, value) VALUES "
                             "('timezone', 'Europe/Helsinki')"))
    assert DatabaseCity("c", url).load().time_zone == "Europe/Helsinki"
    assert DatabaseCity("c", url, time_zone="UTC").load().time_zone == "UTC"


def test_a_city_counts_what_lies_inside_and_repeats_with_its_seed(cities):
    city = cities[0].load()
    frame = city_gi(city, cell_m=50, permutations=99, seed=7)
    inside = shapely.covers(city.boundary, shapely.points(city.points)).sum()
    assert frame["incidents"].sum() == inside < len(city.points)  # some lie outside
    pd.testing.assert_frame_equal(frame, city_gi(city, cell_m=50, permutations=99, seed=7))


def test_what_cannot_be_computed_is_refused_with_its_reason(cities):
    untimed = City("untimed", shapely.box(0, 0, 500, 500), np.array([[10.0, 10.0]]),
                   "EPSG:32635")
    with pytest.raises(InvalidInput, match="untimed: the incidents' times"):
        city_emerging(untimed, START, END)
    city = cities[0].load()
    with pytest.raises(InvalidInput, match="bin must be one of"):
        city_emerging(city, START, END, bin="day")
    with pytest.raises(InvalidInput, match="at most 60"):
        city_emerging(city, START - pd.DateOffset(years=1), END, bin="week")
    with pytest.raises(InvalidInput, match="in order"):
        city_backtest(city, TRAIN[1], TRAIN[0], TRAIN[2])
    calm = cities[1].load()  # nothing after 2026-01-01: no cell is active in training
    with pytest.raises(InvalidInput, match="calm: no unit had an incident"):
        city_backtest(calm, "2026-02-01", "2026-03-01", "2026-04-01", active_only=True)
    with pytest.raises(ValueError, match="2 times for 1 incidents"):
        City("c", shapely.box(0, 0, 1, 1), np.array([[0.5, 0.5]]), "EPSG:32635",
             pd.DatetimeIndex(["2026-01-01", "2026-01-02"], tz="UTC"))


def test_a_failed_city_stops_the_batch_or_is_reported_beside_the_others(make_db, cities):
    empty = DatabaseCity("empty", make_db().engine.url.render_as_string(
        hide_password=False))
    with pytest.raises(NotFound, match="empty: there is no district"):
        empty.load()

    with pytest.raises(NotFound, match="empty: there is no district"):
        for_each_city(city_gi, [cities[0], empty], cell_m=50)
    failures: dict[str, str] = {}
    table = for_each_city(city_gi, [cities[0], empty, cities[1]], failures=failures,
                          cell_m=50)
    assert list(table["city"].unique()) == ["hot", "calm"]
    assert failures == {"empty": "NotFound: empty: there is no district or published "
                                 "grid to analyse"}


def test_no_cities_no_rows():
    assert province_gi([]).empty
