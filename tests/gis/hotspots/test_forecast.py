"""Forecasts never see the scored period; the backtest reports every method."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis.gis.hotspots.forecast import Incidents, backtest, forecast
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
    assert set(table["method"]) == {"blended", "last_period", "kde", "oracle"}
    assert set(table["coverage"]) == {0.01, 0.05, 0.10}
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
