"""Responsibility (职责到格): is someone answerable for every grid, is their load within
the norm, and has the grid's base data been checked lately?

Rules:

- A grid with no **active** worker assigned is **unassigned**; its special-group
  residents are **unwatched**.
- A worker's load is the sum, over the grids they are assigned to, of the grid's
  households (and people) divided by that grid's number of active workers. Below
  ``households_min`` or above ``households_max`` (default 300–500 households, the
  common norm for one grid) is **under** or **over** the norm; likewise for people when
  ``people_min``/``people_max`` are given.
- A grid's base data are **stale** when no household or person in it has been visited
  or verified within ``stale_days`` (default 90), or when fewer than
  ``min_checked_share`` of its households were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Norms:
    households_min: float = 300
    households_max: float = 500
    people_min: float | None = None
    people_max: float | None = None
    stale_days: int = 90
    min_checked_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.households_min <= self.households_max:
            raise ValueError("the household norm needs 0 <= min <= max")
        if (self.people_min is not None and self.people_max is not None
                and self.people_min > self.people_max):
            raise ValueError("the people norm needs min <= max")
        if self.stale_days < 1:
            raise ValueError("stale_days must be at least 1")
        if not 0 <= self.min_checked_share <= 1:
            raise ValueError("min_checked_share must be between 0 and 1")


def grid_responsibility(grids: pd.DataFrame, assignments: pd.DataFrame,
                        today: pd.Timestamp, norms: Norms = Norms()) -> pd.DataFrame:
    """``grids``: code, households, people, special (special-group residents),
    last_check (latest visit or verification in the grid, or NaT), checked_households
    (households checked within ``norms.stale_days``). ``assignments``: worker_id,
    grid (code), active. Returns a row per grid."""
    active = assignments[assignments["active"].astype(bool)]
    workers = active.groupby("grid")["worker_id"].nunique()
    out = grids[["code", "households", "people", "special"]].copy()
    out["workers"] = out["code"].map(workers).fillna(0).astype(int)
    out["unassigned"] = out["workers"] == 0
    out["unwatched_special"] = np.where(out["unassigned"], out["special"], 0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["households_per_worker"] = np.where(
            out["workers"] > 0, out["households"] / out["workers"].clip(lower=1), np.nan)
    last = pd.to_datetime(grids["last_check"], utc=True)
    out["last_check"] = last
    out["days_since_check"] = (today - last).dt.days
    share = np.where(grids["households"] > 0,
                     grids["checked_households"] / grids["households"].clip(lower=1), 1.0)
    out["checked_share"] = share
    out["stale"] = (out["days_since_check"].isna()
                    | (out["days_since_check"] > norms.stale_days)
                    | (share < norms.min_checked_share))
    # A grid with nobody to check is not stale: there is nothing to verify.
    out.loc[(grids["households"] == 0) & (grids["people"] == 0), "stale"] = False
    return out.reset_index(drop=True)


def worker_loads(grids: pd.DataFrame, assignments: pd.DataFrame,
                 norms: Norms = Norms()) -> pd.DataFrame:
    """A row per active worker: grids, households, people, and the norm status of each
    (``under``, ``ok``, ``over``)."""
    active = assignments[assignments["active"].astype(bool)]
    share = active.groupby("grid")["worker_id"].transform("nunique")
    sizes = grids.set_index("code")[["households", "people"]]
    rows = active.join(sizes, on="grid")
    rows["households"] = rows["households"].fillna(0) / share
    rows["people"] = rows["people"].fillna(0) / share
    load = rows.groupby("worker_id").agg(
        grids=("grid", lambda g: sorted(set(g))), households=("households", "sum"),
        people=("people", "sum"))
    load["households_status"] = _status(load["households"], norms.households_min,
                                        norms.households_max)
    load["people_status"] = _status(load["people"], norms.people_min, norms.people_max)
    return load.reset_index()


def _status(values: pd.Series, low: float | None, high: float | None) -> pd.Series:
    status = pd.Series("ok", index=values.index)
    if low is not None:
        status[values < low] = "under"
    if high is not None:
        status[values > high] = "over"
    return status
