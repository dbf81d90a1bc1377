"""Hotspot forecasts for the next period, and backtests that score them.

Methods (each gives a score per cell; higher = more expected incidents):

* ``last_period`` (baseline) — counts of the last training period as long as the scored
  period;
* ``kde`` (baseline) — a Gaussian kernel density of the whole training window with a
  fixed 250 m bandwidth;
* ``blended`` (default) — a mix of the cell's own recency-weighted count (incidents
  recur at the same addresses) and a recency-weighted Gaussian kernel density (risk
  spreads to the neighbourhood): score = s · C / ΣC + (1 − s) · K / ΣK, where each
  incident weighs exp(−age / τ). The bandwidth h, decay τ and share s are chosen by an
  inner backtest *inside the training window* (its last quarter, at most one scored
  period long, forecast from the rest), maximising the mean PAI over 1/5/10 % coverage;
  the scored period is never used for tuning;
* ``oracle`` — the scored period's own counts: the ceiling no forecast can pass.

Scores are evaluated at cell centroids (cells are small: 150 m by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .accuracy import COVERAGES, accuracy
from .lattice import count_points

BANDWIDTHS_M = (75.0, 150.0, 300.0)
DECAYS_DAYS = (7.0, 30.0, 120.0, np.inf)
COUNT_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
BASELINE_BANDWIDTH_M = 250.0
METHODS = ("blended", "last_period", "kde")


def kde_scores(centres: np.ndarray, xy: np.ndarray, bandwidth_m: float,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Σ w·exp(−d²/2h²) over incidents within 4h of each centre."""
    if len(xy) == 0:
        return np.zeros(len(centres))
    weights = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    tree = cKDTree(xy)
    neighbours = tree.query_ball_point(centres, 4 * bandwidth_m)
    scores = np.zeros(len(centres))
    for k, idx in enumerate(neighbours):
        if idx:
            d2 = ((xy[idx] - centres[k]) ** 2).sum(axis=1)
            scores[k] = (weights[idx] * np.exp(-d2 / (2 * bandwidth_m ** 2))).sum()
    return scores


def counts_in(cells: gpd.GeoDataFrame, xy: np.ndarray,
              weights: np.ndarray | None = None) -> np.ndarray:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=cells.crs)
    return count_points(cells, points, weights)


@dataclass
class Incidents:
    """Incident locations (metres, in the cells' CRS) and times (UTC)."""

    xy: np.ndarray
    when: pd.Series

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> Incidents:
        return cls(np.column_stack([frame.geometry.x, frame.geometry.y]),
                   pd.to_datetime(frame["occurred_at"], utc=True).reset_index(drop=True))

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> Incidents:
        keep = ((self.when >= start) & (self.when < end)).to_numpy()
        return Incidents(self.xy[keep], self.when[keep].reset_index(drop=True))


def _weights(past: Incidents, now: pd.Timestamp, decay_days: float) -> np.ndarray:
    age = (now - past.when).dt.total_seconds().to_numpy() / 86400
    return np.exp(-age / decay_days) if np.isfinite(decay_days) else np.ones(len(age))


def _blend(counts: np.ndarray, kde: np.ndarray, share: float) -> np.ndarray:
    def unit(x: np.ndarray) -> np.ndarray:
        total = x.sum()
        return x / total if total else x
    return share * unit(counts) + (1 - share) * unit(kde)


@dataclass(frozen=True)
class BlendParameters:
    bandwidth_m: float = 150.0
    decay_days: float = 30.0
    count_share: float = 0.5


def blended(cells: gpd.GeoDataFrame, past: Incidents, now: pd.Timestamp,
            params: BlendParameters) -> np.ndarray:
    weights = _weights(past, now, params.decay_days)
    centres = np.column_stack([cells.centroid.x, cells.centroid.y])
    kde = kde_scores(centres, past.xy, params.bandwidth_m, weights) * cells.area.to_numpy()
    return _blend(counts_in(cells, past.xy, weights), kde, params.count_share)


def tune(cells: gpd.GeoDataFrame, window: Incidents, start: pd.Timestamp,
         end: pd.Timestamp, horizon: pd.Timedelta) -> BlendParameters:
    """The parameters that score best on the last part of [start, end) forecast from
    the rest of it."""
    validation = min(horizon, (end - start) / 4)
    split = end - validation
    train, valid = window.between(start, split), window.between(split, end)
    if len(train.xy) == 0 or len(valid.xy) == 0:
        return BlendParameters()
    centres = np.column_stack([cells.centroid.x, cells.centroid.y])
    observed = counts_in(cells, valid.xy)
    area = cells.area.to_numpy()
    best, best_score = BlendParameters(), -1.0
    for tau in DECAYS_DAYS:
        weights = _weights(train, split, tau)
        counts = counts_in(cells, train.xy, weights)
        for h in BANDWIDTHS_M:
            kde = kde_scores(centres, train.xy, h, weights) * area
            for share in COUNT_SHARES:
                score = _blend(counts, kde, share)
                pai = accuracy(observed, score, area)["pai"].mean()
                if pai > best_score:
                    best, best_score = BlendParameters(h, tau, share), pai
    return best


def forecast(cells: gpd.GeoDataFrame, past: Incidents, start: pd.Timestamp,
             end: pd.Timestamp, horizon: pd.Timedelta, method: str = "blended"
             ) -> np.ndarray:
    """Scores per cell for [end, end + horizon) from incidents in [start, end)."""
    window = past.between(start, end)
    centres = np.column_stack([cells.centroid.x, cells.centroid.y])
    if method == "last_period":
        return counts_in(cells, window.between(end - horizon, end).xy).astype(float)
    if method == "kde":
        return kde_scores(centres, window.xy, BASELINE_BANDWIDTH_M) * cells.area.to_numpy()
    if method == "blended":
        return blended(cells, window, end, tune(cells, window, start, end, horizon))
    raise ValueError(f"unknown forecast method {method!r}")


def backtest(cells: gpd.GeoDataFrame, incidents: Incidents, train_start: pd.Timestamp,
             train_end: pd.Timestamp, test_end: pd.Timestamp, coverages=COVERAGES,
             progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Hit rate, PAI and PEI of every method (and the oracle) for [train_end, test_end)
    forecast from [train_start, train_end); ``progress`` is told each method done."""
    horizon = test_end - train_end
    observed = counts_in(cells, incidents.between(train_end, test_end).xy)
    area = cells.area.to_numpy()
    rows = []
    methods = {}
    for method in METHODS:
        methods[method] = forecast(cells, incidents, train_start, train_end, horizon, method)
        if progress:
            progress(method)
    methods["oracle"] = observed / area
    for method, score in methods.items():
        # ties (e.g. many zero counts) are broken by area-weighted KDE rank, never by
        # cell order, so that a baseline is not helped or hurt by how cells are numbered
        table = accuracy(observed, score + 1e-12 * methods["kde"] / max(methods["kde"].max(),
                                                                         1e-12),
                         area, coverages)
        table.insert(0, "method", method)
        rows.append(table)
    result = pd.concat(rows, ignore_index=True)
    result["incidents"] = int(observed.sum())
    return result
