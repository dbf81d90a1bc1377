"""Hit rate, PAI and PEI on hand-computed cases, the oracle against a linear programme
solved by scipy, and the bootstrap of a period's incidents against its exact moments."""

import numpy as np
import pytest
from scipy.optimize import linprog

from gridgis.gis.hotspots.accuracy import accuracy, resampled_hit_rates, selection


def test_pai_on_the_issue_example():
    table = accuracy(np.array([6, 3, 0]), np.array([3, 2, 1]), coverages=(1 / 3, 2 / 3, 1))
    np.testing.assert_allclose(table["pai"], [2.0, 1.5, 1.0])
    np.testing.assert_allclose(table["hit_rate"], [6 / 9, 1.0, 1.0])
    np.testing.assert_allclose(table["pei"], [1.0, 1.0, 1.0])


def test_pei_below_one_when_the_forecast_misses_the_best_cells():
    table = accuracy(np.array([0, 3, 6]), np.array([3, 2, 1]), coverages=(1 / 3,))
    assert table["hit_rate"][0] == 0.0 and table["pei"][0] == 0.0
    table = accuracy(np.array([1, 3, 6]), np.array([1, 3, 2]), coverages=(1 / 3,))
    assert table["pei"][0] == pytest.approx(3 / 6)


def test_unequal_areas_flag_by_area_share():
    observed = np.array([5, 5, 0, 0])
    predicted = np.array([4, 3, 2, 1])
    area = np.array([1.0, 1.0, 4.0, 4.0])
    table = accuracy(observed, predicted, area, coverages=(0.2,))
    assert table["area_share"][0] == pytest.approx(0.2)
    assert table["pai"][0] == pytest.approx(1.0 / 0.2)


def test_the_last_cell_counts_in_part_so_the_area_is_exactly_the_budget():
    table = accuracy(np.array([6, 3, 0]), np.array([3, 2, 1]), coverages=(0.5,))
    assert table["area_share"][0] == 0.5
    assert table["hit_rate"][0] == pytest.approx((6 + 3 / 2) / 9)
    assert table["pai"][0] == pytest.approx((6 + 3 / 2) / 9 / 0.5)


def test_a_forecast_of_one_big_cell_cannot_beat_the_oracle():
    """Flagging whole cells, a forecast that picked the big cell took 80 % of the area
    for a 10 % budget and scored PEI 7; by area budget it gets its share of the cell."""
    observed, area = np.array([0, 1, 7]), np.array([1.0, 1.0, 8.0])
    table = accuracy(observed, np.array([0, 0, 1]), area, coverages=(0.1,))
    assert table["hit_rate"][0] == pytest.approx(7 / 8 / 8)
    assert table["pei"][0] == pytest.approx((7 / 8) / 1)  # the oracle takes the small cell


def test_cells_are_ranked_by_density_not_count():
    observed, area = np.array([10, 3]), np.array([100.0, 1.0])
    table = accuracy(observed, np.array([10, 3]), area, coverages=(1 / 101,))
    assert table["hit_rate"][0] == pytest.approx(3 / 13)  # the small, dense cell first
    assert table["pei"][0] == pytest.approx(1.0)


def test_the_oracle_is_the_linear_programme_optimum_and_pei_never_exceeds_one():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(2, 40))
        area = rng.uniform(0.05, 5.0, n)
        observed = rng.poisson(rng.uniform(0, 4, n)).astype(float)
        observed[0] += 1
        expected = rng.uniform(0, 3, n)
        for coverage in (0.01, 0.05, 0.1, 0.37):
            table = accuracy(observed, expected, area, coverages=(coverage,))
            assert 0 <= table["pei"][0] <= 1 + 1e-12
            # the best share of each cell under the area budget, by scipy's LP solver
            best = linprog(-observed, A_eq=[area], b_eq=[coverage * area.sum()],
                           bounds=[(0, 1)] * n, method="highs")
            oracle = accuracy(observed, observed, area, coverages=(coverage,))["hit_rate"][0]
            assert oracle * observed.sum() == pytest.approx(-best.fun, rel=1e-9)
            assert table["hit_rate"][0] <= oracle + 1e-12


def test_cells_without_area_are_refused():
    with pytest.raises(ValueError, match="positive area"):
        accuracy(np.array([1, 2]), np.array([1, 2]), np.array([1.0, 0.0]))


def test_equal_densities_are_ordered_by_the_tie_break_not_by_cell_order():
    observed, expected = np.array([0, 5]), np.array([1.0, 1.0])
    assert accuracy(observed, expected, coverages=(0.5,))["hit_rate"][0] == 0.0
    broken = accuracy(observed, expected, coverages=(0.5,), tie_break=np.array([0.0, 1.0]))
    assert broken["hit_rate"][0] == 1.0
    # a tie-break never overrides the forecast's own order
    assert accuracy(observed, np.array([2.0, 1.0]), coverages=(0.5,),
                    tie_break=np.array([0.0, 1.0]))["hit_rate"][0] == 0.0


def test_selection_takes_whole_cells_by_density_and_the_last_in_part():
    area = np.array([1.0, 2.0, 1.0, 4.0])
    share = selection(np.array([1.0, 8.0, 3.0, 2.0]), area, coverage=0.5)
    # densities 1, 4, 3, 0.5: cells 1 and 2 fill 3 of the 4 m² budget, cell 0 the rest
    np.testing.assert_allclose(share, [1.0, 1.0, 1.0, 0.0])
    share = selection(np.array([1.0, 8.0, 3.0, 2.0]), area, coverage=0.3)
    np.testing.assert_allclose(share, [0.0, 1.0, 0.4, 0.0])  # 2.4 m²: 2 + 0.4 of cell 2
    assert share @ area == pytest.approx(0.3 * area.sum())


def test_redrawn_incidents_have_the_multinomial_mean_and_variance():
    observed = np.array([30, 10, 0, 60])
    picks = np.column_stack([selection(np.array([3.0, 1, 0, 6]), np.ones(4), 0.25),
                             np.ones(4)])
    rates = resampled_hit_rates(observed, picks, draws=20_000, seed=3)
    assert rates.shape == (20_000, 2)
    np.testing.assert_allclose(rates[:, 1], 1.0)  # every cell picked: every incident hit
    # the picked cell holds p = 0.6 of the incidents: hit rate ~ Binomial(100, p) / 100
    assert rates[:, 0].mean() == pytest.approx(0.6, abs=0.002)
    assert rates[:, 0].var() == pytest.approx(0.6 * 0.4 / 100, rel=0.05)
    again = resampled_hit_rates(observed, picks, draws=20_000, seed=3)
    np.testing.assert_array_equal(rates, again)


def test_identical_forecasts_differ_in_no_draw_and_an_empty_period_hits_nothing():
    picks = np.column_stack([np.array([1.0, 0.5, 0.0])] * 2)
    rates = resampled_hit_rates(np.array([2, 5, 3]), picks, draws=500, seed=1)
    np.testing.assert_array_equal(rates[:, 0], rates[:, 1])
    assert not resampled_hit_rates(np.zeros(3, int), picks, draws=5, seed=1).any()
