"""Live figures of a plan while it is edited: per grid what it holds and how compact it
is, and the workload balance of the whole plan, per grid and per grid worker.

Workers of a draft grid are those assigned to it, else those of the published grid it
succeeds (``succession``): the workers it would have if it were published now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..planning.succession import successions
from ..sqlfiles import read_query

COLUMNS = ["id", "code", "name", "community_code", "area_m2", "polsby_popper", "parts",
           "households", "people", "special_groups", "places", "incidents"]


@dataclass
class Balance:
    grids: int
    households: int
    min: int
    max: int
    mean: float
    cv: float  # coefficient of variation (population standard deviation / mean)
    workers: int
    worker_min: float | None
    worker_max: float | None
    worker_cv: float | None
    grids_without_worker: int
    grids_not_contiguous: int


def figures_until(now: datetime | None = None) -> datetime:
    """The end of the current day (UTC): incidents are counted for the 365 days before
    it, so that figures computed at any hour of one day agree, and keep for the day."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), time(), UTC)


def grid_figures(conn: sa.Connection, plan_id: int, ids: list[int] | None = None,
                 until: datetime | None = None) -> pd.DataFrame:
    rows = conn.execute(sa.text(read_query("plan_figures.sql")), {
        "plan": plan_id, "ids": ids, "until": until or figures_until()}).all()
    frame = pd.DataFrame([r._mapping for r in rows], columns=COLUMNS)
    return frame.astype({c: "int64" for c in ("parts", "households", "people",
                                              "special_groups", "places", "incidents")})


def succession_pairs(conn: sa.Connection, plan_id: int) -> pd.DataFrame:
    rows = conn.execute(sa.text(read_query("plan_succession.sql")), {"new": plan_id}).all()
    return pd.DataFrame([r._mapping for r in rows],
                        columns=["new_id", "old_id", "households", "shared_m2"])


def grid_workers(conn: sa.Connection, plan_id: int,
                 succeeded: pd.DataFrame | None = None) -> pd.DataFrame:
    """grid_id, worker_id of the primary workers each grid of the plan has or would
    have on publication (its own, else those of the published grid it succeeds)."""
    own = pd.DataFrame(conn.execute(sa.text(
        "SELECT a.grid_id, a.worker_id FROM grid_assignments a "
        "JOIN grids g ON g.id = a.grid_id JOIN workers w ON w.id = a.worker_id "
        "WHERE g.plan_id = :p AND a.role = 'primary' AND w.active"),
        {"p": plan_id}).all(), columns=["grid_id", "worker_id"])
    if succeeded is None:
        succeeded = successions(succession_pairs(conn, plan_id))
    inherited = succeeded.dropna(subset=["old_id"])
    inherited = inherited[~inherited["new_id"].isin(own["grid_id"])]
    old = pd.DataFrame(conn.execute(sa.text(
        "SELECT a.grid_id AS old_id, a.worker_id FROM grid_assignments a "
        "JOIN workers w ON w.id = a.worker_id "
        "WHERE a.grid_id = ANY(:ids) AND a.role = 'primary' AND w.active"),
        {"ids": [int(i) for i in inherited["old_id"]]}).all(), columns=["old_id", "worker_id"])
    carried = inherited.astype({"old_id": "int64"}).merge(old, on="old_id") \
        .rename(columns={"new_id": "grid_id"})[["grid_id", "worker_id"]]
    return pd.concat([own, carried], ignore_index=True)


def balance(figures: pd.DataFrame, workers: pd.DataFrame) -> Balance:
    """Households per grid and per primary worker (a grid's households shared equally
    among its primary workers)."""
    households = figures.set_index("id")["households"].astype(float)
    staffed = workers[workers["grid_id"].isin(households.index)]
    per_grid_workers = staffed.groupby("grid_id")["worker_id"].transform("count")
    loads = (staffed["grid_id"].map(households) / per_grid_workers) \
        .groupby(staffed["worker_id"]).sum()
    return Balance(
        grids=len(households), households=int(households.sum()),
        min=int(households.min()) if len(households) else 0,
        max=int(households.max()) if len(households) else 0,
        mean=round(float(households.mean()), 1) if len(households) else 0.0,
        cv=_cv(households.to_numpy()),
        workers=int(loads.size),
        worker_min=round(float(loads.min()), 1) if loads.size else None,
        worker_max=round(float(loads.max()), 1) if loads.size else None,
        worker_cv=_cv(loads.to_numpy()) if loads.size else None,
        grids_without_worker=int((~households.index.isin(staffed["grid_id"])).sum()),
        grids_not_contiguous=int((figures["parts"] > 1).sum()),
    )


def _cv(values: np.ndarray) -> float:
    mean = float(values.mean()) if values.size else 0.0
    return round(float(values.std()) / mean, 4) if mean > 0 else 0.0


def plan_households(conn: sa.Connection, plan_id: int) -> pd.DataFrame:
    """id, code, parts, households of every grid of the plan (for ``balance``)."""
    rows = conn.execute(sa.text(read_query("plan_households.sql")), {"plan": plan_id}).all()
    return pd.DataFrame([r._mapping for r in rows],
                        columns=["id", "code", "parts", "households"])
