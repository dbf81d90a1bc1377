"""Gi* against independent references: a hand-computed case, a value published with
esda's test suite, and a dense textbook implementation of the formula; FDR against a
hand-computed case. (gi_star wraps esda.G_Local, so its z-scores are never compared with
a live call into esda: that would compare the function with itself.)"""

import geopandas as gpd
import numpy as np
import pytest
from esda import G_Local
from libpysal import examples
from libpysal.weights import DistanceBand, Queen, W, lat2W

from gridgis.gis.hotspots.gistar import (
    confidence_classes,
    fdr_threshold,
    gi_star,
    star_weights,
)


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


# Hand-computed case: a 3x3 lattice, units numbered row by row
#
#     0 1 2        values   0 0 1
#     3 4 5                 0 1 3
#     6 7 8                 3 4 6
#
# Rook neighbours; Gi* adds the unit itself, so w_ij = 1 for j in N(i) + {i}, else 0.
#   n = 9, sum x = 18, mean X = 18/9 = 2
#   sum x^2 = 0+0+1+0+1+9+9+16+36 = 72, S^2 = 72/9 - 2^2 = 8 - 4 = 4, S = 2
#   Binary weights, so sum_j w_ij^2 = sum_j w_ij = W_i (3 at a corner, 4 on an edge,
#   5 in the centre) and the denominator is S * sqrt((9 W_i - W_i^2) / 8):
#     W = 3: (27 - 9) / 8 = 9/4,   sqrt = 3/2,       denominator = 2 * 3/2 = 3
#     W = 4: (36 - 16) / 8 = 5/2,  sqrt = sqrt(5/2), denominator = 2 sqrt(5/2) = sqrt(10)
#     W = 5: (45 - 25) / 8 = 5/2,  likewise            denominator = sqrt(10)
#   Numerator = sum_j w_ij x_j - X W_i = local sum - 2 W_i:
#     unit  j in N(i)+{i}  local sum            W  numerator   Gi*
#     0     0 1 3          0+0+0      =  0      3  0-6  = -6   -6/3        = -2
#     1     0 1 2 4        0+0+1+1    =  2      4  2-8  = -6   -6/sqrt(10) = -1.8973665961
#     2     1 2 5          0+1+3      =  4      3  4-6  = -2   -2/3        = -0.6666666667
#     3     0 3 4 6        0+0+1+3    =  4      4  4-8  = -4   -4/sqrt(10) = -1.2649110641
#     4     1 3 4 5 7      0+0+1+3+4  =  8      5  8-10 = -2   -2/sqrt(10) = -0.6324555320
#     5     2 4 5 8        1+1+3+6    = 11      4  11-8 =  3    3/sqrt(10) =  0.9486832981
#     6     3 6 7          0+3+4      =  7      3  7-6  =  1    1/3        =  0.3333333333
#     7     4 6 7 8        1+3+4+6    = 14      4  14-8 =  6    6/sqrt(10) =  1.8973665961
#     8     5 7 8          3+4+6      = 13      3  13-6 =  7    7/3        =  2.3333333333
#   (sqrt(10) = 3.16227766016838; the literals below carry 16 significant digits.)
HAND_VALUES = np.array([0, 0, 1, 0, 1, 3, 3, 4, 6], dtype=float)
HAND_NEIGHBOURS = {0: [1, 3], 1: [0, 2, 4], 2: [1, 5],
                   3: [0, 4, 6], 4: [1, 3, 5, 7], 5: [2, 4, 8],
                   6: [3, 7], 7: [4, 6, 8], 8: [5, 7]}
HAND_Z = np.array([-2.0, -1.8973665961010275, -0.6666666666666667,
                   -1.2649110640673518, -0.6324555320336759, 0.9486832980505138,
                   0.3333333333333333, 1.8973665961010275, 2.3333333333333333])


def test_z_scores_match_the_hand_computed_lattice():
    w = W(HAND_NEIGHBOURS)
    np.testing.assert_allclose(gi_star(HAND_VALUES, w).z, HAND_Z, rtol=0, atol=1e-12)


def test_textbook_reference_reproduces_the_hand_computed_lattice():
    # Anchors the dense reference used below on generated data.
    w = W(HAND_NEIGHBOURS)
    np.testing.assert_allclose(textbook_gi_star(HAND_VALUES, w), HAND_Z, rtol=0,
                               atol=1e-12)


# Published value: esda 2.9.0, esda/tests/test_getisord.py, TestGLocal.test_star_binary
# (DistanceBand(POINTS, threshold=15), y below, transform="B", star=True):
# Zs[0] = -1.39727626 (only unit 0 is published). Checked by hand with the formula:
#   n = 6, mean = 28.2/6 = 4.7, sum y^2 = 161.24, S^2 = 161.24/6 - 4.7^2 = 4.78333...,
#   S = 2.1870833; unit 0 at (10, 10) has neighbours (20, 10) at 10 and (15, 20) at
#   11.18, so W_0 = 3, local sum = 2 + 3 + 5 = 10, numerator = 10 - 3 * 4.7 = -4.1,
#   denominator = S * sqrt((6*3 - 9)/5) = 2.1870833 * 1.3416408 = 2.9343096,
#   Gi*_0 = -4.1 / 2.9343096 = -1.3972763.
ESDA_POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)])
ESDA_Y = np.array([2, 3, 3.2, 5, 8, 7])
ESDA_Z0 = -1.39727626


def test_z_score_matches_the_value_published_with_esda():
    w = DistanceBand(ESDA_POINTS, threshold=15)
    assert gi_star(ESDA_Y, w).z[0] == pytest.approx(ESDA_Z0, abs=1e-8)
    assert textbook_gi_star(ESDA_Y, w)[0] == pytest.approx(ESDA_Z0, abs=1e-8)


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
def test_z_scores_match_the_textbook_formula_on_generated_data(seed):
    rng = np.random.default_rng(seed)
    w = lat2W(30, 30, rook=False)
    values = rng.poisson(rng.gamma(2.0, 1.5, 900)).astype(float)
    np.testing.assert_allclose(gi_star(values, w).z, textbook_gi_star(values, w), rtol=0,
                               atol=1e-9)


def test_distance_band_weights_match_the_textbook_formula():
    rng = np.random.default_rng(9)
    centres = rng.uniform(0, 1000, (200, 2))
    w = DistanceBand(centres, threshold=150, binary=True, silence_warnings=True)
    values = rng.poisson(3, 200).astype(float)
    np.testing.assert_allclose(gi_star(values, w).z, textbook_gi_star(values, w), rtol=0,
                               atol=1e-9)


def test_self_weights_made_once_give_what_gi_star_makes_itself():
    weights = lat2W(6, 6)
    values = np.random.default_rng(5).poisson(3, 36).astype(float)
    alone = gi_star(values, weights, permutations=99, seed=1)
    shared = gi_star(values, weights, permutations=99, seed=1,
                     with_self=star_weights(weights))
    for name in ("z", "p", "p_sim", "classes"):
        np.testing.assert_array_equal(getattr(shared, name), getattr(alone, name))
    with pytest.raises(ValueError, match="units"):
        gi_star(values, weights, with_self=star_weights(lat2W(5, 5)))
