"""The demo's accounts: one per role, each with a random password that the build hands
back once (only its argon2 hash is stored). There is no default password.

The patrol leader's scope is the demo's first subdistrict, the grid worker's the first
grid in it, so that both see scoping at work."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..access import audit
from ..access.accounts import add_user, generate_password
from ..access.roles import ROLE_LABELS, Role

ACCOUNTS: tuple[tuple[str, Role], ...] = (
    ("admin", "admin"), ("planner", "planner"), ("police", "police"),
    ("patrol", "patrol_leader"), ("worker", "grid_worker"), ("viewer", "viewer"))


@dataclass(frozen=True)
class DemoAccount:
    name: str
    role: Role
    scope: tuple[str, ...]
    password: str


def demo_scopes(conn: sa.Connection) -> dict[str, list[str]]:
    """Scopes for the scoped roles: the first subdistrict (by code) and its first grid."""
    subdistrict = conn.execute(sa.text(
        "SELECT code FROM areas WHERE level = 'subdistrict' ORDER BY code LIMIT 1")).scalar_one()
    grid = conn.execute(sa.text(
        "SELECT g.code FROM published_grids g JOIN areas c ON c.id = g.community_id "
        "JOIN areas s ON s.id = c.parent_id WHERE s.code = :s ORDER BY g.code LIMIT 1"),
        {"s": subdistrict}).scalar_one()
    return {"patrol_leader": [subdistrict], "grid_worker": [grid]}


def existing_accounts(conn: sa.Connection) -> list[str]:
    """The demo's account names that exist."""
    names = [name for name, _ in ACCOUNTS]
    found = set(conn.execute(sa.text("SELECT name FROM app_users WHERE name = ANY(:n)"),
                             {"n": names}).scalars())
    return [name for name in names if name in found]


def create_accounts(conn: sa.Connection, actor: str = "gridgis demo") -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet (an account of the same name is
    left as it is) and record each in the audit log as ``actor``; returns those created,
    with their passwords."""
    scopes = demo_scopes(conn)
    kept = set(existing_accounts(conn))
    created = []
    for name, role in ACCOUNTS:
        if name in kept:
            continue
        password = generate_password()
        zh, en = ROLE_LABELS[role]
        user = add_user(conn, name, [role], scopes.get(role, []), password=password,
                        display_name=f"示范{zh} demo {en}")
        audit.record(conn, None, audit.Entry(
            "user_added", "users", record_ids=[user.id], detail="demo account",
            after={"name": user.name, "display_name": user.display_name,
                   "roles": list(user.roles), "scope": list(user.scope)}),
            user_name=actor)
        created.append(DemoAccount(name, role, user.scope, password))
    return created
