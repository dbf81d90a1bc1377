"""Hotspot endpoints over a real PostGIS (the seeded 3x3 district plus a cluster)."""

import pytest

from gridgis.api.app import create_app
from tests.accounts import api_client, bearer, token_for
from tests.seed import add_hot_cluster


@pytest.fixture
def hot_client(seeded, api_settings):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    with api_client(create_app(api_settings, database=db), db) as client:
        yield client


def test_gi_star_on_a_fine_lattice_finds_the_cluster(hot_client):
    body = hot_client.get("/hotspots/gi", params={"cell": 50, "category": "violent_crime"}
                          ).json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) > 36  # 50 m hexagons, clipped at the edges
    hottest = max(body["features"], key=lambda f: f["properties"]["incidents"])
    assert hottest["properties"]["class"] > 0
    assert all(f["properties"]["class"] <= 0 for f in body["features"]
               if f["properties"]["incidents"] == 0 and f["properties"]["z"] < 0)


def test_gi_star_on_grids_with_seeded_permutations(hot_client):
    a = hot_client.get("/hotspots/gi", params={"unit": "grids", "permutations": 99,
                                               "seed": 7}).json()
    b = hot_client.get("/hotspots/gi", params={"unit": "grids", "permutations": 99,
                                               "seed": 7}).json()
    assert len(a["features"]) == 9
    assert [f["properties"]["p_sim"] for f in a["features"]] == \
        [f["properties"]["p_sim"] for f in b["features"]]


def test_hotspot_areas_name_their_grids(hot_client):
    body = hot_client.get("/hotspots/areas", params={"cell": 50, "category": "violent_crime",
                                                     "min_class": 90}).json()
    assert body["features"]
    first = body["features"][0]["properties"]
    assert "110101001001000" in first["grids"] and first["peak_hours"][0] == 22


def test_emerging_hotspots_by_month(hot_client):
    grids = hot_client.get("/hotspots/emerging", params={
        "unit": "grids", "start": "2026-01-01", "end": "2026-07-01"}).json()
    assert len(grids["features"]) == 9  # too few units for FDR-significant patterns
    cells = hot_client.get("/hotspots/emerging", params={
        "cell": 50, "category": "violent_crime", "start": "2026-01-01",
        "end": "2026-07-01"}).json()["features"]
    busiest = max(cells, key=lambda f: f["properties"]["incidents"])["properties"]
    assert busiest["hot_bins"] >= 5
    assert busiest["pattern"] in ("persistent hot spot", "intensifying hot spot")


def test_near_repeat_table_and_bad_bands(hot_client):
    body = hot_client.get("/hotspots/near-repeat", params={
        "distance_bands": "0,50,100", "time_bands": "0,14,28", "permutations": 19}).json()
    assert len(body["table"]) == 4
    assert {"observed", "expected", "ratio", "p"} <= set(body["table"][0])
    for bands in ("10,5", "0,100,inf", "0,nan", "0,x"):
        bad = hot_client.get("/hotspots/near-repeat", params={"distance_bands": bands})
        assert bad.status_code == 422 and bad.json()["field"] == "distance_bands", bands


def test_forecast_and_backtest(hot_client):
    body = hot_client.get("/hotspots/forecast", params={"unit": "grids", "end": "2026-07-01",
                                                        "horizon_days": 30}).json()
    best = min(body["features"], key=lambda f: f["properties"]["top_area_share"])
    assert best["properties"]["code"] == "110101001001000"
    body = hot_client.get("/hotspots/backtest", params={
        "unit": "grids", "train_start": "2026-01-01", "train_end": "2026-05-01",
        "test_end": "2026-06-01"}).json()
    table = body["rows"]
    assert body["ranked_by"] == "density"
    assert {r["method"] for r in table} == {"blended", "ewma", "counts_all", "last_period",
                                            "kde", "oracle"}  # 4 months: no 1y or 3y
    blended = next(r for r in table if r["method"] == "blended")
    assert set(blended["parameters"]) == {"bandwidth_m", "half_life_days", "count_share"}
    assert all(r["pei"] <= 1 + 1e-9 and r["area_share"] == r["coverage"] for r in table)
    assert hot_client.get("/hotspots/backtest", params={
        "train_start": "2026-05-01", "train_end": "2026-01-01",
        "test_end": "2026-06-01"}).status_code == 422


def test_backtest_on_a_chosen_study_area(hot_client):
    dates = {"unit": "grids", "train_start": "2026-01-01", "train_end": "2026-05-01",
             "test_end": "2026-06-01"}

    def rows(study_area: str) -> list[dict]:
        answer = hot_client.get("/hotspots/backtest", params={**dates,
                                                              "study_area": study_area})
        assert answer.status_code == 200, answer.text
        return answer.json()["rows"]

    everything = rows("all")
    west = rows("110101001001")  # the west community: half of the 300 m square
    assert everything[0]["area_km2"] == pytest.approx(0.09)
    assert west[0]["area_km2"] == pytest.approx(0.045)
    assert west[0]["study_area"] == "area 110101001001"
    active = rows("active")
    assert active[0]["area_km2"] < everything[0]["area_km2"]
    assert active[0]["study_area"].startswith("units with an incident")
    for bad in ("999", " "):
        problem = hot_client.get("/hotspots/backtest", params={**dates, "study_area": bad})
        assert problem.status_code == 422 and problem.json()["field"] == "study_area", bad


