"""Hit rate, PAI and PEI on hand-computed cases, and the oracle against a linear
programme solved by scipy."""

import numpy as np
import pytest
from scipy.optimize import linprog

from gridgis.gis.hotspots.accuracy import accuracy


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
