"""Every role against every resource and action, generated from what the issue asks of
each role (stated here on its own, not read from the code), and the anonymous against
every route: 401 unless public."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from starlette.routing import Mount

from gridgis.api.app import create_app
from gridgis.api.settings import AuthSettings, Settings
from tests.accounts import bearer, token_for
from tests.api.helpers import assert_problem

RESOURCES = ("areas", "plans", "grids", "buildings", "households", "people", "places",
             "things", "organisations", "incidents", "workers")
EVERYTHING = set(RESOURCES)
# What each role may read and change, as the issue states it: planners read base data but
# not people and change plans and grids; police read everything and record incidents;
# patrol leaders read hotspots, roads and what lies on the map, not residents; grid
# workers read and edit people, households, places and incidents (in their grids);
# viewers read everything but people and change nothing.
READS = {
    "admin": EVERYTHING,
    "planner": EVERYTHING - {"people"},
    "police": EVERYTHING,
    "patrol_leader": EVERYTHING - {"people", "households"},
    "grid_worker": EVERYTHING,
    "viewer": EVERYTHING - {"people"},
}
WRITES = {
    "admin": EVERYTHING,
    "planner": {"plans", "grids"},
    "police": {"incidents"},
    "patrol_leader": set(),
    "grid_worker": {"people", "households", "places", "incidents"},
    "viewer": set(),
}
SCOPE = ["110101001001000"]  # grid 00 of the seeded plan, for the roles that need one
ACTIONS = ("list", "get", "create", "update", "delete")
CASES = [(role, resource, action) for role in READS for resource in RESOURCES
         for action in ACTIONS]


@pytest.fixture
def matrix(seeded, api_settings):
    """One service, a token per role, and a row in grid 00 of every resource."""
    db, ids = seeded
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO organisations (name, kind, geom) SELECT '居委会', 'other', "
            "ST_Centroid(geom) FROM grids WHERE id = :g"), {"g": ids["grid00"]})
        rows = {}
        for resource in RESOURCES:
            table = "grid_plans" if resource == "plans" else resource
            where = "grid_id = :g" if resource in ("buildings", "households", "people",
                                                   "places", "things", "organisations",
                                                   "incidents") else "true"
            rows[resource] = conn.execute(sa.text(
                f"SELECT min(id) FROM {table} WHERE {where}"), {"g": ids["grid00"]}).scalar()
    tokens = {role: token_for(db, role, SCOPE if role in ("grid_worker", "patrol_leader")
                              else None) for role in READS}
    with TestClient(create_app(api_settings, database=db)) as client:
        yield client, tokens, rows


def _request(client: TestClient, action: str, resource: str, row: int, headers: dict):
    url = f"/{resource}"
    if action == "list":
        return client.get(url, params={"limit": 1}, headers=headers)
    if action == "get":
        return client.get(f"{url}/{row}", headers=headers)
    if action == "create":
        return client.post(url, json={}, headers=headers)
    if action == "update":
        return client.patch(f"{url}/{row}", params={"version": 1}, json={}, headers=headers)
    return client.delete(f"{url}/999999999", headers=headers)


@pytest.mark.parametrize("role", list(READS))
def test_each_role_may_do_what_it_is_meant_to_and_nothing_else(matrix, role):
    client, tokens, rows = matrix
    headers = bearer(tokens[role])
    wrong = []
    for resource in RESOURCES:
        for action in ACTIONS:
            allowed = resource in (READS if action in ("list", "get") else WRITES)[role]
            response = _request(client, action, resource, rows[resource], headers)
            # allowed: the request gets past access control (a create or update of {}
            # is then refused as invalid, a delete of a missing row is a 404)
            expected = {"list": 200, "get": 200, "create": 422, "update": 422,
                        "delete": 404}[action] if allowed else 403
            if response.status_code != expected:
                wrong.append(f"{action} {resource}: {response.status_code}, expected "
                             f"{expected}: {response.text[:160]}")
    assert wrong == []


def every_route(routes):
    """The app's routes, those of included routers too."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from every_route(route.original_router.routes)
        else:
            yield route


def test_the_anonymous_get_401_on_every_route_but_the_public_ones(seeded, api_settings):
    db, ids = seeded
    app = create_app(api_settings, database=db)
    # and the OGC API's metadata: the collections it lists are the public layers
    public = {"/", "/health", "/login", "/logout", "/docs", "/openapi.json", "/conformance", "/api",
              "/collections", "/tileMatrixSets", "/tileMatrixSets/{tile_matrix_set}"}
    with TestClient(app) as client:
        checked = 0
        for route in every_route(app.routes):
            if isinstance(route, Mount):  # the vendored map libraries: static and public
                continue
            path = route.path.replace(":int}", "}")
            concrete = path.replace("{grid_id}", str(ids["grid00"])).replace(
                "{plan_id}", str(ids["plan"])).replace("{row_id}", "1").replace(
                "{feature_id}", "1").replace("{z}/{x}/{y}", "1/1/1")
            for method in sorted(route.methods - {"HEAD"}):
                response = client.request(method, concrete, json={})
                if path in public:
                    assert response.status_code != 401, (method, path)
                    continue
                checked += 1
                body = assert_problem(response, 401)
                assert response.headers["www-authenticate"].startswith("Bearer"), path
                assert "sign in" in body["detail"]
        assert checked > 60


def test_a_page_asked_for_by_a_browser_offers_the_sign_in_form(client, seeded, api_settings):
    db, _ = seeded
    with TestClient(create_app(api_settings, database=db)) as anonymous:
        page = anonymous.get("/maps/grids", params={"lang": "en"},
                             headers={"accept": "text/html"})
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert 'action="/login"' in page.text and "/maps/grids?lang=en" in page.text


def test_layers_declared_public_are_read_without_signing_in_never_personal(seeded):
    db, _ = seeded
    settings = Settings(auth=AuthSettings(public_layers=["areas", "incidents"]))
    with TestClient(create_app(settings, database=db)) as anonymous:
        assert anonymous.get("/areas").status_code == 200
        incidents = anonymous.get("/incidents").json()["features"]
        assert incidents and all(f["properties"]["description"] == "***" for f in incidents)
        assert_problem(anonymous.get("/grids"), 401)
        assert_problem(anonymous.post("/areas", json={}), 401)
    with pytest.raises(ValueError, match="cannot be public"):
        AuthSettings(public_layers="areas,people")
