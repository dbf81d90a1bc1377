"""Knox: a constructed near-repeat pattern is detected, a Poisson pattern is not."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gridgis.gis.hotspots.near_repeat import elevated_extent, knox, risk_zones


def poisson_pattern(rng, n=800):
    return rng.uniform(0, 5000, (n, 2)), rng.uniform(0, 365, n)


def near_repeat_pattern(rng, seeds=300, followers=2):
    xy, days = poisson_pattern(rng, seeds)
    parents = rng.integers(0, seeds, seeds * followers // 2)
    child_xy = xy[parents] + rng.normal(0, 40, (len(parents), 2))
    child_days = days[parents] + rng.exponential(3, len(parents))
    return np.vstack([xy, child_xy]), np.concatenate([days, child_days])


def cell(table, distance_to, days_to):
    return table[(table.distance_to == distance_to) & (table.days_to == days_to)].iloc[0]


def test_near_repeats_are_detected():
    xy, days = near_repeat_pattern(np.random.default_rng(1))
    table = knox(xy, days, permutations=99, seed=2)
    closest = cell(table, 100, 7)
    assert closest["p"] == pytest.approx(0.01)  # the smallest a 99-permutation test gives
    assert closest["ratio"] > 3
    assert cell(table, 500, 35)["p"] > 0.05  # far and late: no interaction
    # repeats lie within ~100 m (σ = 40 m); ~10 % come 7–14 days later (mean delay 3 d)
    distance, days_extent = elevated_extent(table)
    assert distance == 100.0 and days_extent in (7.0, 14.0)


def test_a_poisson_pattern_shows_no_near_repeat():
    xy, days = poisson_pattern(np.random.default_rng(5))
    table = knox(xy, days, permutations=99, seed=6)
    assert cell(table, 100, 7)["p"] > 0.05
    assert (table["p"] < 0.05).mean() <= 0.15  # about alpha's share of false alarms
    assert elevated_extent(table) is None


def test_knox_is_reproducible_with_a_seed():
    xy, days = near_repeat_pattern(np.random.default_rng(1))
    pd.testing.assert_frame_equal(knox(xy, days, seed=3), knox(xy, days, seed=3))


def test_risk_zones_around_recent_incidents():
    now = pd.Timestamp("2026-03-10", tz="UTC")
    incidents = gpd.GeoDataFrame(
        {"occurred_at": pd.to_datetime(["2026-03-09", "2026-03-08", "2026-02-01"], utc=True)},
        geometry=gpd.points_from_xy([0, 50, 2000], [0, 0, 0]), crs=32635)
    zones = risk_zones(incidents, now, distance_m=100, days=7)
    assert len(zones) == 1  # two overlapping buffers; the old incident has expired
    assert zones.iloc[0]["incidents"] == 2
    assert zones.iloc[0]["until"] == pd.Timestamp("2026-03-16", tz="UTC")
