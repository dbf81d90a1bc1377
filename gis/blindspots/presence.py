"""Patrol presence: where patrol units really were, in minutes per hotspot cell.

Each GPS fix stands for the time until the unit's next fix in the same shift, at most
``max_gap_min`` (a longer silence is a gap in the track, not presence); a shift's last
fix counts for nothing. A fix's minutes go to the cell it lies in. Presence per week is
the total over the period divided by its length in weeks. A hotspot is **unpatrolled**
when no fix lies in it within the last ``recent_days`` of the period.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

DEFAULT_MAX_GAP_MIN = 5.0
DEFAULT_RECENT_DAYS = 7


def fix_minutes(fixes: pd.DataFrame, max_gap_min: float = DEFAULT_MAX_GAP_MIN
                ) -> np.ndarray:
    """Minutes each fix (``unit``, ``shift``, ``recorded_at``) stands for, in the
    frame's order."""
    if max_gap_min <= 0:
        raise ValueError("max_gap_min must be positive")
    if fixes.empty:
        return np.zeros(0)
    shift = fixes["shift"].fillna("").astype(str)
    order = np.lexsort((fixes["recorded_at"].to_numpy(), shift.to_numpy(),
                        fixes["unit"].astype(str).to_numpy()))
    when = fixes["recorded_at"].to_numpy()[order]
    track = (fixes["unit"].astype(str) + "\x00" + shift).to_numpy()[order]
    gap = np.zeros(len(order))
    gap[:-1] = (when[1:] - when[:-1]) / np.timedelta64(1, "m")
    gap[:-1][track[1:] != track[:-1]] = 0.0
    gap[-1] = 0.0
    minutes = np.empty(len(order))
    minutes[order] = np.minimum(gap, max_gap_min)
    return minutes


def presence(cells: gpd.GeoDataFrame, fixes: gpd.GeoDataFrame, start: pd.Timestamp,
             end: pd.Timestamp, max_gap_min: float = DEFAULT_MAX_GAP_MIN,
             recent_days: int = DEFAULT_RECENT_DAYS) -> pd.DataFrame:
    """Per cell (in ``cells``' order): minutes in [start, end), minutes per week, the
    last fix, and whether it was patrolled in the last ``recent_days``."""
    if end <= start:
        raise ValueError("end must be after start")
    if fixes.crs != cells.crs:
        raise ValueError(f"CRS mismatch: cells {cells.crs}, fixes {fixes.crs}")
    fixes = fixes[(fixes["recorded_at"] >= start) & (fixes["recorded_at"] < end)]
    minutes = fix_minutes(fixes, max_gap_min)
    total = np.zeros(len(cells))
    last = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(fixes):
        fix_idx, cell_idx = shapely.STRtree(cells.geometry.values).query(
            fixes.geometry.values, predicate="intersects")
        first = np.unique(fix_idx, return_index=True)[1]  # a fix on an edge: one cell
        fix_idx, cell_idx = fix_idx[first], cell_idx[first]
        np.add.at(total, cell_idx, minutes[fix_idx])
        when = fixes["recorded_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        seen = pd.Series(when[fix_idx]).groupby(cell_idx).max()
        last[seen.index.to_numpy()] = seen.to_numpy()
    weeks = (end - start) / pd.Timedelta(weeks=1)
    last_seen = pd.to_datetime(last).tz_localize("UTC")
    recent = last_seen >= end - pd.Timedelta(days=recent_days)
    return pd.DataFrame({"minutes": total, "minutes_per_week": total / weeks,
                         "last_seen": last_seen, "patrolled_recently": np.asarray(recent)})
