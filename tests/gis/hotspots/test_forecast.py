"""Forecasts never see the scored period; the backtest reports every method with its
tuned parameters; long histories reach long half-lives; the kernel density against a
direct computation."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis.gis.hotspots.forecast import METHODS, Incidents, backtest, forecast, tune
from gridgis.gis.hotspots.kde import kernel_density
from gridgis.gis.hotspots.lattice import lattice

AREA = gpd.GeoSeries([shapely.box(0, 0, 3000, 3000)], crs=32635)
START = pd.Timestamp("2026-01-01", tz="UTC")


def synthetic(seed: int, days: int = 120) -> Incidents:
    """Stable hotspots (fixed addresses with neighbourhood spill-over) plus noise."""
    rng = np.random.default_rng(seed)
    hot = rng.uniform(300, 2700, (8, 2))
    n_hot, n_noise = 40 * days // 30, 25 * days // 30
    xy = np.vstack([hot[rng.integers(0, 8, n_hot)] + rng.normal(0, 60, (n_hot, 2)),
                    rng.uniform(0, 3000, (n_noise, 2))])
    when = START + pd.to_timedelta(rng.uniform(0, days, len(xy)), unit="D")
    return Incidents(xy, pd.Series(when))


@pytest.fixture(scope="module")
def cells():
    return lattice(AREA, 150, "square")


def test_forecast_ignores_everything_after_its_window(cells):
    incidents = synthetic(1)
    end = START + pd.Timedelta(days=90)
    before = forecast(cells, incidents, START, end, pd.Timedelta(days=30))
    future = incidents.when >= end
    moved = Incidents(incidents.xy.copy(), incidents.when)
    moved.xy[future.to_numpy()] = [1500.0, 1500.0]  # rewrite the future entirely
    after = forecast(cells, moved, START, end, pd.Timedelta(days=30))
    np.testing.assert_array_equal(before, after)


def test_backtest_reports_each_method_and_the_oracle_bounds_them(cells):
    table = backtest(cells, synthetic(2), START, START + pd.Timedelta(days=90),
                     START + pd.Timedelta(days=120))
    # a 90-day window: counts over its last 3 years or last year would be counts_all
    assert set(table["method"]) == {*METHODS, "oracle"} - {"counts_3y", "counts_1y"}
    assert set(table["coverage"]) == {0.01, 0.05, 0.10}
    parameters = table.drop_duplicates("method").set_index("method")["parameters"]
    assert set(parameters["blended"]) == {"bandwidth_m", "half_life_days", "count_share"}
    assert set(parameters["ewma"]) == {"half_life_days"} and parameters["counts_all"] == {}
    for _, group in table.groupby("coverage"):
        pai = group.set_index("method")["pai"]
        assert pai["oracle"] >= pai.drop("oracle").max() - 1e-9
        assert (group.set_index("method")["pei"] <= 1 + 1e-9).all()


def test_blend_beats_the_baselines_on_stable_hotspots(cells):
    tables = [backtest(cells, synthetic(seed), START, START + pd.Timedelta(days=90),
                       START + pd.Timedelta(days=120)) for seed in range(3)]
    mean = pd.concat(tables).groupby(["method"])["pai"].mean()
    assert mean["blended"] > mean["last_period"]
    assert mean["blended"] > mean["kde"]


def test_unknown_method_is_rejected(cells):
    with pytest.raises(ValueError, match="unknown forecast method"):
        forecast(cells, synthetic(1), START, START + pd.Timedelta(days=30),
                 pd.Timedelta(days=7), "crystal_ball")


def test_a_long_stable_history_is_tuned_to_a_long_half_life(cells):
    """Four years of 60 weak hotspots that never move (one incident every two months
    each) in as much noise: a month of data cannot tell them from the noise, years can,
    so the tuning must reach half-lives of a year and more."""
    rng = np.random.default_rng(5)
    days = 4 * 365
    hot = rng.uniform(100, 2900, (60, 2))
    n = 60 * days // 60
    xy = np.vstack([hot[rng.integers(0, 60, n)] + rng.normal(0, 20, (n, 2)),
                    rng.uniform(0, 3000, (n, 2))])
    when = START + pd.to_timedelta(rng.uniform(0, days, len(xy)), unit="D")
    tuned = tune(cells, Incidents(xy, pd.Series(when)), START,
                 START + pd.Timedelta(days=days), pd.Timedelta(days=90))
    assert tuned.ewma_half_life_days >= 365
    assert tuned.blend.half_life_days >= 365


@pytest.mark.parametrize("pairs_per_batch", [2_000_000, 50])
def test_the_kernel_density_equals_a_direct_sum(monkeypatch, pairs_per_batch):
    monkeypatch.setattr("gridgis.gis.hotspots.kde.PAIRS_PER_BATCH", pairs_per_batch)
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 2000, (300, 2))
    xy = np.vstack([rng.uniform(0, 2000, (500, 2)), centres[:5], centres[:5]])  # shared
    weights = rng.uniform(0, 1, len(xy))
    d2 = ((centres[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    for h in (75.0, 300.0):
        kernel = np.where(d2 <= (4 * h) ** 2, np.exp(-d2 / (2 * h * h)), 0)
        np.testing.assert_allclose(kernel_density(centres, xy, h, weights),
                                   (kernel * weights).sum(1), rtol=1e-9, atol=1e-12)
        both = kernel_density(centres, xy, h, np.column_stack([weights, 2 * weights]))
        np.testing.assert_allclose(both[:, 1], 2 * both[:, 0])
        np.testing.assert_allclose(kernel_density(centres, xy, h), kernel.sum(1))
    assert not kernel_density(centres, np.zeros((0, 2)), 150.0).any()


def test_the_study_area_can_be_the_cells_with_incidents_in_training(cells):
    incidents = synthetic(2)
    args = (cells, incidents, START, START + pd.Timedelta(days=90),
            START + pd.Timedelta(days=120))
    everything, active = backtest(*args), backtest(*args, active_only=True)
    trained = incidents.between(START, START + pd.Timedelta(days=90))
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*trained.xy.T), crs=cells.crs)
    lived = cells.loc[gpd.sjoin(cells, points, predicate="intersects").index.unique()]
    assert active["area_km2"][0] == pytest.approx(round(lived.area.sum() / 1e6, 3))
    assert everything["area_km2"][0] == pytest.approx(9.0)
    # the same share of less land is fewer cells: without the empty land the oracle's
    # PAI falls (the empty land inflated it)
    oracle = {name: t[t.method == "oracle"].set_index("coverage")["pai"]
              for name, t in (("all", everything), ("active", active))}
    assert (oracle["active"] <= oracle["all"] + 1e-9).all()


def test_counts_over_the_last_years_appear_for_longer_windows(cells):
    incidents = synthetic(5, days=4 * 365)
    end = START + pd.Timedelta(days=3 * 365 + 200)
    table = backtest(cells, incidents, START, end, end + pd.Timedelta(days=90))
    assert set(table["method"]) == {*METHODS, "oracle"}
    pai = table[table.coverage == 0.05].set_index("method")["pai"]
    assert pai["counts_1y"] != pai["counts_all"] or pai["counts_3y"] != pai["counts_all"]
