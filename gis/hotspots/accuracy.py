"""How well a hotspot forecast did: hit rate, PAI and PEI at area coverages.

Cells are ranked by the forecast; at a coverage c the top cells covering a share c of
the area are flagged. Hit rate = share of the period's incidents in flagged cells; PAI
(Chainey et al. 2008) = hit rate / area share; PEI (Hunt 2016) = hit rate / the best hit
rate any choice of cells with the same area could have had (the oracle).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGES = (0.01, 0.05, 0.10)


def _flag(score: np.ndarray, area: np.ndarray, coverage: float) -> np.ndarray:
    order = np.argsort(-score, kind="stable")
    cumulative = np.cumsum(area[order]) / area.sum()
    n = max(1, int(np.searchsorted(cumulative, coverage - 1e-12) + 1))
    flagged = np.zeros(len(score), dtype=bool)
    flagged[order[:n]] = True
    return flagged


def accuracy(observed: np.ndarray, predicted: np.ndarray, area: np.ndarray | None = None,
             coverages=COVERAGES) -> pd.DataFrame:
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    area = np.ones(len(observed)) if area is None else np.asarray(area, dtype=float)
    total = observed.sum()
    rows = []
    for coverage in coverages:
        flagged = _flag(predicted, area, coverage)
        area_share = area[flagged].sum() / area.sum()
        hits = observed[flagged].sum() / total if total else 0.0
        best = observed[_flag(observed / area, area, coverage)].sum() / total if total else 0.0
        rows.append({"coverage": coverage, "area_share": area_share, "hit_rate": hits,
                     "pai": hits / area_share if area_share else 0.0,
                     "pei": hits / best if best else 0.0})
    return pd.DataFrame(rows)
