"""Render tests on the map pages' HTML."""

import re

import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from tests.accounts import api_client

EVIL = '<img src=x onerror="alert(1)">'
ASSET = re.compile(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"')


def _external_assets(html: str) -> list[str]:
    return [url for url in ASSET.findall(html) if not url.startswith("/static/")]


def test_pages_load_only_local_assets(client):
    for url in ("/maps/grids", "/maps/incidents", "/docs", "/"):
        html = client.get(url, headers={"Accept": "text/html"}).text
        assert _external_assets(html) == [], url
    assert "/static/vendor/leaflet/dist/leaflet.js" in client.get("/maps/grids").text


def test_local_assets_are_served(client):
    html = client.get("/maps/incidents").text
    for url in ASSET.findall(html):
        assert client.get(url).status_code == 200, url


def test_user_text_is_escaped(seeded, api_settings):
    db, ids = seeded
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE grids SET name = :n"), {"n": EVIL})
        conn.execute(sa.text("UPDATE areas SET name = :n"), {"n": EVIL})
    with api_client(create_app(api_settings, database=db), db) as client:
        html = client.get("/maps/grids").text
    # Grid names travel as script-safe JSON and are shown with textContent; area names
    # are not embedded on this page. Nothing arrives as markup.
    assert EVIL not in html and "<img" not in html
    assert '\\u003cimg src=x onerror=\\"alert(1)\\"\\u003e' in html


def test_labels_follow_the_language(client):
    assert "网格" in client.get("/maps/grids", params={"lang": "zh"}).text
    english = client.get("/maps/grids", params={"lang": "en"}).text
    assert "Community boundaries" in english and "社区边界" not in english
    assert "Clustered markers" in client.get("/maps/incidents", params={"lang": "en"}).text


def test_default_language_comes_from_settings(seeded):
    db, _ = seeded
    settings = Settings(api=ApiSettings(lang="en"))
    with api_client(create_app(settings, database=db), db) as client:
        assert "Grid map" in client.get("/", headers={"Accept": "text/html"}).text


def test_synthetic_data_is_announced(seeded, api_settings):
    db, _ = seeded
    with api_client(create_app(api_settings, database=db), db) as client:
        assert "synthetic" not in client.get("/maps/grids?lang=en").text.lower()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET synthetic = true"))
    with api_client(create_app(api_settings, database=db), db) as client:
        for url in ("/maps/grids?lang=en", "/maps/incidents?lang=en"):
            assert "visits, patrol tracks and patrol bases are synthetic" in \
                client.get(url).text


def test_no_tiles_by_default_and_configured_tiles_when_set(seeded):
    db, _ = seeded
    with api_client(create_app(Settings(), database=db), db) as client:
        assert "L.tileLayer" not in client.get("/maps/grids").text
    settings = Settings(api=ApiSettings(tile_url="/tiles/{z}/{x}/{y}.png",
                                        tile_attribution="内网底图"))
    with api_client(create_app(settings, database=db), db) as client:
        html = client.get("/maps/grids").text
    assert "L.tileLayer" in html and "/tiles/{z}/{x}/{y}.png" in html


def test_measure_choice_changes_the_legend(client):
    html = client.get("/maps/grids", params={"measure": "people", "lang": "en"}).text
    assert "Grids: People" in html
    bad = client.get("/maps/grids", params={"measure": "secrets"})
    assert bad.status_code == 422


def test_unknown_incident_category_is_rejected(client):
    response = client.get("/maps/incidents", params={"category": "aliens"})
    assert response.status_code == 422 and response.json()["field"] == "category"


def test_empty_database_page_says_what_to_do(make_db):
    db = make_db()
    with api_client(create_app(Settings(), database=db), db) as client:
        html = client.get("/maps/grids", params={"lang": "en"}).text
    assert "Run gridgis demo or import data" in html


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
LINK = re.compile(r'href="([^"#]+)"')


def _links(html: str, page: str) -> list[str]:
    from html import unescape
    from urllib.parse import urljoin

    return [urljoin(f"http://testserver{page}", unescape(href)) for href in LINK.findall(html)
            if not href.startswith(("http", "/static/"))]


def test_every_link_a_page_offers_answers(client):
    for page in ("/?lang=zh", "/?lang=en", "/maps/grids?lang=en&start=2026-01-01",
                 "/maps/incidents?lang=zh", "/maps/hotspots?lang=en"):
        html = client.get(page, headers=BROWSER).text
        links = _links(html, page)
        assert links or not page.startswith(("/?", "/maps/grids")), page
        for link in links:
            assert client.get(link, headers=BROWSER).status_code == 200, (page, link)


def test_the_data_urls_a_page_fetches_answer(client):
    html = client.get("/maps/hotspots", params={"lang": "en"}).text
    urls = re.findall(r'"(/hotspots/[^"]+)"', html.replace("\\u0026", "&"))
    assert any(u.startswith("/hotspots/near-repeat?") for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_filter_forms_submit_what_the_pages_accept(client):
    blank = {"lang": "en", "category": "", "start": "", "end": ""}
    assert client.get("/maps/incidents", params=blank).status_code == 200
    for extra in ({"unit": "grids"}, {"unit": "lattice", "print": "a4"}):
        assert client.get("/maps/hotspots", params={**blank, **extra}).status_code == 200
