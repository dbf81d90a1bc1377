"""The HTTP contract: what /openapi.json promises is what the service accepts and
returns; one convention for repeated parameters; unknown parameters and values refused."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from gridgis.api.models.analytics import (
    AreasCollection,
    Backtest,
    EmergingCollection,
    ForecastCollection,
    GiCollection,
    GridAt,
    GridStats,
    GridSummary,
    NearRepeatResult,
    Ranking,
)
from gridgis.api.models.resources import MODELS
from gridgis.gis.access.masking import personal_fields
from gridgis.gis.resources import RESOURCES
from tests.seed import add_hot_cluster

PAGING = {"limit", "offset", "sort", "f"}


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


def test_the_openapi_document_is_valid(openapi):
    validate(openapi)


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_every_list_filter_is_a_documented_query_parameter(openapi, name):
    spec = RESOURCES[name]
    parameters = {p["name"] for p in openapi["paths"][f"/{name}"]["get"]["parameters"]}
    expected = set(PAGING) | ({"purpose"} if personal_fields(name) else set())
    for declared in spec.filters:
        expected |= {"start", "end"} if declared.type == "time" else {declared.name}
    assert parameters == expected


def test_every_route_documents_its_body_and_its_answer(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            answers = {k: v for k, v in operation["responses"].items() if k.startswith("2")}
            assert answers, f"{method} {path} documents no success response"
            for status, answer in answers.items():
                if status == "204":
                    continue
                schemas = [c.get("schema") for c in answer["content"].values()]
                assert any(schemas), f"{method} {path} {status} has no schema"
            bodiless = ("{plan_id}/publish", "{plan_id}/undo")
            if method in ("post", "put", "patch") and not path.endswith(bodiless):
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert body, f"{method} {path} documents no body"
            for status in ("404", "422"):
                assert status in operation["responses"], f"{method} {path} lacks {status}"


def _concrete(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{[^}]+\}", str(ids["grid00"]),
                  path.replace("{collection_id}", "grids"))


def test_unknown_query_parameters_are_refused_on_every_route(client, ids, openapi):
    """With a 422, or the 400 the OGC API standard asks of its routes."""
    operations = [(method, path, any(tag.startswith("OGC API") for tag in
                                     operation.get("tags", ())))
                  for path, item in openapi["paths"].items()
                  for method, operation in item.items()] + [("get", "/docs", False)]
    assert len(operations) > 40
    for method, path, ogc in operations:
        response = client.request(method, _concrete(path, ids), params={"categroy": "fire"},
                                  json={})
        assert response.status_code == (400 if ogc else 422), (method, path, response.text)
        assert response.json()["field"] == "categroy", (method, path)


@pytest.mark.parametrize("path", ["/incidents", "/stats/grids", "/hotspots/gi"])
def test_repeated_and_comma_separated_values_mean_the_same(client, path):
    repeated = client.get(path, params=[("category", "violent_crime"),
                                        ("category", "dispute")])
    comma = client.get(path, params={"category": "violent_crime,dispute"})
    assert repeated.status_code == comma.status_code == 200, repeated.text
    assert repeated.content == comma.content


def test_repeated_and_comma_separated_values_filter_a_map_alike(client):
    def shown(params) -> str:
        page = client.get("/maps/incidents", params={**dict(params), "lang": "en"} if
                          isinstance(params, dict) else [*params, ("lang", "en")])
        assert page.status_code == 200
        return re.search(r"Showing \d+ of \d+", page.text).group(0)

    assert shown([("category", "violent_crime"), ("category", "dispute")]) == \
        shown({"category": "violent_crime,dispute"}) == "Showing 2 of 2"


@pytest.mark.parametrize("name", ["grid", "grid_id"])
def test_references_take_several_values_either_way(client, ids, name):
    values = (["110101001001000", "110101001001202"] if name == "grid" else
              [str(ids["grid00"]), str(ids["grid22"])])
    repeated = client.get("/incidents", params=[(name, v) for v in values]).json()
    comma = client.get("/incidents", params={name: ",".join(values)}).json()
    assert repeated == comma and repeated["numberMatched"] == 3
    one = client.get("/incidents", params={name: values[0]}).json()
    assert one["numberMatched"] == 2


def test_repeated_categories_all_count(client):
    body = client.get("/incidents", params=[("category", "violent_crime"),
                                            ("category", "dispute")]).json()
    assert {f["properties"]["category"] for f in body["features"]} == \
        {"violent_crime", "dispute"}


@pytest.mark.parametrize("path,field,value", [
    ("/incidents", "category", "aliens"), ("/hotspots/gi", "category", "aliens"),
    ("/maps/incidents", "category", "aliens"), ("/stats/grids", "category", "aliens"),
    ("/places", "category", "fire"),  # an incident category, not a place category
    ("/people", "residence_type", "tourist"), ("/people", "special", "aliens"),
    ("/plans", "state", "pending"), ("/areas", "level", "province"),
    ("/grids", "plan", "nope"), ("/grids", "plan_id", "424242"),
    ("/incidents", "grid", "NOPE"), ("/incidents", "grid_id", "424242"),
    ("/incidents", "grid_id", "12x"), ("/people", "community", "999999"),
    ("/areas", "parent", "nowhere"), ("/households", "building_id", "424242"),
    ("/buildings", "use", "bogus"), ("/workers", "grid", "NOPE"),
])
def test_an_unknown_value_is_a_422_that_names_it(client, path, field, value):
    response = client.get(path, params={field: value})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == field and value in body["detail"]


def test_filters_that_were_once_ignored_now_filter(client, ids):
    assert client.get("/grids", params={"plan": "2026"}).json()["numberMatched"] == 9
    assert client.get("/grids", params={"plan_id": ids["plan"]}).json()["numberMatched"] == 9
    communities = client.get("/areas", params={"parent": "110101001"}).json()
    assert {f["properties"]["level"] for f in communities["features"]} == {"community"}
    assert client.get("/workers", params={"active": "false"}).json()["numberMatched"] == 0
    assert client.get("/workers", params={"active": "true"}).json()["numberMatched"] == 1


def test_writes_refuse_fields_the_database_keeps(client):
    point = {"type": "Point", "coordinates": [24.93, 60.165]}
    grid_id = client.post("/incidents", json={"type": "Feature", "geometry": point,
                                              "properties": {"category": "fire",
                                                             "occurred_at": "2026-01-01",
                                                             "grid_id": 1}})
    assert grid_id.status_code == 422 and grid_id.json()["field"] == "grid_id"
    ring = [[24.93, 60.16], [24.931, 60.16], [24.931, 60.161], [24.93, 60.16]]
    parent = client.post("/areas", json={"type": "Feature",
                                         "geometry": {"type": "Polygon", "coordinates": [ring]},
                                         "properties": {"level": "community", "code": "X",
                                                        "name": "x", "parent_code": "110101"}})
    assert parent.status_code == 422 and parent.json()["field"] == "parent_code"


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_responses_match_their_models(client, name):
    models = MODELS[name]
    listing = client.get(f"/{name}", params={"limit": 5})
    models.many.model_validate(listing.json())
    rows = listing.json()["features" if RESOURCES[name].spatial else "items"]
    assert rows, f"the seed has no {name}"
    one = client.get(f"/{name}/{rows[0]['id']}").json()
    models.one.model_validate(one)


def test_grid_and_statistics_responses_match_their_models(client, ids):
    lon, lat = client.get(f"/incidents/{ids['incident0']}").json()["geometry"]["coordinates"]
    GridAt.model_validate(client.get("/grids/at", params={"lon": lon, "lat": lat}).json())
    GridSummary.model_validate(client.get(f"/grids/{ids['grid00']}/summary").json())
    GridStats.model_validate(client.get("/stats/grids").json())
    Ranking.model_validate(client.get("/stats/grids/ranking").json())


def test_hotspot_responses_match_their_models(seeded, client):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    grids = {"unit": "grids"}
    GiCollection.model_validate(client.get("/hotspots/gi", params={
        **grids, "permutations": 19}).json())
    GiCollection.model_validate(client.get("/hotspots/gi", params={"cell": 50}).json())
    ForecastCollection.model_validate(client.get("/hotspots/forecast").json())
    AreasCollection.model_validate(client.get("/hotspots/areas", params={
        "cell": 50, "min_class": 90}).json())
    EmergingCollection.model_validate(client.get("/hotspots/emerging", params=grids).json())
    ForecastCollection.model_validate(client.get("/hotspots/forecast", params=grids).json())
    NearRepeatResult.model_validate(client.get("/hotspots/near-repeat", params={
        "permutations": 19}).json())
    Backtest.model_validate(client.get("/hotspots/backtest", params={
        **grids, "train_start": "2026-01-01", "train_end": "2026-05-01",
        "test_end": "2026-06-01"}).json())


def test_backtest_dates_are_validated_not_asserted(client):
    base = {"train_start": "2026-01-01", "train_end": "2026-05-01", "test_end": "2026-06-01"}
    blank = client.get("/hotspots/backtest", params={**base, "train_start": ""})
    assert blank.status_code == 422 and blank.json()["field"] == "train_start"
    garbage = client.get("/hotspots/backtest", params={**base, "test_end": "soon"})
    assert garbage.status_code == 422 and garbage.json()["field"] == "test_end"
    both = client.get("/hotspots/backtest", params={**base, "start": "2026-01-01"})
    assert both.status_code == 422 and both.json()["field"] == "start"


HOSTILE = ["nan", "inf", "-1e309", "", " ", "0", "-1", "x", "9" * 30, "1,2,x",
           "2026-13-45", "<script>", "'; DROP TABLE grids; --"]


def test_no_query_value_gives_a_server_error(client, ids, openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method != "get":
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for value in HOSTILE:
                    response = client.get(_concrete(path, ids),
                                          params={parameter["name"]: value})
                    assert response.status_code < 500, (path, parameter["name"], value,
                                                        response.text)


def test_no_path_value_gives_a_server_error(client, openapi):
    for path, item in openapi["paths"].items():
        if "{" not in path:
            continue
        for value in ("0", "-1", "9" * 30, "x", "1.5"):
            concrete = re.sub(r"\{[^}]+\}", value, path)
            for method in item:
                response = client.request(method, concrete, json={})
                assert response.status_code < 500, (method, concrete, response.text)


def test_operations_have_unique_names_a_client_can_use(openapi):
    ids = [op["operationId"] for item in openapi["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert {"list_incidents", "get_people", "create_grids", "update_places", "grid_at",
            "gi", "backtest_table"} <= set(ids)
