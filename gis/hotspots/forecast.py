"""Hotspot forecasts for the next period, and backtests that score them.

Every method gives each cell its *expected incidents* (up to a common factor); cells are
ranked by density, expected incidents per unit area (``accuracy``).

* ``blended`` (default) — a mix of the cell's own recency-weighted count (incidents
  recur at the same addresses) and a recency-weighted Gaussian kernel density (risk
  spreads to the neighbourhood): score = s · C / ΣC + (1 − s) · K / ΣK, each incident
  weighing 0.5^(age / half-life). Bandwidth h, half-life and share s are tuned;
* ``ewma`` (baseline) — the recency-weighted counts alone, half-life tuned;
* ``counts_all``, ``counts_3y``, ``counts_1y`` (baselines) — counts over the whole
  training window, and over its last three years and last year (these two only when the
  window is longer, else they would repeat ``counts_all``);
* ``last_period`` (baseline) — counts of the last training period as long as the scored
  period;
* ``kde`` (baseline) — a Gaussian kernel density of the whole training window with a
  fixed 250 m bandwidth;
* ``oracle`` — the scored period's own counts: the ceiling no forecast can pass.

Tuning is an inner backtest *inside the training window*: its last ``FOLDS`` periods
(each at most one scored period long, and at most a quarter of the window) are each
forecast from what came before, and the parameters with the best mean PAI over 1/5/10 %
coverage across them win; the scored period is never used for it. Half-lives run from
two weeks to four years and infinity (no decay), so long histories can reach the slow
decays that suit them. Kernel densities are evaluated at cell centroids (cells are small: 150 m).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from .accuracy import COVERAGES, accuracy
from .kde import kernel_density
from .lattice import count_in_units, unit_of

BANDWIDTHS_M = (75.0, 150.0, 300.0)
HALF_LIVES_DAYS = (14.0, 30.0, 91.0, 182.0, 365.0, 730.0, 1461.0, math.inf)
COUNT_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
# validation periods at the end of the training window: three scored no better than one
# on Portland, Vancouver and the demo's long history (tests/bench/bench_backtest.py)
FOLDS = 1
BASELINE_BANDWIDTH_M = 250.0
YEAR = pd.Timedelta(days=365.25)
METHODS = ("blended", "ewma", "counts_all", "counts_3y", "counts_1y", "last_period", "kde")
SPANS = {"counts_3y": 3 * YEAR, "counts_1y": YEAR}  # shown for longer training windows


class EmptyStudyArea(ValueError):
    """The study area holds no unit to score."""


@dataclass
class Incidents:
    """Incident locations (metres, in the cells' CRS) and times (UTC)."""

    xy: np.ndarray
    when: pd.Series
    unit: np.ndarray | None = None  # each one's cell, once located (``_Cells.locate``)

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> Incidents:
        return cls(np.column_stack([frame.geometry.x, frame.geometry.y]),
                   pd.to_datetime(frame["occurred_at"], utc=True).reset_index(drop=True))

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> Incidents:
        keep = ((self.when >= start) & (self.when < end)).to_numpy()
        return Incidents(self.xy[keep], self.when[keep].reset_index(drop=True),
                         None if self.unit is None else self.unit[keep])


@dataclass(frozen=True)
class BlendParameters:
    bandwidth_m: float = 150.0
    half_life_days: float = 30.0
    count_share: float = 0.5


@dataclass(frozen=True)
class Tuned:
    blend: BlendParameters = field(default_factory=BlendParameters)
    ewma_half_life_days: float = 365.0


@dataclass
class Prediction:
    expected: np.ndarray  # per cell, up to a common factor
    parameters: dict[str, float | None]  # what was tuned (None: infinite half-life)


class _Cells:
    """The cells with what every method needs of them, computed once."""

    def __init__(self, cells: gpd.GeoDataFrame) -> None:
        self.frame = cells
        self.area = cells.area.to_numpy()
        self.centres = np.column_stack([cells.centroid.x, cells.centroid.y])

    def units(self, past: Incidents) -> np.ndarray:
        """Each incident's cell (-1: none): as located already, or by a spatial query."""
        if past.unit is not None:
            return past.unit
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(past.xy[:, 0], past.xy[:, 1]),
                                  crs=self.frame.crs)
        return unit_of(self.frame, points)

    def locate(self, past: Incidents) -> Incidents:
        """The incidents with their cells, so that the counts of every method and time
        window take no spatial query of their own (only for use with these cells)."""
        return replace(past, unit=self.units(past))

    def counts(self, past: Incidents, weights: np.ndarray | None = None) -> np.ndarray:
        return count_in_units(self.units(past), len(self.area), weights).astype(float)


