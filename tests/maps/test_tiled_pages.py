"""The map pages of a city too large to embed (here: more than no grid and more than one
incident, road or building, GRIDGIS_API_MAP_GRIDS_EMBEDDED=0 and
GRIDGIS_API_MAP_MAX_FEATURES=1): grids, incidents, roads and buildings drawn from the
service's vector tiles in a real headless Chromium with the network cut off; the grid
colours, the summary popup, the incident filter and the hostile names as on the
embedded pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from tests.browser import browser_page, live_server, screenshot
from tests.helpers import X0, Y0

pytestmark = pytest.mark.browser
TO_LONLAT = Transformer.from_crs(32635, 4326, always_xy=True)
TILES_LOADED = """(collection) => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    if (!map) return false;
    let done = false;
    map.eachLayer(l => { if (l._url && l._url.includes('/collections/' + collection + '/tiles')
                              && l.isLoading && !l.isLoading()
                              && Object.keys(l._tiles).length > 0) done = true; });
    return done;
}"""
EMBEDDED = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let features = 0;
    map.eachLayer(l => { if (l.feature) features++; });
    return features;
}"""
POINT = """([lon, lat]) => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    const p = map.latLngToContainerPoint([lat, lon]);
    const box = map.getContainer().getBoundingClientRect();
    return {x: box.left + p.x, y: box.top + p.y};
}"""


@pytest.fixture
def city(seeded):
    """A live server that draws every layer from tiles, and the seeded database."""
    db, _ = seeded
    with db.engine.begin() as conn:
        for line in (f"LINESTRING({X0} {Y0 + 150}, {X0 + 300} {Y0 + 150})",
                     f"LINESTRING({X0 + 150} {Y0}, {X0 + 150} {Y0 + 300})"):
            conn.execute(sa.text(
                "INSERT INTO roads (name, highway, geom) VALUES ('东街', 'residential', "
                "ST_GeomFromText(:line, 32635))"), {"line": line})
        for dx in (120, 180):  # disputes enough for a filtered page to stay tiled
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, geom) VALUES ('dispute', "
                "'2026-03-01 10:00+00', ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
                {"x": X0 + dx, "y": Y0 + 200})
    settings = Settings(api=ApiSettings(map_grids_embedded=0, map_max_features=1))
    with live_server(create_app(settings, database=db)) as url:
        yield url, db


def _clean(log) -> None:
    assert log.external == [] and log.failed == [] and log.page_errors == []
    assert log.console_errors == []


def tile_requests(page) -> list[str]:
    return page.evaluate("() => performance.getEntriesByType('resource')"
                         ".map(e => e.name).filter(n => n.includes('/tiles/'))")


def test_the_grid_page_draws_grids_roads_and_buildings_from_tiles(admin_token, city):
    url, _ = city
    with browser_page(url, admin_token) as (page, log):
        page.goto(f"{url}/maps/grids?lang=en", wait_until="networkidle")
        for collection in ("grids", "roads", "buildings"):
            page.wait_for_function(TILES_LOADED, arg=collection, timeout=30_000)
        # embedded: the outlines (2 communities, 1 subdistrict) and the 1 point outside
        # every grid, no grid
        assert page.evaluate(EMBEDDED) == 4
        assert {r.split("/collections/")[1].split("/")[0] for r in tile_requests(page)} == \
            {"grids", "roads", "buildings"}
        # the tiles of the grids' view only: none for the map's default view before it
        zooms = {r.split("/WebMercatorQuad/")[1].split("/")[0] for r in tile_requests(page)}
        assert len(zooms) == 1, zooms
        assert page.locator(".gridgis-legend").count() == 1
        where = page.evaluate(POINT, list(TO_LONLAT.transform(X0 + 50, Y0 + 50)))
        page.mouse.move(where["x"], where["y"])
        page.mouse.move(where["x"] + 2, where["y"] + 2)
        page.wait_for_selector(".leaflet-tooltip")
        assert "110101001001000" in page.locator(".leaflet-tooltip").first.inner_text()
        page.mouse.click(where["x"], where["y"])
        page.wait_for_selector(".gridgis-summary table")
        page.wait_for_timeout(300)
        assert "张敏" in page.locator(".gridgis-summary").inner_text(), log
        screenshot(page, "grids-tiled-en")
        _clean(log)


def test_the_incident_page_draws_every_incident_from_tiles_with_its_filter(admin_token,
                                                                           city):
    url, _ = city
    with browser_page(url, admin_token) as (page, log):
        page.goto(f"{url}/maps/incidents?lang=zh", wait_until="networkidle")
        page.wait_for_function(TILES_LOADED, arg="incidents", timeout=30_000)
        assert "显示 6 / 共 6 条" in page.locator(".gridgis-panel").inner_text()
        assert page.evaluate(EMBEDDED) == 3
        assert page.locator("canvas.leaflet-heatmap-layer").count() == 0
        page.select_option("select[name=category]", "dispute")
        page.click("form button")
        page.wait_for_load_state("networkidle")
        page.wait_for_function(TILES_LOADED, arg="incidents", timeout=30_000)
        assert "显示 3 / 共 3 条" in page.locator(".gridgis-panel").inner_text()
        incident_tiles = [r for r in tile_requests(page) if "/incidents/" in r]
        assert incident_tiles and all("filter=category+IN+%28%27dispute%27%29" in r
                                      for r in incident_tiles)
        screenshot(page, "incidents-tiled-zh")
        _clean(log)


def test_hostile_names_show_as_text_in_the_tiles_tooltips(admin_token, city):
    url, db = city
    hostile = '<img src=x onerror="window.pwned=1">'
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE grids SET name = :n"), {"n": hostile})
    with browser_page(url, admin_token) as (page, log):
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/maps/grids", wait_until="networkidle")
        page.wait_for_function(TILES_LOADED, arg="grids", timeout=30_000)
        where = page.evaluate(POINT, list(TO_LONLAT.transform(X0 + 150, Y0 + 150)))
        page.mouse.move(where["x"], where["y"])
        page.mouse.move(where["x"] + 2, where["y"] + 2)
        page.wait_for_selector(".leaflet-tooltip")
        assert hostile in page.locator(".leaflet-tooltip").first.inner_text()
        assert page.evaluate("() => window.pwned") is None and dialogs == []
        _clean(log)
