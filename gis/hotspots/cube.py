"""The space-time cube: incidents counted per unit of analysis and per time bin."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InvalidInput
from .lattice import count_in_units, count_points, unit_of

MAX_BINS = 60
BIN_FREQUENCIES = {"week": "W-MON", "month": "MS", "quarter": "QS"}


def counts(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    """Points per unit (zeros when there are none)."""
    return count_points(units, points) if len(points) else np.zeros(len(units), dtype=int)


def time_bins(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Bin edges from ``start`` to ``end`` on calendar boundaries of ``freq`` (a pandas
    frequency), the first and last bins cut to the period; at most ``MAX_BINS`` bins."""
    edges = pd.date_range(start.normalize(), end, freq=freq, tz=start.tz)
    if len(edges) == 0 or edges[0] > start:
        edges = edges.insert(0, start)
    if edges[-1] < end:
        edges = edges.append(pd.DatetimeIndex([end]))
    if len(edges) - 1 > MAX_BINS:
        raise InvalidInput(f"{len(edges) - 1} time bins; at most {MAX_BINS} — use a "
                           "larger bin or a shorter range", field="bin")
    return edges


def binned_counts(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                  edges: pd.DatetimeIndex) -> np.ndarray:
    """A row per unit, a column per bin: the points whose ``occurred_at`` falls in it."""
    result = np.zeros((len(units), len(edges) - 1))
    if not len(points):
        return result
    unit = unit_of(units, points)  # located once, then counted per bin
    when = points["occurred_at"]
    for t in range(len(edges) - 1):
        inside = ((when >= edges[t]) & (when < edges[t + 1])).to_numpy()
        result[:, t] = count_in_units(unit[inside], len(units))
    return result
