"""Property-level access: personal fields masked (visibly) unless the role and scope
allow them, the same in JSON, CSV and statistics; police see them with a stated purpose;
filters and sort keys that would reveal a masked field are refused."""

from __future__ import annotations

import pytest

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.api.helpers import assert_problem


@pytest.fixture
def as_role(seeded, api_settings):
    db, _ = seeded
    app = create_app(api_settings, database=db)

    def client(role: str, scope: list[str] | None = None):
        return api_client(app, db, role, scope)
    return client


def _first_person(client, **params) -> dict:
    body = client.get("/people", params={"sort": "id", "limit": 1, **params})
    assert body.status_code == 200, body.text
    return body.json()["features"][0]["properties"]


def test_police_see_people_masked_unless_they_state_a_purpose(as_role):
    with as_role("police") as police:
        person = police.get("/people", params={"limit": 3}).json()["features"]
        masked = min(person, key=lambda f: f["id"])["properties"]
        assert masked["name"] == "居**"
        assert masked["id_number"] == "110***********1234"
        assert masked["community_correction"] == "***"
        assert masked["sex"] is None and masked["residence_type"] == "registered"
        clear = police.get("/people", params={"sort": "id", "limit": 1,
                                              "purpose": "入户走访核查"})
        assert clear.json()["features"][0]["properties"]["id_number"] == \
            "110101199001011234"
        csv = police.get("/people", params={"f": "csv"}).text
        assert "110101199001011234" not in csv and "110***********1234" in csv


def test_who_sees_what_of_incidents_and_workers(as_role):
    with as_role("viewer") as viewer:
        incident = viewer.get("/incidents", params={"limit": 1}).json()["features"][0]
        assert incident["properties"]["description"] == "***"
        assert viewer.get("/workers").json()["items"][0]["phone"] == "138****8000"
        assert_problem(viewer.get("/people"), 403)
        refused = viewer.get("/incidents", params={"purpose": "好奇"})
        assert "whatever the purpose" in assert_problem(refused, 403, "purpose")["detail"]
    with as_role("police") as police:
        incident = police.get("/incidents", params={"limit": 1}).json()["features"][0]
        assert incident["properties"]["description"] == "<script>alert(1)</script>"
        assert_problem(police.get("/people", params={"purpose": " "}), 422, "purpose")
    with as_role("grid_worker", ["110101001001000"]) as worker:
        assert _first_person(worker)["id_number"] == "110101199001011234"
    with as_role("admin") as admin:
        assert _first_person(admin)["name"] == "居民0"


def test_filters_and_sorts_that_would_reveal_a_masked_field_are_refused(as_role):
    with as_role("police") as police:
        assert_problem(police.get("/people", params={"special": "any"}), 403, "special")
        assert_problem(police.get("/people", params={"sort": "-birth_date"}), 403, "sort")
        allowed = police.get("/people", params={"special": "any", "purpose": "重点人员回访"})
        assert allowed.json()["numberMatched"] == 1


def test_counts_of_people_are_withheld_below_the_threshold(as_role, ids):
    with as_role("viewer") as viewer:
        rows = {r["code"]: r for r in viewer.get("/stats/grids").json()["items"]}
        own = rows["110101001001000"]  # two people, one floating, one in a special group
        assert own["people"] is None and own["floating"] is None
        assert own["special_groups"] is None and own["incidents_per_1000"] is None
        assert own["incidents"] == 2 and own["households"] == 1  # not counts of people
        summary = viewer.get(f"/grids/{ids['grid00']}/summary").json()
        assert summary["people"]["total"] is None
    with as_role("admin") as admin:
        rows = {r["code"]: r for r in admin.get("/stats/grids").json()["items"]}
        assert rows["110101001001000"]["people"] == 2