def recency(past: Incidents, now: pd.Timestamp, half_life_days: float) -> np.ndarray:
    """Each incident's weight 0.5^(age / half-life) (1 for an infinite half-life)."""
    if not math.isfinite(half_life_days):
        return np.ones(len(past.xy))
    age = (now - past.when).dt.total_seconds().to_numpy() / 86400
    return np.power(0.5, age / half_life_days)


def _blend(counts: np.ndarray, kde: np.ndarray, share: float) -> np.ndarray:
    def unit(x: np.ndarray) -> np.ndarray:
        total = x.sum()
        return x / total if total else x
    return share * unit(counts) + (1 - share) * unit(kde)


def _mean_pai(observed: np.ndarray, expected: np.ndarray, area: np.ndarray) -> float:
    return float(accuracy(observed, expected, area)["pai"].mean())


def tune(cells: gpd.GeoDataFrame | _Cells, window: Incidents, start: pd.Timestamp,
         end: pd.Timestamp, horizon: pd.Timedelta) -> Tuned:
    """The parameters that score best, on average, on the last ``FOLDS`` periods of
    [start, end) (each at most one scored period long), each forecast from what came
    before it."""
    grid = cells if isinstance(cells, _Cells) else _Cells(cells)
    validation = min(horizon, (end - start) / 4)
    ewma_scores: dict[float, float] = {}
    blend_scores: dict[BlendParameters, float] = {}
    for fold in range(FOLDS):
        split = end - (fold + 1) * validation
        if split - start < validation and fold > 0:
            break
        train = window.between(start, split)
        valid = window.between(split, split + validation)
        if len(train.xy) == 0 or len(valid.xy) == 0:
            continue
        observed = grid.counts(valid)
        train_units = grid.units(train)
        weights = {hl: recency(train, split, hl) for hl in HALF_LIVES_DAYS}
        counts = {hl: count_in_units(train_units, len(grid.area), w).astype(float)
                  for hl, w in weights.items()}
        for hl in HALF_LIVES_DAYS:
            ewma_scores[hl] = ewma_scores.get(hl, 0.0) + _mean_pai(observed, counts[hl],
                                                                    grid.area)
        stacked = np.column_stack([weights[hl] for hl in HALF_LIVES_DAYS])
        for h in BANDWIDTHS_M:
            densities = kernel_density(grid.centres, train.xy, h, stacked)
            for column, hl in enumerate(HALF_LIVES_DAYS):
                kde = densities[:, column] * grid.area
                for share in COUNT_SHARES:
                    params = BlendParameters(h, hl, share)
                    blend_scores[params] = blend_scores.get(params, 0.0) + _mean_pai(
                        observed, _blend(counts[hl], kde, share), grid.area)
    if not blend_scores:
        return Tuned()
    # the first best in grid order: ties go to the shorter bandwidth and half-life
    return Tuned(max(blend_scores, key=blend_scores.__getitem__),
                 max(ewma_scores, key=ewma_scores.__getitem__))


def _finite(days: float) -> float | None:
    return days if math.isfinite(days) else None


def predict(cells: gpd.GeoDataFrame | _Cells, past: Incidents, start: pd.Timestamp,
            end: pd.Timestamp, horizon: pd.Timedelta, method: str = "blended",
            tuned: Tuned | None = None) -> Prediction:
    """Expected incidents per cell for [end, end + horizon) from incidents in
    [start, end), with the parameters tuned for it."""
    if method not in METHODS:
        raise ValueError(f"unknown forecast method {method!r}")
    grid = cells if isinstance(cells, _Cells) else _Cells(cells)
    window = past.between(start, end)
    if method in ("blended", "ewma") and tuned is None:
        tuned = tune(grid, window, start, end, horizon)
    if method == "blended":
        assert tuned is not None
        p = tuned.blend
        weights = recency(window, end, p.half_life_days)
        kde = kernel_density(grid.centres, window.xy, p.bandwidth_m, weights) * grid.area
        return Prediction(_blend(grid.counts(window, weights), kde, p.count_share),
                          {"bandwidth_m": p.bandwidth_m,
                           "half_life_days": _finite(p.half_life_days),
                           "count_share": p.count_share})
    if method == "ewma":
        assert tuned is not None
        half_life = tuned.ewma_half_life_days
        return Prediction(grid.counts(window, recency(window, end, half_life)),
                          {"half_life_days": _finite(half_life)})
    if method == "kde":
        kde = kernel_density(grid.centres, window.xy, BASELINE_BANDWIDTH_M)
        return Prediction(kde * grid.area, {"bandwidth_m": BASELINE_BANDWIDTH_M})
    since = {"counts_all": start, "counts_3y": end - 3 * YEAR, "counts_1y": end - YEAR,
             "last_period": end - horizon}[method]
    return Prediction(grid.counts(window.between(max(start, since), end)), {})


