"""What a planner sees after each edit of a draft: the grids that changed, with their
figures and WGS84 outlines, and the balance of the whole draft."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from .plan_edits import Edit
from .plan_figures import balance, grid_figures, grid_workers, plan_households


def grid_features(conn: sa.Connection, plan_id: int, codes: list[str] | None = None
                  ) -> list[dict[str, Any]]:
    """GeoJSON features (WGS84) of the plan's grids (all, or those with ``codes``) with
    their live figures as properties."""
    ids = None
    if codes is not None:
        ids = [int(i) for i in conn.execute(sa.text(
            "SELECT id FROM grids WHERE plan_id = :p AND code = ANY(:c)"),
            {"p": plan_id, "c": codes}).scalars()]
        if not ids:
            return []
    figures = grid_figures(conn, plan_id, ids)
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


def draft_balance(conn: sa.Connection, plan_id: int) -> dict[str, Any]:
    households = plan_households(conn, plan_id)
    return asdict(balance(households, grid_workers(conn, plan_id)))


def edit_outcome(conn: sa.Connection, plan_id: int, edit: Edit) -> dict[str, Any]:
    return {"edit": asdict(edit),
            "grids": {"type": "FeatureCollection",
                      "features": grid_features(conn, plan_id, edit.changed)},
            "balance": draft_balance(conn, plan_id)}


def visible_features(conn: sa.Connection, scope_grids: frozenset[int] | None,
                     features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grids a user with a scope sees: those of their scope's communities."""
    if scope_grids is None:
        return features
    communities = set(conn.execute(sa.text(
        "SELECT DISTINCT c.code FROM grids g JOIN areas c ON c.id = g.community_id "
        "WHERE g.id = ANY(:ids)"), {"ids": sorted(scope_grids)}).scalars())
    return [f for f in features if f["properties"]["community_code"] in communities]