def test_a_scoped_user_backtests_within_their_scope_only(seeded, api_settings):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    dates = {"unit": "grids", "train_start": "2026-01-01", "train_end": "2026-05-01",
             "test_end": "2026-06-01"}
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police", ["110101001001000"]) as scoped:  # one 100 m grid
        rows = scoped.get("/hotspots/backtest", params=dates).json()["rows"]
        assert rows[0]["area_km2"] == pytest.approx(0.01)
        assert rows[0]["study_area"] == "all units within your scope"
        east = scoped.get("/hotspots/backtest", params={**dates,
                                                        "study_area": "110101001002"})
        assert east.status_code == 422 and east.json()["field"] == "study_area"


def test_ranking_table(hot_client):
    rows = hot_client.get("/stats/grids/ranking", params={
        "start": "2026-06-01", "end": "2026-07-01"}).json()["items"]
    assert rows[0]["rank"] == 1 and rows[0]["code"] == "110101001001000"
    assert rows[0]["incidents"] >= rows[1]["incidents"]
    assert {"previous", "change", "hotspot_class", "emerging"} <= set(rows[0])


def test_bad_hotspot_parameters(hot_client):
    assert hot_client.get("/hotspots/gi", params={"cell": 10}).status_code == 422
    assert hot_client.get("/hotspots/gi", params={"permutations": 5000}).status_code == 422
    assert hot_client.get("/hotspots/gi", params={"category": "aliens"}).status_code == 422
    assert hot_client.get("/hotspots/emerging", params={
        "bin": "week", "start": "2020-01-01", "end": "2026-01-01"}).status_code == 422


def test_square_lattice_and_distance_band_weights(hot_client):
    square = hot_client.get("/hotspots/gi", params={"cell": 50, "shape": "square",
                                                    "weights": "distance", "band": 120,
                                                    "category": "violent_crime"}).json()
    assert len(square["features"]) == 36  # a 300 m district in 50 m squares
    hottest = max(square["features"], key=lambda f: f["properties"]["incidents"])
    # one very busy corner cell: the largest z, though not a significant cluster after FDR
    assert hottest["properties"]["z"] == max(f["properties"]["z"]
                                             for f in square["features"]) > 0
    contiguity = hot_client.get("/hotspots/gi", params={"cell": 50, "shape": "square",
                                                        "category": "violent_crime"}).json()
    z_band = [f["properties"]["z"] for f in square["features"]]
    z_queen = [f["properties"]["z"] for f in contiguity["features"]]
    assert z_band != z_queen  # the weights matter
    assert hot_client.get("/hotspots/gi", params={"band": 1}).status_code == 422


def test_saturated_analytics_answer_503_and_light_routes_still_answer(seeded):
    """Analyses that are not ready within the wait answer 503 with Retry-After (here the
    wait is shorter than starting the worker processes), light requests keep answering,
    and the analyses, computed on, are there when asked again."""
    import threading
    import time

    import httpx

    from gridgis.api.settings import ApiSettings, Settings
    from tests.browser import live_server

    db, ids = seeded
    settings = Settings(api=ApiSettings(analytics_slots=1, analytics_threads=2,
                                        analytics_wait_s=0.05))
    answers: list[httpx.Response] = []
    headers = bearer(token_for(db, "police"))
    with live_server(create_app(settings, database=db)) as base:
        def ask(permutations: int) -> None:
            with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
                answers.append(client.get("/hotspots/gi", params={
                    "unit": "grids", "permutations": permutations}))

        askers = [threading.Thread(target=ask, args=(19 + k,)) for k in range(6)]
        for asker in askers:
            asker.start()
        with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
            lon, lat = client.get(f"/incidents/{ids['incident0']}").json()["geometry"][
                "coordinates"]
            light = [client.get("/grids/at", params={"lon": lon, "lat": lat})
                     for _ in range(5)]
        for asker in askers:
            asker.join()
        assert [r.status_code for r in light] == [200] * 5
        busy = [r for r in answers if r.status_code == 503]
        assert busy and all(int(r.headers["retry-after"]) >= 1 for r in busy)
        assert all(r.headers["content-type"].startswith("application/problem+json")
                   for r in busy)
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                again = client.get("/hotspots/gi", params={"unit": "grids",
                                                           "permutations": 19})
                if again.status_code == 200:
                    break
                time.sleep(0.5)
        assert again.status_code == 200
