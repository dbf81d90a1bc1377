"""Grid endpoints: which grid is here, what a grid holds, assigning workers."""


import sqlalchemy as sa
from pyproj import Transformer

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.helpers import X0, Y0, until

TO_WGS84 = Transformer.from_crs(32635, 4326, always_xy=True)


def test_grid_at_a_location_with_hierarchy_and_workers(client, ids):
    lon, lat = TO_WGS84.transform(X0 + 50, Y0 + 50)
    body = client.get("/grids/at", params={"lon": lon, "lat": lat}).json()
    assert body["id"] == ids["grid00"]
    assert (body["community"], body["subdistrict"], body["district"]) == \
        ("西社区", "东街道", "示范区")
    assert [w["name"] for w in body["workers"]] == ["张敏"]


def test_grid_at_outside_every_grid_is_404(client):
    lon, lat = TO_WGS84.transform(X0 - 500, Y0 - 500)
    response = client.get("/grids/at", params={"lon": lon, "lat": lat})
    assert response.status_code == 404
    assert "outside every grid" in response.json()["detail"]


def test_grid_at_rejects_impossible_coordinates(client):
    assert client.get("/grids/at", params={"lon": 24.9, "lat": 160}).status_code == 422


def test_grid_summary_counts(client, ids):
    body = client.get(f"/grids/{ids['grid00']}/summary").json()
    assert body["people"]["total"] == 2
    assert body["people"]["floating"] == 1
    assert body["people"]["community_correction"] == 1
    assert body["places"] == {"bar": 1}
    assert body["things"] == {"camera": 1}
    assert body["incidents"] == {"property_crime": 1, "violent_crime": 1}
    assert [w["name"] for w in body["workers"]] == ["张敏"]


def test_grid_summary_time_range(client, ids):
    body = client.get(f"/grids/{ids['grid00']}/summary",
                      params={"start": "2026-02-01T00:00:00Z"}).json()
    assert body["incidents"] == {"violent_crime": 1}


def test_grid_summary_of_a_missing_grid(client):
    assert client.get("/grids/999999/summary").status_code == 404


def test_stats_has_a_row_per_grid_with_rates(client, ids):
    rows = {r["id"]: r for r in client.get("/stats/grids").json()["items"]}
    assert len(rows) == 9
    first = rows[ids["grid00"]]
    assert (first["people"], first["incidents"], first["cameras"], first["workers"]) == \
        (2, 2, 1, 1)
    assert float(first["incidents_per_1000"]) == 1000.0
    assert first["community"] == "西社区" and first["subdistrict"] == "东街道"
    assert rows[ids["grid22"]]["incidents"] == 1
    assert rows[ids["grid22"]]["incidents_per_1000"] is None  # nobody lives there


