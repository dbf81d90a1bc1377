"""Which grid of a new plan takes over from which grid of the published one: the
mapping that carries grid workers across a publication.

A new grid succeeds an old one when each holds the majority of the other: more than
half of the new grid's households came from the old grid, and more than half of the old
grid's households went to the new one (by area where a grid has no households). An
unchanged grid succeeds itself; a grid split in two is succeeded by its larger part
only; two grids merged are succeeded by the merged grid only when one of them held most
of its households. Every other new grid needs a planner's decision.
"""

from __future__ import annotations

import pandas as pd

MAJORITY = 0.5


def successions(pairs: pd.DataFrame) -> pd.DataFrame:
    """``pairs``: new_id, old_id, households, shared_m2 for every overlapping pair.
    Returns one row per new grid: new_id, old_id (or NA), share_of_new, share_of_old."""
    if pairs.empty:
        return pd.DataFrame({"new_id": [], "old_id": [], "share_of_new": [],
                             "share_of_old": []})
    frame = pairs.copy()
    frame["of_new"] = _shares(frame, "new_id")
    frame["of_old"] = _shares(frame, "old_id")
    best = frame.sort_values(["new_id", "of_new", "of_old"], ascending=[True, False, False]) \
        .groupby("new_id", sort=True).head(1)
    clear = (best["of_new"] > MAJORITY) & (best["of_old"] > MAJORITY)
    return pd.DataFrame({
        "new_id": best["new_id"].to_numpy(),
        "old_id": pd.Series(best["old_id"].to_numpy(), dtype="Int64")
        .where(clear.to_numpy()),
        "share_of_new": best["of_new"].to_numpy(),
        "share_of_old": best["of_old"].to_numpy(),
    }).reset_index(drop=True)


def _shares(frame: pd.DataFrame, by: str) -> pd.Series:
    """Each pair's share of the ``by`` grid: by households when that grid has any in
    the pairs, else by area."""
    households = frame.groupby(by)["households"].transform("sum")
    area = frame.groupby(by)["shared_m2"].transform("sum")
    by_households = frame["households"] / households.where(households > 0)
    by_area = frame["shared_m2"] / area.where(area > 0)
    return by_households.where(households > 0, by_area).fillna(0.0)