def forecast(cells: gpd.GeoDataFrame, past: Incidents, start: pd.Timestamp,
             end: pd.Timestamp, horizon: pd.Timedelta, method: str = "blended"
             ) -> np.ndarray:
    """Expected incidents per cell for [end, end + horizon) from [start, end)."""
    return predict(cells, past, start, end, horizon, method).expected


@dataclass
class Scored:
    """Every method's forecast for a scored period, and what happened in it."""

    area: np.ndarray  # per cell, m²
    observed: np.ndarray  # the scored period's incidents per cell
    predictions: dict[str, Prediction]  # by method, the oracle last
    tie_break: np.ndarray  # the baseline KDE's density


def forecasts(cells: gpd.GeoDataFrame, incidents: Incidents, train_start: pd.Timestamp,
              train_end: pd.Timestamp, test_end: pd.Timestamp,
              progress: Callable[[str], None] | None = None,
              active_only: bool = False) -> Scored:
    """Every method's forecast of [train_end, test_end) from [train_start, train_end),
    each with its tuned ``parameters``, and the period's counts (the oracle's forecast);
    ``progress`` is told when tuning and each method are done. The study area is the
    cells, or with ``active_only`` those with an incident in the training window (land
    where nothing happens inflates PAI); incidents outside it are not scored."""
    window = incidents.between(train_start, train_end)
    if active_only:
        cells = cells[_Cells(cells).counts(window) > 0].reset_index(drop=True)
        if cells.empty:
            raise EmptyStudyArea("no unit had an incident in the training window")
    grid = _Cells(cells)
    located = grid.locate(incidents.between(train_start, test_end))
    window = located.between(train_start, train_end)
    horizon = test_end - train_end
    observed = grid.counts(located.between(train_end, test_end))
    tuned = tune(grid, window, train_start, train_end, horizon)
    if progress:
        progress("tuning")
    predictions = {}
    for method in METHODS:
        # counts over the last N years of a shorter window are counts_all again: left out
        if method not in SPANS or train_end - train_start > SPANS[method]:
            predictions[method] = predict(grid, window, train_start, train_end, horizon,
                                          method, tuned)
        if progress:
            progress(method)
    predictions["oracle"] = Prediction(observed, {})
    # ties (e.g. many zero counts) are broken by the KDE's density, never by cell order,
    # so that a baseline is not helped or hurt by how cells are numbered
    return Scored(grid.area, observed, predictions,
                  predictions["kde"].expected / grid.area)


def scores(scored: Scored, coverages=COVERAGES) -> pd.DataFrame:
    """Hit rate, PAI and PEI of each method's forecast at each coverage, with its tuned
    ``parameters``, the period's incidents and the study area's units and km²."""
    rows = []
    for method, found in scored.predictions.items():
        table = accuracy(scored.observed, found.expected, scored.area, coverages,
                         tie_break=scored.tie_break)
        table.insert(0, "method", method)
        table["parameters"] = [found.parameters] * len(table)
        rows.append(table)
    result = pd.concat(rows, ignore_index=True)
    result["incidents"] = int(scored.observed.sum())
    result["units"] = len(scored.area)
    result["area_km2"] = round(float(scored.area.sum()) / 1e6, 3)
    return result


def backtest(cells: gpd.GeoDataFrame, incidents: Incidents, train_start: pd.Timestamp,
             train_end: pd.Timestamp, test_end: pd.Timestamp, coverages=COVERAGES,
             progress: Callable[[str], None] | None = None,
             active_only: bool = False) -> pd.DataFrame:
    """The ``scores`` of every method (and the oracle) for [train_end, test_end)
    forecast from [train_start, train_end) (``forecasts`` says which cells and incidents
    are scored)."""
    return scores(forecasts(cells, incidents, train_start, train_end, test_end, progress,
                            active_only), coverages)
