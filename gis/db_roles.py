"""Passwords of the database roles desktop GIS signs in as (migration 0008), and the
connection strings that psql, GDAL and QGIS accept for them.

A role's password is made when first asked for and kept in ``GRIDGIS_HOME/secrets``,
readable by this operating-system user only, so that the same string keeps working;
``reset`` makes a new one (and the old stops working)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import sqlalchemy as sa

from .errors import InvalidInput

DESKTOP_ROLES = {"gis-reader": "gridgis_gis_reader", "planner": "gridgis_planner"}


def role_name(role: str) -> str:
    try:
        return DESKTOP_ROLES[role]
    except KeyError:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(DESKTOP_ROLES)}",
                           field="--role") from None


def role_password(engine: sa.Engine, role: str, secrets_dir: Path | None, *,
                  reset: bool = False) -> str | None:
    """The role's password: the kept one, or a new one when there is none yet (or
    ``reset``). None when nothing is kept and no new one was asked for (a server of
    someone else's, whose passwords gridgis does not keep)."""
    name = role_name(role)
    kept = secrets_dir / f"{name}.password" if secrets_dir is not None else None
    if kept is not None and kept.exists() and not reset:
        return kept.read_text().strip()
    if kept is None and not reset:
        return None
    password = secrets.token_urlsafe(18)
    with engine.begin() as conn:
        statement = conn.execute(sa.text(
            "SELECT format('ALTER ROLE %I PASSWORD %L', CAST(:r AS text), CAST(:p AS text))"),
            {"r": name, "p": password}).scalar_one()
        conn.exec_driver_sql(statement)
    if kept is not None:
        kept.parent.mkdir(mode=0o700, exist_ok=True)
        descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(password + "\n")
    return password
