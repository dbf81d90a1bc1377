"""Who may do what: the roles, what each may read and write, and whose personal fields
each sees unmasked. One table, read by the API, the maps and the exports alike.

A user may have several roles; what they may do is the union. A user with a scope (grid,
community, subdistrict or district codes) reaches only the located rows in those grids,
whatever their roles; grid workers and patrol leaders must have one.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["admin", "planner", "police", "patrol_leader", "grid_worker", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "planner", "police", "patrol_leader", "grid_worker",
                           "viewer")
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "admin": ("管理员", "administrator"),
    "planner": ("网格规划员", "planner"),
    "police": ("民警", "police"),
    "patrol_leader": ("巡逻带班", "patrol leader"),
    "grid_worker": ("网格员", "grid worker"),
    "viewer": ("只读用户", "viewer"),
}
SCOPED_ROLES: tuple[Role, ...] = ("grid_worker", "patrol_leader")
Action = Literal["read", "write"]

BASE = ("areas", "plans", "grids")
PLACES = ("buildings", "places", "things", "organisations")
DATA = (*BASE, *PLACES, "households", "people", "incidents", "workers")
# Not resources of the grid model, but things a role may use.
FEATURES = ("hotspots", "blindspots", "routes", "patrols", "stats", "maps", "assignments",
            "audit", "users")
EVERYTHING = (*DATA, *FEATURES)
# Layers a deployment may open to anyone (people, households and workers never).
MAY_BE_PUBLIC = (*BASE, *PLACES, "incidents")
# Rows that lie in a grid: a user's scope limits these.
LOCATED = (*PLACES, "households", "people", "incidents")
# Resources holding personal fields besides free-form ``properties``: every read of them
# is audited, masked or not.
PERSONAL_RESOURCES = ("people", "workers", "incidents")

READ: dict[str, tuple[str, ...]] = {
    "admin": EVERYTHING,
    "planner": (*BASE, *PLACES, "households", "incidents", "workers", "hotspots",
                "blindspots", "routes", "stats", "maps"),
    "police": (*DATA, "hotspots", "blindspots", "routes", "patrols", "stats", "maps"),
    "patrol_leader": (*BASE, *PLACES, "incidents", "workers", "hotspots", "blindspots",
                      "routes", "patrols", "stats", "maps"),
    "grid_worker": (*BASE, *PLACES, "households", "people", "incidents", "workers",
                    "blindspots", "routes", "stats", "maps"),
    "viewer": (*BASE, *PLACES, "households", "incidents", "workers", "hotspots",
               "blindspots", "routes", "stats", "maps"),
}
WRITE: dict[str, tuple[str, ...]] = {
    "admin": EVERYTHING,
    "planner": ("plans", "grids", "assignments"),  # draft plans only: see gis.resources.guard
    "police": ("incidents", "patrols"),
    "patrol_leader": ("patrols",),  # patrol plans
    "grid_worker": ("people", "households", "places", "incidents"),
    "viewer": (),
}
# Whose personal fields a role sees unmasked (within its scope) ...
PERSONAL: dict[str, tuple[str, ...]] = {
    "admin": DATA,
    "grid_worker": ("people", "households", "places", "incidents"),
    "police": ("incidents",),
}
# ... and which it sees unmasked only when the request states a purpose (audited).
PERSONAL_WITH_PURPOSE: dict[str, tuple[str, ...]] = {
    "police": ("people", "households", "workers", *PLACES),
}


def check_roles(roles: list[str] | tuple[str, ...]) -> tuple[Role, ...]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown role {unknown[0]!r}; roles are: {', '.join(ROLES)}"
                         if unknown else f"give at least one role: {', '.join(ROLES)}")
    return tuple(r for r in ROLES if r in roles)