def test_stats_are_kept_until_their_data_change(client, seeded, ids):
    """The counts are kept per version of the tables they are made from: asked again,
    the same; after a new resident and a new incident (and only then), both counted;
    the rate computed as PostgreSQL's numeric round does."""
    db, _ = seeded

    def grid00(**params) -> dict:
        rows = client.get("/stats/grids", params=params).json()["items"]
        return next(r for r in rows if r["id"] == ids["grid00"])

    before = grid00()
    assert grid00() == before
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO people (name, id_number, geom) VALUES ('王五', '110101199001011234', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + 30, "y": Y0 + 30})
        conn.execute(sa.text(
            "INSERT INTO incidents (category, occurred_at, geom) VALUES ('dispute', now(), "
            "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + 30, "y": Y0 + 30})
        expected_rate = conn.execute(sa.text(
            "SELECT round(1000.0 * :i / :p, 2)"), {"i": before["incidents"] + 1,
                                                  "p": before["people"] + 1}).scalar_one()
    after = grid00()
    assert (after["people"], after["incidents"]) == \
        (before["people"] + 1, before["incidents"] + 1)
    assert after["incidents_per_1000"] == float(expected_rate)
    assert list(after) == list(before)  # the columns in their order
    assert grid00(start="2000-01-01T00:00:00Z")["incidents"] == after["incidents"]
    assert grid00(category="fire")["incidents"] == 0


def test_stats_count_the_tallies_once_per_change_of_them(client, seeded, monkeypatch):
    """People, households and the rest are counted again only when one of their tables
    changed; incidents per period when the incidents changed; categories in any order
    are one selection."""
    from gridgis.gis import stats

    db, _ = seeded
    made = []
    read = stats.read_query
    monkeypatch.setattr(stats, "read_query", lambda name: made.append(name) or read(name))

    def asked(*params) -> tuple[int, int]:
        assert client.get("/stats/grids", params=list(params)).status_code == 200
        return made.count("grid_stats.sql"), made.count("grid_incidents.sql")

    assert asked() == asked() == (1, 1)
    assert asked(("category", "fire"), ("category", "dispute")) == (1, 2)
    assert asked(("category", "dispute"), ("category", "fire")) == (1, 2)
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO incidents (category, occurred_at, geom) VALUES ('fire', now(), "
            "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + 30, "y": Y0 + 30})
    assert asked() == (1, 3)
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE households SET members = members"))
    assert asked() == (2, 3)


def test_the_rate_is_rounded_as_postgresql_rounds_it(conn):
    """Ties (0.625 → 0.63) and repeating decimals, against PostgreSQL's numeric round."""
    from gridgis.gis.stats import _with_incidents

    for incidents, people in ((1, 1600), (1, 8), (3, 7), (2, 3), (5, 400), (0, 9), (7, 1)):
        ours = _with_incidents({"people": people, "workers": 0}, incidents)
        theirs = conn.execute(sa.text("SELECT round(1000.0 * :i / :p, 2)"),
                              {"i": incidents, "p": people}).scalar_one()
        assert ours["incidents_per_1000"] == theirs, (incidents, people)
    assert _with_incidents({"people": 0, "workers": 0}, 4)["incidents_per_1000"] is None


def test_stats_csv(client):
    response = client.get("/stats/grids", params={"f": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert len(response.text.strip().splitlines()) == 10


def test_assign_workers_to_a_grid(client, ids):
    worker = client.post("/workers", json={"name": "李强"}).json()
    response = client.put(f"/grids/{ids['grid11']}/workers",
                          json=[{"worker_id": worker["id"], "role": "primary"}])
    assert response.status_code == 200
    assert [w["name"] for w in response.json()] == ["李强"]
    bad = client.put(f"/grids/{ids['grid11']}/workers", json=[{"worker_id": 424242}])
    assert bad.status_code == 422 and bad.json()["field"] == "0.worker_id"


def test_grid_at_answers_from_memory_and_follows_changes(seeded, api_settings):
    """Once the published grids are in memory, a change to them (here a new worker)
    reaches the answers as soon as the database's notice arrives; the anonymous are
    refused on that path as on any other."""
    db, ids = seeded
    app = create_app(api_settings, database=db)
    lon, lat = TO_WGS84.transform(X0 + 50, Y0 + 50)
    with api_client(app, db, "viewer") as client:
        lookup = app.state.gridgis.grid_lookup
        until(lambda: client.get("/grids/at", params={"lon": lon, "lat": lat})
               .status_code == 200 and lookup.current() is not None)
        assert [w["name"] for w in client.get(
            "/grids/at", params={"lon": lon, "lat": lat}).json()["workers"]] == ["张敏"]
        assert client.get("/grids/at", params={"lon": lon, "lat": lat},
                          headers={"Authorization": ""}).status_code == 401
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "WITH w AS (INSERT INTO workers (name) VALUES ('李华') RETURNING id) "
                "INSERT INTO grid_assignments (worker_id, grid_id, role) "
                "SELECT id, :g, 'secondary' FROM w"), {"g": ids["grid00"]})
        until(lambda: [w["name"] for w in client.get(
            "/grids/at", params={"lon": lon, "lat": lat}).json()["workers"]]
            == ["张敏", "李华"])
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE grid_plans SET state = 'retired'"))
        until(lambda: client.get("/grids/at", params={"lon": lon, "lat": lat})
               .status_code == 404)
