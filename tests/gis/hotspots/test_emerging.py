"""Emerging-hotspot rules: every class from a constructed series; Mann-Kendall by hand."""

import numpy as np
import pytest
from libpysal.weights import lat2W

from gridgis.gis.hotspots.emerging import (
    classify,
    emerging_hotspots,
    mann_kendall,
    mann_kendall_rows,
)

UP, FLAT, DOWN = (3.0, 0.001), (0.0, 0.9), (-3.0, 0.001)


def test_mann_kendall_on_a_known_series():
    # S = 10, Var(S) = n(n-1)(2n+5)/18 = 16.667, z = (S-1)/sqrt(Var) = 2.2045
    z, p = mann_kendall(np.array([1, 2, 3, 4, 5.0]))
    assert z == pytest.approx(2.2045407685, abs=1e-9)
    assert p == pytest.approx(0.0274863361, abs=1e-9)
    assert mann_kendall(np.array([2, 2, 2, 2.0])) == (0.0, 1.0)


@pytest.mark.parametrize("states, trend, expected", [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], FLAT, "new hot spot"),
    ([0, 0, 0, 0, 0, 0, 0, 1, 1, 1], FLAT, "consecutive hot spot"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], UP, "intensifying hot spot"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], FLAT, "persistent hot spot"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], DOWN, "diminishing hot spot"),
    ([0, 1, 0, 0, 1, 0, 1, 0, 0, 1], FLAT, "sporadic hot spot"),
    ([-1, 0, 0, 1, 0, 0, 0, 0, 0, 1], FLAT, "oscillating hot spot"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], FLAT, "historical hot spot"),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, -1], FLAT, "new cold spot"),
    ([0, 0, 0, 0, 0, 0, -1, -1, -1, -1], FLAT, "consecutive cold spot"),
    ([-1] * 10, DOWN, "intensifying cold spot"),
    ([-1] * 10, FLAT, "persistent cold spot"),
    ([-1] * 10, UP, "diminishing cold spot"),
    ([0, -1, 0, -1, 0, 0, -1, 0, 0, -1], FLAT, "sporadic cold spot"),
    ([1, 0, 0, -1, 0, 0, 0, 0, 0, -1], FLAT, "oscillating cold spot"),
    ([-1] * 9 + [0], FLAT, "historical cold spot"),
    ([0, 1, 0, 0, 0, 0, 0, 0, 0, 0], FLAT, "no pattern"),
])
def test_each_pattern_from_a_constructed_series(states, trend, expected):
    assert classify(np.array(states), *trend) == expected


def test_a_growing_hotspot_intensifies_and_a_late_one_is_new():
    # Gi* is scale-free, so intensification means standing out more against a noisy
    # background over time (a block against a constant background would saturate).
    w = lat2W(11, 11, rook=False)
    rng = np.random.default_rng(3)
    bins = 12
    counts = rng.poisson(4, (121, bins)).astype(float)
    centre = 5 * 11 + 5
    block = [centre + d for d in (-12, -11, -10, -1, 0, 1, 10, 11, 12)]
    counts[np.ix_(block, range(bins))] = np.round(np.linspace(8, 16, bins)) \
        + rng.poisson(1, (9, bins))
    corner = 9 * 11 + 1
    counts[np.ix_([corner + d for d in (-12, -11, -10, -1, 0, 1, 10, 11, 12)],
                  [bins - 1])] = 25
    result = emerging_hotspots(counts, w)
    assert result.loc[centre, "pattern"] == "intensifying hot spot"
    assert result.loc[centre, "hot_bins"] == bins
    assert result.loc[corner, "pattern"] == "new hot spot"
    assert (result["pattern"] == "no pattern").mean() > 0.8


def test_mann_kendall_of_every_row_equals_pymannkendalls_test_row_by_row():
    import pymannkendall

    rng = np.random.default_rng(3)
    rows = np.vstack([
        rng.normal(0, 1, (40, 24)) + np.linspace(0, rng.uniform(-2, 2), 24),  # trends
        rng.integers(0, 4, (40, 24)).astype(float),  # many ties
        np.r_[np.zeros(12), np.ones(12)][np.newaxis, :],  # two tied halves
    ])
    z, p = mann_kendall_rows(rows)
    for row, zi, pi in zip(rows, z, p, strict=True):
        reference = pymannkendall.original_test(row)
        assert (zi, pi) == pytest.approx((reference.z, reference.p), abs=1e-12)
    assert (z[rows.shape[0] - 1] > 0) and (p < 0.05).any() and (p > 0.05).any()
    constant = mann_kendall_rows(np.full((2, 5), 7.0))
    assert constant[0].tolist() == [0.0, 0.0] and constant[1].tolist() == [1.0, 1.0]
    gappy = np.array([[1.0, np.nan, 2.0, 3.0, 4.0]])
    assert mann_kendall_rows(gappy)[0][0] == pytest.approx(
        pymannkendall.original_test([1.0, 2.0, 3.0, 4.0]).z)
