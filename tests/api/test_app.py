"""The application: settings, offline docs, database outages."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from gridgis.gis.db import Database, create_db_engine
from gridgis.maps import assets
from gridgis.maps.assets import AssetSettings
from tests.accounts import api_client, bearer


def test_default_page_size_above_maximum_is_rejected():
    with pytest.raises(ValidationError, match="above"):
        ApiSettings(default_limit=500, max_limit=100)


def test_docs_use_local_assets_only(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_unknown_route_is_a_problem(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_database_outage_gives_503_then_recovers(own_cluster):
    cluster, db = own_cluster
    with api_client(create_app(Settings(), database=db), db) as client:
        assert client.get("/incidents").status_code == 200
        cluster.stop()
        down = client.get("/incidents")
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert int(down.headers["retry-after"]) > 0
        assert client.get("/").status_code == 200  # the service itself stays up
        cluster.start()
        assert client.get("/incidents").status_code == 200


def test_statement_timeout_is_a_503_not_a_hang(seeded):
    db, _ = seeded
    engine = create_db_engine(db.engine.url.render_as_string(hide_password=False),
                              statement_timeout_ms=100)
    app = create_app(Settings(), database=Database(engine))

    from gridgis.api.deps import get_connection

    def slow_connection():
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_sleep(2)")
            yield conn

    app.dependency_overrides[get_connection] = slow_connection
    with api_client(app, db) as client:
        response = client.get("/incidents")
    assert response.status_code == 503
    assert "statement timeout" in response.json()["detail"]
    engine.dispose()


def test_uninitialised_database_is_a_503_with_advice(make_db):
    db = make_db(srid=None)
    with TestClient(create_app(Settings(), database=db)) as client:
        response = client.get("/incidents", headers=bearer("ggt_whoever"))
    assert response.status_code == 503  # before anyone can be signed in
    assert "gridgis demo" in response.json()["detail"]


def test_missing_map_libraries_are_a_503_naming_the_command(seeded, tmp_path):
    db, _ = seeded
    settings = Settings(assets=AssetSettings(assets_dir=tmp_path / "empty"))
    with api_client(create_app(settings, database=db), db) as client:
        for page in ("/maps/grids", "/maps/incidents", "/maps/hotspots", "/docs",
                     "/static/vendor/leaflet/dist/leaflet.js"):
            response = client.get(page)
            assert response.status_code == 503, page
            assert "gridgis assets fetch" in response.json()["detail"]
        assert client.get("/incidents").status_code == 200  # the API does not need them


def test_map_libraries_are_served_from_the_configured_directory(seeded, tmp_path):
    db, _ = seeded
    vendor = tmp_path / "vendor"
    for package in assets.PACKAGES:
        for name in package.files:
            path = vendor / package.name / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"/* {package.name} {name} */")
    settings = Settings(assets=AssetSettings(assets_dir=vendor))
    with api_client(create_app(settings, database=db), db) as client:
        assert client.get("/maps/grids").status_code == 200
        served = client.get("/static/vendor/leaflet/dist/leaflet.js")
    assert served.status_code == 200 and served.text == "/* leaflet dist/leaflet.js */"


def test_publishing_over_the_http_time_limit_is_a_503_and_changes_nothing(seeded):
    db, ids = seeded
    with db.engine.begin() as conn:
        draft = conn.execute(sa.text("INSERT INTO grid_plans (name) VALUES ('slow') "
                                     "RETURNING id")).scalar_one()
        # A relink that takes longer than the service allows a request.
        conn.execute(sa.text("""
            CREATE FUNCTION slow_relink() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
            CREATE TRIGGER slow BEFORE UPDATE ON incidents
                FOR EACH ROW EXECUTE FUNCTION slow_relink();"""))
    settings = Settings(api=ApiSettings(publish_timeout_ms=1_000))
    with api_client(create_app(settings, database=db), db) as client:
        # An empty plan leaves the whole district uncovered: publishing it is forced.
        response = client.post(f"/plans/{draft}/publish",
                               params={"force": "true", "reason": "a test of time limits"})
    assert response.status_code == 503, response.text
    assert "statement timeout" in response.json()["detail"]
    with db.engine.connect() as conn:
        state = conn.execute(sa.text("SELECT state FROM grid_plans WHERE id = :p"),
                             {"p": ids["plan"]}).scalar_one()
    assert state == "published"


def test_server_errors_are_logged_without_the_values_that_caused_them(seeded, caplog):
    db, _ = seeded
    secret = "110101199001011234"
    app = create_app(Settings(), database=db)

    @app.get("/boom")
    def boom() -> None:  # a syntax error whose message quotes the value sent
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT CAST(:v AS jsonpath)"), {"v": f"$.{secret} ?? x"})

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "SQLSTATE 42601" in caplog.text  # the syntax error, told by its code
    assert secret not in caplog.text and secret not in response.text


def test_pages_with_a_secret_go_uncompressed(seeded, api_settings):
    from fastapi.testclient import TestClient

    from gridgis.api.app import create_app

    db, _ = seeded
    with TestClient(create_app(api_settings, database=db),
                    base_url="http://127.0.0.1") as anonymous:
        sign_in = anonymous.get("/login", headers={"Accept-Encoding": "gzip"})
        assert sign_in.status_code == 200 and "csrf_token" in sign_in.text
        assert sign_in.headers["content-encoding"] == "identity"  # never gzip (BREACH)
