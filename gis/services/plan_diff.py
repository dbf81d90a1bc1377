"""The difference between two plans: grids added, removed and changed; people,
households, places, things and incidents that would change grid; each worker's grids and
workload before and after. Counts only: nobody's personal data leaves the database.

Grids are matched by code. What lies in a grid that is identical in both plans (same
code and geometry) stays put, so only what lies in the other grids is placed: in the
published plan by its link, in any other plan by location (boundary included: the grid
with the smallest code wins, as the links do).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from .plan_figures import grid_workers, plan_households

MOVED_KINDS = ("people", "households", "places", "things", "incidents")

# the grids of each plan that are not identical in the other (what lies in the others
# stays put)
_OPEN_GRIDS = """
WITH a AS (SELECT id, code, geom FROM grids WHERE plan_id = :a),
     b AS (SELECT id, code, geom FROM grids WHERE plan_id = :b),
     same AS (SELECT a.code FROM a JOIN b ON a.code = b.code AND a.geom = b.geom),
     a_open AS (SELECT * FROM a WHERE code NOT IN (SELECT code FROM same)),
     b_open AS (SELECT * FROM b WHERE code NOT IN (SELECT code FROM same)),"""
_MOVES = _OPEN_GRIDS + """
     in_a AS ({in_a}),
     in_b AS ({in_b})
SELECT in_a.code AS from_grid, in_b.code AS to_grid, count(*) AS n
FROM in_a FULL JOIN in_b ON in_a.id = in_b.id
WHERE in_a.code IS DISTINCT FROM in_b.code
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
"""
# When plan a is the published one, where an entity is in a is its link: the entities
# located in b's open grids carry it, and those left in no open grid of b are each open
# grid's links minus those located, so that nothing joins millions of rows to millions.
_MOVES_FROM_LINKS = _OPEN_GRIDS + """
     in_b AS ({in_b_with_link}),
     arrived AS (
        SELECT a_open.code AS from_grid, in_b.code AS to_grid, count(*) AS n
        FROM in_b LEFT JOIN a_open ON a_open.id = in_b.a_id
        GROUP BY 1, 2),
     linked AS (SELECT grid_id, count(*) AS n FROM {table} GROUP BY grid_id),
     stayed_out AS (
        SELECT a_open.code AS from_grid, NULL::text AS to_grid,
               (linked.n - coalesce(placed.n, 0))::bigint AS n
        FROM a_open JOIN linked ON linked.grid_id = a_open.id
        LEFT JOIN (SELECT from_grid, sum(n) AS n FROM arrived GROUP BY 1) placed
               ON placed.from_grid = a_open.code)
