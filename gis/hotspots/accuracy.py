"""How well a hotspot forecast did: hit rate, PAI and PEI at coverages of the study area.

Coverage is an area budget. At coverage c the cells are taken in order of forecast
*density* (expected incidents per unit area, which is what the scores rank: a big cell
with many incidents is not a hotspot) until they fill the share c of the area, the last
one in part, its incidents counted pro rata. So every method and the oracle are scored
on exactly the same area, whatever the cells' sizes.

Hit rate = share of the period's incidents in that area; PAI (Chainey et al. 2008) =
hit rate / c; PEI (Hunt 2016) = hit rate / the oracle's, where the oracle fills the same
budget in order of the period's own density: the optimum of the fractional knapsack,
which no choice of cells, whole or in part, can beat. Hence 0 <= PEI <= 1.

Whether one forecast's lead over another is more than chance is judged by drawing the
scored period's incidents again from where they happened (``resampled_hit_rates``): both
forecasts' selections are fixed, so the draws give the spread of their paired ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGES = (0.01, 0.05, 0.10)
RANKED_BY = "density"  # what the table's cells are ranked by (said in every output)


def selection(expected: np.ndarray, area: np.ndarray, coverage: float,
              tie_break: np.ndarray | None = None) -> np.ndarray:
    """The share of each cell inside the first ``coverage`` share of the area, cells
    taken by density of ``expected`` (equal densities by ``tie_break``, higher first,
    then in cell order): 1 for whole cells, a fraction for the last one, else 0."""
    density = expected / area
    second = np.zeros(len(area)) if tie_break is None else np.asarray(tie_break, float)
    order = np.lexsort((np.arange(len(area)), -second, -density))
    budget = coverage * area.sum()
    filled = np.cumsum(area[order])
    whole = int(np.searchsorted(filled, budget, side="right"))
    share = np.zeros(len(area))
    share[order[:whole]] = 1.0
    if whole < len(order):
        before = filled[whole - 1] if whole else 0.0
        share[order[whole]] = (budget - before) / float(area[order[whole]])
    return share


def covered(expected: np.ndarray, area: np.ndarray, observed: np.ndarray,
            coverage: float, tie_break: np.ndarray | None = None) -> float:
    """Incidents (of ``observed``) in the first ``coverage`` share of the area
    (``selection``), the last cell's counted pro rata."""
    return float(np.asarray(observed, float) @ selection(expected, area, coverage,
                                                          tie_break))


def resampled_hit_rates(observed: np.ndarray, selections: np.ndarray, draws: int,
                        seed: int) -> np.ndarray:
    """Hit rates of fixed cell selections (cells × k, from ``selection``) when the
    period's incidents are drawn again, with replacement, from where they happened
    (a bootstrap over incidents; draws × k). Selections are compared on the same
    draws, so differences between them keep their pairing."""
    observed = np.asarray(observed, dtype=np.int64)
    total = int(observed.sum())
    if total == 0:
        return np.zeros((draws, selections.shape[1]))
    where = np.flatnonzero(observed)
    counts = np.random.default_rng(seed).multinomial(total, observed[where] / total,
                                                     size=draws)
    return counts @ selections[where] / total


def accuracy(observed: np.ndarray, expected: np.ndarray, area: np.ndarray | None = None,
             coverages=COVERAGES, tie_break: np.ndarray | None = None) -> pd.DataFrame:
    """Hit rate, PAI and PEI of a forecast of ``expected`` incidents per cell against the
    ``observed`` counts, at each coverage of the cells' total ``area`` (``tie_break``:
    how to order cells the forecast finds equally dense)."""
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    area = np.ones(len(observed)) if area is None else np.asarray(area, dtype=float)
    if (area <= 0).any():
        raise ValueError("every cell needs a positive area")
    total = observed.sum()
    rows = []
    for coverage in coverages:
        hits = covered(expected, area, observed, coverage, tie_break) / total \
            if total else 0.0
        best = covered(observed, area, observed, coverage) / total if total else 0.0
        rows.append({"coverage": coverage, "area_share": min(coverage, 1.0),
                     "hit_rate": hits, "pai": hits / coverage if coverage else 0.0,
                     "pei": hits / best if best else 0.0})
    return pd.DataFrame(rows)
