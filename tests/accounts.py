"""Users and tokens for tests: every data route needs a signed-in user."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from gridgis.gis.access.accounts import add_user, create_token
from gridgis.gis.db import Database

_names = itertools.count(1)


def token_for(db: Database, role: str | list[str] = "admin", scope: list[str] | None = None,
              name: str | None = None) -> str:
    """A new user with these roles (and scope) and a bearer token for them."""
    roles = [role] if isinstance(role, str) else role
    name = name or f"{'-'.join(roles)}-{next(_names)}".replace("_", "-")
    with db.engine.begin() as conn:
        add_user(conn, name, roles, scope or [])
        _, secret = create_token(conn, name, days=1)
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def api_client(app, db: Database, role: str | list[str] = "admin",
               scope: list[str] | None = None, **kwargs) -> Iterator[TestClient]:
    """A test client of ``app`` whose requests carry a token of a new user."""
    with TestClient(app, **kwargs) as client:
        client.headers.update(bearer(token_for(db, role, scope)))
        yield client