SELECT from_grid, to_grid, n FROM arrived WHERE from_grid IS DISTINCT FROM to_grid
UNION ALL
SELECT from_grid, to_grid, n FROM stayed_out WHERE n > 0
ORDER BY 3 DESC, 1, 2
"""  # noqa: S608 - formatted with the names in MOVED_KINDS only
# where an entity is in a plan: by its link when the plan is the published one (what
# the links say), else by location (boundary included, the smallest code winning)
_LINKED = "SELECT e.id, g.code FROM {open} g JOIN {table} e ON e.grid_id = g.id"
_LOCATED = ("SELECT e.id, min(g.code) AS code FROM {open} g JOIN {table} e "
            "ON ST_Intersects(e.geom, g.geom) AND {point} GROUP BY e.id")
_LOCATED_WITH_LINK = (
    "SELECT e.id, min(e.grid_id) AS a_id, min(g.code) AS code FROM {open} g "
    "JOIN {table} e ON ST_Intersects(e.geom, g.geom) AND {point} GROUP BY e.id")
_POINT = {"places": "ST_Intersects(CASE WHEN GeometryType(e.geom) = 'POINT' THEN e.geom "
                    "ELSE ST_PointOnSurface(e.geom) END, g.geom)"}


@dataclass
class PlanDiff:
    grids: pd.DataFrame  # code, status, area_a, area_b, households_a, households_b
    moves: pd.DataFrame  # kind, from_grid, to_grid, n (None: outside every grid)
    workers: pd.DataFrame  # worker_id, grids_a, grids_b, households_a, households_b, change
    #                        (a grid's households shared among its primary workers)

    def summary(self) -> dict[str, int]:
        status = self.grids["status"].value_counts()
        moved = self.moves.groupby("kind")["n"].sum()
        return {**{s: int(status.get(s, 0)) for s in ("added", "removed", "changed",
                                                        "unchanged")},
                **{f"{k}_moved": int(moved.get(k, 0)) for k in MOVED_KINDS},
                "workers_changed": int((self.workers["grids_a"] != self.workers["grids_b"])
                                       .sum())}


def plan_diff(conn: sa.Connection, a: int, b: int) -> PlanDiff:
    shapes = pd.DataFrame(conn.execute(sa.text("""
        SELECT coalesce(a.code, b.code) AS code,
               CASE WHEN a.code IS NULL THEN 'added' WHEN b.code IS NULL THEN 'removed'
                    WHEN a.geom = b.geom OR ST_Equals(a.geom, b.geom) THEN 'unchanged'
                    ELSE 'changed' END AS status,
               ST_Area(a.geom) AS area_a, ST_Area(b.geom) AS area_b
        FROM (SELECT code, geom FROM grids WHERE plan_id = :a) a
        FULL JOIN (SELECT code, geom FROM grids WHERE plan_id = :b) b ON a.code = b.code
        ORDER BY 1"""), {"a": a, "b": b}).all(), columns=["code", "status", "area_a", "area_b"])
    homes_a = plan_households(conn, a).set_index("code")["households"]
    homes_b = plan_households(conn, b).set_index("code")["households"]
    grids = shapes.assign(households_a=shapes["code"].map(homes_a).astype("Int64"),
                          households_b=shapes["code"].map(homes_b).astype("Int64"))
    published = conn.execute(sa.text(
        "SELECT id FROM grid_plans WHERE state = 'published'")).scalar()

    def moves_query(kind: str) -> str:
        point = _POINT.get(kind, "true")
        if a == published and b != published:
            return _MOVES_FROM_LINKS.format(table=kind, in_b_with_link=_LOCATED_WITH_LINK
                                            .format(open="b_open", table=kind, point=point))
        in_a, in_b = ((_LINKED if plan == published else _LOCATED).format(
            open=side, table=kind, point=point) for plan, side in ((a, "a_open"),
                                                                  (b, "b_open")))
        return _MOVES.format(in_a=in_a, in_b=in_b)

    moves = pd.concat([
        pd.DataFrame(conn.execute(sa.text(moves_query(kind)), {"a": a, "b": b}).all(),
                     columns=["from_grid", "to_grid", "n"]).assign(kind=kind)
        for kind in MOVED_KINDS], ignore_index=True)[["kind", "from_grid", "to_grid", "n"]]
    return PlanDiff(grids, moves, _workers(conn, a, b, homes_a, homes_b))


def _workers(conn: sa.Connection, a: int, b: int, homes_a: pd.Series,
             homes_b: pd.Series) -> pd.DataFrame:
    codes: dict[int, str] = dict(conn.execute(sa.text(
        "SELECT id, code FROM grids WHERE plan_id IN (:a, :b)"), {"a": a, "b": b}).all())

    def held(plan: int, homes: pd.Series) -> pd.DataFrame:
        staff = grid_workers(conn, plan)
        staff["code"] = staff["grid_id"].map(codes)
        sharing = staff.groupby("grid_id")["worker_id"].transform("count")
        staff["households"] = staff["code"].map(homes).fillna(0) / sharing
        return staff.groupby("worker_id").agg(
            grids=("code", lambda c: ", ".join(sorted(c))), households=("households", "sum"))

    before, after = held(a, homes_a), held(b, homes_b)
    table = before.add_suffix("_a").join(after.add_suffix("_b"), how="outer")
    table[["grids_a", "grids_b"]] = table[["grids_a", "grids_b"]].fillna("")
    table[["households_a", "households_b"]] = table[["households_a", "households_b"]] \
        .fillna(0).round(1)
    table["change"] = (table["households_b"] - table["households_a"]).round(1)
    return table.reset_index()
