"""Getis-Ord Gi* hotspots with false-discovery-rate control.

The statistic comes from PySAL ``esda.G_Local(star=True)`` on binary weights that
include each unit itself, as ArcGIS's Hot Spot Analysis uses. p-values are two-sided;
a unit is a 90/95/99 % hot (or cold) spot when its p-value passes the Benjamini-Hochberg
threshold at α = 0.10/0.05/0.01 (FDR correction, as ArcGIS's Optimized Hot Spot
Analysis applies by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

LEVELS = ((0.01, 99), (0.05, 95), (0.10, 90))


def fdr_threshold(p_values: np.ndarray, alpha: float) -> float:
    """The Benjamini-Hochberg cut-off: the largest p(i) with p(i) <= i/m * alpha
    (0 when none qualifies)."""
    p = np.sort(np.asarray(p_values, dtype=float))
    m = len(p)
    if m == 0:
        return 0.0
    passing = np.flatnonzero(p <= alpha * np.arange(1, m + 1) / m)
    return float(p[passing[-1]]) if len(passing) else 0.0


def confidence_classes(z: np.ndarray, p: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """+99/+95/+90 for hot spots, negative for cold spots, 0 for not significant."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    result = np.zeros(len(z), dtype=int)
    for alpha, level in reversed(LEVELS):  # weakest first, stronger overwrite
        cut = fdr_threshold(p, alpha) if fdr else alpha
        significant = p <= cut if fdr else p < cut
        result[significant] = np.sign(z[significant]).astype(int) * level
    return result


def conditional_p(values: np.ndarray, weights, observed: np.ndarray, permutations: int,
                  seed: int, chunk: int = 512) -> np.ndarray:
    """Folded pseudo p-values of Gi* under conditional randomisation (each unit keeps its
    value; its k neighbours are drawn from the other n − 1), as esda computes them:
    (min(#sim ≥ obs, #sim < obs) + 1) / (permutations + 1).

    As in esda, one matrix of random draws serves every unit (indices at or above the
    unit's own are shifted by one to skip it); units are processed in groups with the
    same number of neighbours, vectorised.
    """
    n = len(values)
    rng = np.random.default_rng(seed)
    cardinality = np.asarray([len(weights.neighbors[k]) for k in weights.id_order])
    most = int(cardinality.max()) if n else 0
    draws = np.stack([rng.choice(n - 1, size=most, replace=False)
                      for _ in range(permutations)])  # (permutations, most)
    total = values.sum()
    p = np.ones(n)
    for k in np.unique(cardinality):
        members = np.flatnonzero(cardinality == k)
        base = draws[:, :k]
        for start in range(0, len(members), chunk):
            units = members[start:start + chunk]
            index = base[None, :, :] + (base[None, :, :] >= units[:, None, None])
            simulated = (values[index].sum(axis=2) + values[units, None]) / total
            larger = (simulated >= observed[units, None]).sum(axis=1)
            larger = np.minimum(larger, permutations - larger)
            p[units] = (larger + 1) / (permutations + 1)
    return p


@dataclass
class GiStarResult:
    z: np.ndarray
    p: np.ndarray  # two-sided, from the normal approximation
    p_sim: np.ndarray | None  # two-sided pseudo p-values from conditional permutations
    classes: np.ndarray

    def frame(self) -> pd.DataFrame:
        data = {"z": self.z, "p": self.p, "class": self.classes}
        if self.p_sim is not None:
            data["p_sim"] = self.p_sim
        return pd.DataFrame(data)


def star_weights(weights):
    """``weights`` with each unit its own neighbour (weight 1), as Gi* counts it: for
    ``gi_star``'s ``with_self``, when many values are tested on one set of weights."""
    from libpysal.weights import fill_diagonal

    return fill_diagonal(weights, 1)


def gi_star(values: np.ndarray, weights, *, permutations: int = 0, seed: int = 0,
            fdr: bool = True, use_permutations: bool = False, with_self=None
            ) -> GiStarResult:
    """Gi* for ``values`` on ``weights`` (a libpysal W without self-neighbours; the unit
    itself is added, or ``with_self``, ``star_weights(weights)`` made beforehand, is
    used). Classes use the analytical p-values unless ``use_permutations``."""
    from esda import G_Local

    values = np.asarray(values, dtype=float)
    if len(values) != weights.n:
        raise ValueError(f"{len(values)} values for {weights.n} units")
    if with_self is not None and with_self.n != weights.n:
        raise ValueError(f"self-weights of {with_self.n} units for {weights.n} units")
    if values.sum() == 0 or np.all(values == values[0]):  # Gi* is undefined: no variance
        zeros = np.zeros(len(values))
        return GiStarResult(zeros, np.ones(len(values)), None, zeros.astype(int))
    g = G_Local(values, weights if with_self is None else with_self, transform="B",
                permutations=0, star=True)
    z = np.asarray(g.Zs, dtype=float)
    p = 2 * stats.norm.sf(np.abs(z))
    p_sim = None
    if permutations:
        p_sim = np.minimum(1.0, 2 * conditional_p(values, weights, np.asarray(g.Gs),
                                                  permutations, seed))
    basis = p_sim if use_permutations and p_sim is not None else p
    return GiStarResult(z, p, p_sim, confidence_classes(z, basis, fdr=fdr))
