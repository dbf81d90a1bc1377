"""Gi* against esda and the textbook formula; FDR against a hand-computed case."""

import geopandas as gpd
import numpy as np
import pytest
from esda import G_Local
from libpysal import examples
from libpysal.weights import Queen, lat2W

from gridgis.gis.hotspots.gistar import confidence_classes, fdr_threshold, gi_star


@pytest.fixture(scope="module")
def columbus():
    frame = gpd.read_file(examples.get_path("columbus.shp"))
    return frame["CRIME"].to_numpy(), Queen.from_dataframe(frame, use_index=False)


def textbook_gi_star(x: np.ndarray, w) -> np.ndarray:
    """Getis & Ord (1995) Gi* with binary weights including i, as ArcGIS documents it."""
    n = len(x)
    mean = x.mean()
    s = np.sqrt((x ** 2).mean() - mean ** 2)
    dense = w.full()[0] + np.eye(n)
    wsum = dense.sum(axis=1)
    w2sum = (dense ** 2).sum(axis=1)
    numerator = dense @ x - mean * wsum
    denominator = s * np.sqrt((n * w2sum - wsum ** 2) / (n - 1))
    return numerator / denominator


def test_z_scores_match_esda(columbus):
    y, w = columbus
    ours = gi_star(y, w).z
    reference = G_Local(y, w, transform="B", permutations=0, star=True).Zs
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-9)


def test_z_scores_match_the_textbook_formula(columbus):
    y, w = columbus
    np.testing.assert_allclose(gi_star(y, w).z, textbook_gi_star(y, w), rtol=0, atol=1e-9)


def test_permutation_p_values_are_seeded_and_agree_with_esda(columbus):
    y, w = columbus
    a = gi_star(y, w, permutations=9999, seed=12345)
    b = gi_star(y, w, permutations=9999, seed=12345)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    reference = G_Local(y, w, transform="B", permutations=9999, star=True, seed=1,
                        n_jobs=1)
    # Different random draws: the pseudo p-values agree within Monte Carlo error
    # (sd of a p near 0.5 with 9,999 draws is 0.005).
    np.testing.assert_allclose(a.p_sim, np.minimum(1, 2 * reference.p_sim), atol=0.03)
    assert np.corrcoef(a.p_sim, reference.p_sim)[0, 1] > 0.99


def test_fdr_threshold_hand_computed():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    # alpha 0.05: i/m * alpha = 0.005, 0.010, 0.015, ... -> p(1), p(2) pass, p(3..) fail
    assert fdr_threshold(p, 0.05) == 0.008
    # alpha 0.10: 0.01 * i -> p(6) = 0.06 <= 0.06 is the largest passing, so all six
    # smallest are discoveries even though p(3) = 0.039 > 0.03 (step-up procedure)
    assert fdr_threshold(p, 0.10) == 0.06
    assert fdr_threshold(np.array([0.2, 0.3]), 0.05) == 0.0


def test_fdr_is_stricter_than_raw_p_values():
    z = np.array([2.0, -2.0, 0.5])
    p = np.array([0.04, 0.045, 0.6])
    assert confidence_classes(z, p, fdr=False).tolist() == [95, -95, 0]
    assert confidence_classes(z, p, fdr=True).tolist() == [90, -90, 0]


def test_a_cluster_of_high_values_is_a_99_percent_hot_spot():
    w = lat2W(15, 15, rook=False)
    values = np.ones(225)
    hot = [7 * 15 + 7 + d for d in (-16, -15, -14, -1, 0, 1, 14, 15, 16)]
    values[hot] = 30
    result = gi_star(values, w)
    assert result.classes[7 * 15 + 7] == 99
    assert (result.classes >= 0).all()
    assert (result.classes[hot] > 0).all()


def test_no_incidents_no_hot_spots():
    w = lat2W(5, 5)
    assert (gi_star(np.zeros(25), w).classes == 0).all()


def test_equal_values_have_no_hot_spots():
    result = gi_star(np.full(25, 3.0), lat2W(5, 5))
    assert (result.classes == 0).all() and np.isfinite(result.z).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_z_scores_match_esda_on_generated_data(seed):
    rng = np.random.default_rng(seed)
    w = lat2W(30, 30, rook=False)
    values = rng.poisson(rng.gamma(2.0, 1.5, 900)).astype(float)
    reference = G_Local(values, w, transform="B", permutations=0, star=True).Zs
    np.testing.assert_allclose(gi_star(values, w).z, reference, rtol=0, atol=1e-9)


def test_distance_band_weights_match_esda():
    from libpysal.weights import DistanceBand

    rng = np.random.default_rng(9)
    centres = rng.uniform(0, 1000, (200, 2))
    w = DistanceBand(centres, threshold=150, binary=True, silence_warnings=True)
    values = rng.poisson(3, 200).astype(float)
    reference = G_Local(values, w, transform="B", permutations=0, star=True).Zs
    np.testing.assert_allclose(gi_star(values, w).z, reference, rtol=0, atol=1e-9)
