"""Draft plans: a copy of a plan (usually the published one) that planners edit while
the published plan stays in force. Grids are copied with their codes, names,
communities and properties; nothing links to a draft until it is published."""

from __future__ import annotations

import sqlalchemy as sa

from .errors import Conflict, InvalidInput, NotFound

COPY_GRIDS = sa.text("""
    INSERT INTO grids (plan_id, code, name, community_id, external_id, properties, geom)
    SELECT :draft, code, name, community_id, external_id, properties, geom
    FROM grids WHERE plan_id = :source ORDER BY id""")


def draft_from(conn: sa.Connection, source_id: int, name: str,
               description: str | None = None) -> tuple[int, int]:
    """Copy plan ``source_id`` into a new draft named ``name`` in the caller's
    transaction; returns the draft's id and how many grids it got."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a plan's name has 1 to 200 characters", field="name")
    source = conn.execute(sa.text("SELECT name FROM grid_plans WHERE id = :id"),
                          {"id": source_id}).scalar()
    if source is None:
        raise NotFound(f"there is no grid plan with id {source_id}")
    if conn.execute(sa.text("SELECT 1 FROM grid_plans WHERE name = :n"),
                    {"n": name}).first() is not None:
        raise Conflict(f"a grid plan named {name!r} exists already", field="name")
    draft = conn.execute(sa.text(
        "INSERT INTO grid_plans (name, description, state) VALUES (:n, :d, 'draft') "
        "RETURNING id"), {"n": name, "d": description or f"draft from {source}"}
    ).scalar_one()
    copied = conn.execute(COPY_GRIDS, {"draft": draft, "source": source_id}).rowcount
    return int(draft), int(copied)


def plan_id_by_name(conn: sa.Connection, name: str) -> int:
    plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                           {"n": name}).scalar()
    if plan_id is None:
        raise NotFound(f"there is no grid plan named {name!r}")
    return int(plan_id)


def require_plan(conn: sa.Connection, plan_id: int) -> None:
    if conn.execute(sa.text("SELECT 1 FROM grid_plans WHERE id = :p"),
                    {"p": plan_id}).first() is None:
        raise NotFound(f"no grid plan with id {plan_id}")
