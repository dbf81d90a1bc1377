"""Dosage: how long patrols really stood at each target of a plan, from their GPS
fixes, against the plan.

A fix stands for the minutes until the unit's next fix (at most ``max_gap_min``, as in
the patrol-presence audit). A target's presence is the minutes of the fixes of *any*
unit within ``radius_m`` of it during the shift; its planned minutes are the dwell of
every planned visit. A target is *visited* when its presence reaches ``visited_min``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..blindspots.presence import DEFAULT_MAX_GAP_MIN, fix_minutes

DEFAULT_RADIUS_M = 50.0
DEFAULT_VISITED_MIN = 3.0


def dosage(targets: gpd.GeoDataFrame, fixes: gpd.GeoDataFrame,
           radius_m: float = DEFAULT_RADIUS_M, max_gap_min: float = DEFAULT_MAX_GAP_MIN,
           visited_min: float = DEFAULT_VISITED_MIN) -> pd.DataFrame:
    """Per target (``targets``: name, planned_min, planned_units, metric points; in its
    order): planned minutes, minutes present, by which units, visited or not, and
    presence as a share of the plan. ``fixes``: unit, shift, recorded_at, metric
    points, in the same CRS."""
    if radius_m <= 0:
        raise ValueError("radius_m must be positive")
    if fixes.crs != targets.crs:
        raise ValueError(f"CRS mismatch: targets {targets.crs}, fixes {fixes.crs}")
    present = np.zeros(len(targets))
    units: list[set[str]] = [set() for _ in range(len(targets))]
    if len(fixes) and len(targets):
        minutes = fix_minutes(fixes, max_gap_min)
        zones = shapely.buffer(targets.geometry.values, radius_m)
        fix_idx, target_idx = shapely.STRtree(zones).query(fixes.geometry.values,
                                                           predicate="intersects")
        np.add.at(present, target_idx, minutes[fix_idx])
        unit_of = fixes["unit"].astype(str).to_numpy()
        for f, t in zip(fix_idx, target_idx, strict=True):
            if minutes[f] > 0:
                units[t].add(unit_of[f])
    planned = targets["planned_min"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(planned > 0, present / planned, np.nan)
    return pd.DataFrame({
        "name": targets["name"].to_numpy(), "planned_min": planned,
        "present_min": present.round(2), "share_of_plan": share.round(3),
        "visited": present >= visited_min,
        "planned_but_missed": (planned > 0) & (present < visited_min),
        "units_seen": [", ".join(sorted(u)) for u in units]})
