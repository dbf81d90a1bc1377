"""Hit rate, PAI and PEI on hand-computed cases."""

import numpy as np
import pytest

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
