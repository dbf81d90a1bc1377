"""The application: settings, offline docs, database outages."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import Database, create_db_engine, ensure_postgis, migrate


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


def test_database_outage_gives_503_then_recovers(cluster_home):
    cluster = EmbeddedCluster(cluster_home)
    cluster.start()
    engine = create_db_engine(cluster.url(), pool_size=2, statement_timeout_ms=5000)
    ensure_postgis(engine)
    migrate(engine, 32635)
    with TestClient(create_app(Settings(), database=Database(engine))) as client:
        assert client.get("/incidents").status_code == 200
        cluster.stop()
        down = client.get("/incidents")
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert client.get("/").status_code == 200  # the service itself stays up
        cluster.start()
        assert client.get("/incidents").status_code == 200
    engine.dispose()


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
    with TestClient(app) as client:
        response = client.get("/incidents")
    assert response.status_code == 503
    assert "statement timeout" in response.json()["detail"]
    engine.dispose()


def test_uninitialised_database_is_a_503_with_advice(make_db):
    db = make_db(srid=None)
    with TestClient(create_app(Settings(), database=db)) as client:
        response = client.get("/incidents")
    assert response.status_code == 503
    assert "gridgis demo" in response.json()["detail"]
