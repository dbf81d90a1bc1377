"""What a planner sees after each edit of a draft: the grids that changed, with their
figures and WGS84 outlines, and the balance of the whole draft."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .plan_diff import PlanDiff
from .plan_edits import Edit
from .plan_figures import balance, grid_figures, grid_workers, plan_households


def grid_features(conn: sa.Connection, plan_id: int, codes: list[str] | None = None,
                  until: datetime | None = None) -> list[dict[str, Any]]:
    """GeoJSON features (WGS84) of the plan's grids (all, or those with ``codes``) with
    their live figures as properties."""
    ids = None
    if codes is not None:
        ids = [int(i) for i in conn.execute(sa.text(
            "SELECT id FROM grids WHERE plan_id = :p AND code = ANY(:c)"),
            {"p": plan_id, "c": codes}).scalars()]
        if not ids:
            return []
    figures = grid_figures(conn, plan_id, ids, until)
    outlines: dict[int, str] = dict(conn.execute(sa.text(
        "SELECT id, ST_AsGeoJSON(ST_Transform(geom, 4326), 7) FROM grids "
        "WHERE plan_id = :p AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids))"),
        {"p": plan_id, "ids": ids}).all())
    features = []
    for row in figures.to_dict("records"):
        row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        row["area_m2"] = round(float(row["area_m2"]), 1)
        row["polsby_popper"] = None if row["polsby_popper"] is None \
            else round(float(row["polsby_popper"]), 4)
        row["contiguous"] = int(row["parts"]) == 1
        features.append({"type": "Feature", "id": int(row["id"]),
                         "geometry": json.loads(outlines[row["id"]]), "properties": row})
    return features


def draft_balance(conn: sa.Connection, plan_id: int,
                  scope_grids: frozenset[int] | None = None) -> dict[str, Any]:
    """The plan's balance; for a user with a scope, of the grids they see."""
    households = plan_households(conn, plan_id)
    codes = scope_codes(conn, scope_grids, [plan_id])
    if codes is not None:
        households = households[households["code"].isin(codes)]
    return asdict(balance(households, grid_workers(conn, plan_id)))


def scope_codes(conn: sa.Connection, scope_grids: frozenset[int] | None,
                plan_ids: list[int]) -> set[str] | None:
    """Codes of the grids of ``plan_ids`` in the communities of a user's scope (None:
    no scope, every grid)."""
    if scope_grids is None:
        return None
    return set(conn.execute(sa.text(
        "SELECT code FROM grids WHERE plan_id = ANY(:plans) AND community_id = ANY(ARRAY("
        "SELECT community_id FROM grids WHERE id = ANY(:scope) "
        "AND community_id IS NOT NULL))"),
        {"plans": plan_ids, "scope": sorted(scope_grids)}).scalars())


def edit_outcome(conn: sa.Connection, plan_id: int, edit: Edit,
                 scope_grids: frozenset[int] | None = None) -> dict[str, Any]:
    return {"edit": asdict(edit),
            "grids": {"type": "FeatureCollection",
                      "features": grid_features(conn, plan_id, edit.changed)},
            "balance": draft_balance(conn, plan_id, scope_grids)}


def visible_diff(found: PlanDiff, codes: set[str] | None) -> PlanDiff:
    """The part of a diff a user with a scope sees: their grids, moves from or to them,
    workers of their grids."""
    if codes is None:
        return found
    grids = found.grids[found.grids["code"].isin(codes)]
    moves = found.moves[found.moves["from_grid"].isin(codes)
                        | found.moves["to_grid"].isin(codes)]
    held = found.workers["grids_a"].str.split(", ") + found.workers["grids_b"].str.split(", ")
    workers = found.workers[held.map(lambda c: bool(set(c) & codes))]
    return PlanDiff(grids.reset_index(drop=True), moves.reset_index(drop=True),
                    workers.reset_index(drop=True))
