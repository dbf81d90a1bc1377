"""Fixtures the API tests share."""

from __future__ import annotations

import pytest

from gridgis.api.app import create_app
from tests.accounts import api_client


@pytest.fixture
def as_role(seeded, api_settings):
    """A client maker: ``as_role("police")`` or ``as_role("grid_worker", [codes])``,
    each with a token of a new user with that role and scope, on one app."""
    db, _ = seeded
    app = create_app(api_settings, database=db)

    def client(role: str = "admin", scope: list[str] | None = None):
        return api_client(app, db, role, scope)
    return client
