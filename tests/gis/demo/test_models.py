"""The synthetic models match their documented parameters and are reproducible."""

import copy

import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis.gis.demo import incidents, load_model, population

MODEL, _ = load_model()
TODAY = pd.Timestamp("2026-11-01")
BOUNDARY = shapely.box(-1e5, -1e5, 1e5, 1e5)


def anchors(seed: int = 3, n: int = 40) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {kind: rng.uniform(-5000, 5000, (n, 2))
            for kind in ("nightlife", "shops", "transport", "homes", "major_roads", "parks")}


def steady_params():
    """The model without emerging/fading anchors, whose expectation is exact."""
    params = copy.deepcopy(MODEL["incidents"])
    params["emerge_share"] = params["fade_share"] = 0.0
    return params


def test_same_seed_same_incidents_other_seed_other_incidents():
    a = incidents.simulate(anchors(), BOUNDARY, MODEL["incidents"], 7, months=3)
    b = incidents.simulate(anchors(), BOUNDARY, MODEL["incidents"], 7, months=3)
    c = incidents.simulate(anchors(), BOUNDARY, MODEL["incidents"], 8, months=3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not a["x"].equals(c["x"])


def test_counts_and_categories_match_the_model():
    months, params = 12, steady_params()
    events = incidents.simulate(anchors(), BOUNDARY, params, 11, months=months)
    background = events[events["generation"] == 0]
    for category in {s["category"] for s in params["sources"]}:
        rate = sum(s["rate"] for s in params["sources"] if s["category"] == category)
        expected = rate * 40 * months
        observed = (background["category"] == category).sum()
        assert observed == pytest.approx(expected, rel=0.15, abs=15), category
    # the Hawkes cascade multiplies the total by about 1 / (1 - branching)
    ratio = len(events) / len(background)
    assert ratio == pytest.approx(1 / (1 - params["hawkes"]["branching"]), rel=0.1)
    assert set(events["category"]) == {s["category"] for s in params["sources"]}


def test_daily_cycle_follows_the_profile():
    params = steady_params()
    events = incidents.simulate(anchors(n=500), BOUNDARY, params, 5, months=12)
    night = events[(events["generation"] == 0) & (events["source"] == "nightlife")]
    local_hour = night["occurred_at"].dt.tz_convert(params["time_zone"]).dt.hour
    observed = np.bincount(local_hour, minlength=24) / len(local_hour)
    profile = np.asarray(params["profiles"]["night"], float)
    expected = profile / profile.sum()
    assert 0.5 * np.abs(observed - expected).sum() < 0.06  # total variation distance


def test_weekly_cycle_follows_the_profile():
    params = steady_params()
    events = incidents.simulate(anchors(n=500), BOUNDARY, params, 5, months=12)
    shops = events[(events["generation"] == 0) & (events["source"] == "shops")]
    weekday = shops["occurred_at"].dt.tz_convert(params["time_zone"]).dt.day_of_week
    observed = np.bincount(weekday, minlength=7) / len(weekday)
    weights = np.asarray(params["profiles"]["weekday"], float)
    # a weekday's share over a weekend day's share, as the weights say (1.1 / 0.75)
    expected = weights[:5].mean() / weights[5:].mean()
    assert observed[:5].mean() / observed[5:].mean() == pytest.approx(expected, rel=0.15)


def test_near_repeats_are_close_in_space_and_time():
    events = incidents.simulate(anchors(), BOUNDARY, steady_params(), 9, months=6)
    assert (events["generation"] > 0).any()
    assert events["occurred_at"].is_monotonic_increasing


def test_residents_follow_the_documented_shares():
    rng = np.random.default_rng(1)
    homes = pd.DataFrame({"household_ref": [f"H{i}" for i in range(20_000)]})
    people = population.residents(homes, MODEL["residents"], TODAY, rng)
    weights = np.asarray(MODEL["residents"]["household_size_weights"])
    expected_size = (np.arange(1, 6) * weights / weights.sum()).sum()
    assert len(people) / len(homes) == pytest.approx(expected_size, rel=0.03)
    floating = people.drop_duplicates("household_ref")["residence_type"].eq("floating").mean()
    assert floating == pytest.approx(MODEL["residents"]["floating_share"], abs=0.02)
    assert people["synthetic"].all()
    assert people["community_correction"].mean() == pytest.approx(0.002 * 0.87, abs=0.0015)
    born = pd.to_datetime(people["birth_date"])
    assert born.max() <= TODAY  # nobody is born after the day the demo describes
    assert born.min() > TODAY - pd.DateOffset(years=101)


def test_same_seed_same_residents():
    homes = pd.DataFrame({"household_ref": [f"H{i}" for i in range(500)]})
    a = population.residents(homes, MODEL["residents"], TODAY, np.random.default_rng(4))
    b = population.residents(homes, MODEL["residents"], TODAY, np.random.default_rng(4))
    pd.testing.assert_frame_equal(a, b)
