"""Publishing a plan with its grid workers: each new grid that clearly succeeds a grid
of the plan in force (``succession``) takes over that grid's workers; the others are
listed for a planner to decide. A grid already staffed in the new plan keeps its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from ..linking import Progress, publish_plan
from ..planning.succession import successions
from .plan_figures import succession_pairs


@dataclass
class Handover:
    carried: list[dict] = field(default_factory=list)  # new, old, workers
    undecided: list[dict] = field(default_factory=list)  # new, candidates (old codes)

    def summary(self) -> str:
        text = f"workers carried to {len(self.carried)} grids"
        if self.undecided:
            text += (f"; {len(self.undecided)} grids need a decision: "
                     + ", ".join(u["new"] for u in self.undecided[:20])
                     + (" …" if len(self.undecided) > 20 else ""))
        return text


def plan_handover(conn: sa.Connection, plan_id: int) -> Handover:
    """What publishing ``plan_id`` now would do with the grid workers (read only).
    With no plan published there is no one to carry over, and nothing to decide."""
    if conn.execute(sa.text("SELECT 1 FROM grid_plans WHERE state = 'published' "
                            "AND id <> :p"), {"p": plan_id}).first() is None:
        return Handover()
    pairs = succession_pairs(conn, plan_id)
    succeeded = successions(pairs)
    codes: dict[int, str] = dict(conn.execute(sa.text(
        "SELECT id, code FROM grids WHERE plan_id = :p OR id = ANY(:old)"),
        {"p": plan_id, "old": [int(i) for i in pairs["old_id"].unique()]}).all())
    staffed = set(conn.execute(sa.text(
        "SELECT DISTINCT a.grid_id FROM grid_assignments a JOIN grids g ON g.id = a.grid_id "
        "WHERE g.plan_id = :p"), {"p": plan_id}).scalars())
    workers = _workers(conn, [int(i) for i in succeeded["old_id"].dropna()])
    handover = Handover()
    mapped = dict(zip(succeeded["new_id"], succeeded["old_id"], strict=True))
    new_ids = conn.execute(sa.text("SELECT id FROM grids WHERE plan_id = :p ORDER BY code"),
                           {"p": plan_id}).scalars().all()
    for new_id in new_ids:
        if new_id in staffed:
            continue
        old_id = mapped.get(new_id)
        if old_id is not None and not pd.isna(old_id):
            if workers.get(int(old_id)):
                    handover.carried.append({"new": codes[new_id], "new_id": new_id,
                                         "old": codes[int(old_id)], "old_id": int(old_id),
                                         "workers": workers[int(old_id)]})
        else:
            candidates = pairs.loc[pairs["new_id"] == new_id] \
                .sort_values("households", ascending=False)["old_id"]
            handover.undecided.append({"new": codes[new_id], "new_id": new_id,
                                       "candidates": [codes[int(c)] for c in candidates]})
    return handover


def publish_with_workers(conn: sa.Connection, plan_id: int, progress: Progress | None = None,
                         time_limit_ms: int | None = None) -> tuple[int, Handover]:
    """Publish ``plan_id`` (``linking.publish_plan``) and carry the workers over, in the
    caller's transaction. Returns the entities relinked and the handover."""
    handover = plan_handover(conn, plan_id)  # before: it reads the plan in force
    changed = publish_plan(conn, plan_id, progress=progress, time_limit_ms=time_limit_ms)
    conn.execute(sa.text(
        "INSERT INTO grid_assignments (worker_id, grid_id, role) "
        "SELECT a.worker_id, m.new, a.role "
        "FROM unnest(CAST(:new AS bigint[]), CAST(:old AS bigint[])) m (new, old) "
        "JOIN grid_assignments a ON a.grid_id = m.old "
        "JOIN workers w ON w.id = a.worker_id AND w.active "
        "ON CONFLICT DO NOTHING"),
        {"new": [item["new_id"] for item in handover.carried],
         "old": [item["old_id"] for item in handover.carried]})
    return changed, handover


def _workers(conn: sa.Connection, grid_ids: list[int]) -> dict[int, list[int]]:
    rows = conn.execute(sa.text(
        "SELECT a.grid_id, w.id FROM grid_assignments a JOIN workers w ON w.id = a.worker_id "
        "WHERE a.grid_id = ANY(:ids) AND w.active ORDER BY a.role, w.id"),
        {"ids": grid_ids}).all()
    found: dict[int, list[int]] = {}
    for grid_id, worker_id in rows:
        found.setdefault(grid_id, []).append(worker_id)
    return found
