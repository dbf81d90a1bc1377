"""Every page in a real headless Chromium, with the network cut off."""

from __future__ import annotations

import time

import httpx
import pytest

from gridgis.api.app import create_app
from tests.browser import browser_page, live_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded, api_settings):
    db, _ = seeded
    with live_server(create_app(api_settings, database=db)) as url:
        yield url


MAP_LAYERS = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let features = 0, markers = 0;
    map.eachLayer(l => { if (l.feature) features++; if (l instanceof L.CircleMarker) markers++; });
    return {features, markers, zoom: map.getZoom()};
}"""


GRID_CENTRE = """(code) => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let point = null;
    map.eachLayer(l => { if (!point && l.feature && l.feature.properties.code
                             && (!code || l.feature.properties.code === code)) {
        point = map.latLngToContainerPoint(l.getBounds().getCenter()); } });
    const box = map.getContainer().getBoundingClientRect();
    return {x: box.left + point.x, y: box.top + point.y};
}"""


def _clean(log) -> None:
    assert log.external == [], "the page tried to reach the network"
    assert log.failed == []
    assert log.page_errors == []
    assert log.console_errors == []


def test_grids_page_renders_offline_with_its_layers(admin_token, server):
    with browser_page(server, admin_token) as (page, log):
        page.goto(f"{server}/maps/grids?lang=en", wait_until="networkidle")
        page.wait_for_selector(".leaflet-overlay-pane canvas")
        # 9 grids, 2 community and 1 subdistrict outlines, 1 building; 1 point outside
        # every grid
        assert page.evaluate(MAP_LAYERS)["features"] == 14
        assert page.evaluate(MAP_LAYERS)["markers"] == 1
        layers = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert any("Grids" in label for label in layers)
        assert any("Community boundaries" in label for label in layers)
        assert any("Outside every grid" in label for label in layers)
        assert page.locator(".gridgis-legend").count() == 1
        assert page.locator(".leaflet-control-scale").count() == 1
        assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
        screenshot(page, "grids-en")
        _clean(log)


def test_grid_popup_fetches_the_summary_and_escapes_it(admin_token, server):
    with browser_page(server, admin_token) as (page, log):
        page.goto(f"{server}/maps/grids", wait_until="networkidle")
        where = page.evaluate(GRID_CENTRE, "110101001001000")
        page.mouse.click(where["x"], where["y"])
        page.wait_for_selector(".gridgis-summary table")
        text = page.locator(".gridgis-summary").inner_text()
        assert "110101001001000" in text
        assert "张敏" in text
        screenshot(page, "grids-popup-zh")
        _clean(log)


def test_grid_popup_counts_the_page_period(admin_token, server):
    with browser_page(server, admin_token) as (page, log):
        page.goto(f"{server}/maps/grids?lang=en&measure=people&start=2026-02-01",
                  wait_until="networkidle")
        where = page.evaluate(GRID_CENTRE, "110101001001000")
        with page.expect_response(lambda r: "/summary" in r.url) as answer:
            page.mouse.click(where["x"], where["y"])
        assert answer.value.status == 200
        assert "start=2026-02-01" in answer.value.url and "measure" not in answer.value.url
        page.wait_for_selector(".gridgis-summary table")
        text = page.locator(".gridgis-summary").inner_text()
        assert "violent_crime: 1" in text and "property_crime" not in text
        _clean(log)


def test_hostile_names_show_as_text_in_tooltips(admin_token, seeded, api_settings):
    import sqlalchemy as sa

    db, _ = seeded
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE grids SET name = :n"),
                     {"n": '<img src=x onerror="window.pwned=1">'})
    with live_server(create_app(api_settings, database=db)) as url, \
            browser_page(url, admin_token) as (page, log):
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/maps/grids", wait_until="networkidle")
        where = page.evaluate(GRID_CENTRE, None)
        page.mouse.move(where["x"], where["y"])
        page.mouse.move(where["x"] + 3, where["y"] + 3)
        page.wait_for_selector(".leaflet-tooltip")
        assert '<img src=x onerror="window.pwned=1">' in \
            page.locator(".leaflet-tooltip").first.inner_text()
        assert page.evaluate("() => window.pwned") is None
        assert dialogs == []
        _clean(log)


def test_incidents_page_renders_clusters_heat_and_form(admin_token, server):
    with browser_page(server, admin_token) as (page, log):
        page.goto(f"{server}/maps/incidents?lang=zh", wait_until="networkidle")
        page.wait_for_selector(".leaflet-marker-pane .marker-cluster, "
                               ".leaflet-overlay-pane canvas")
        assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
        assert page.locator("form select[name=category] option").count() == 11
        page.select_option("select[name=category]", "dispute")
        page.click("form button")
        page.wait_for_load_state("networkidle")
        assert "category=dispute" in page.url
        assert "显示 1 / 共 1 条" in page.locator(".gridgis-panel").inner_text()
        screenshot(page, "incidents-zh")
        _clean(log)


def test_landing_page_and_offline_api_docs(admin_token, server):
    with browser_page(server, admin_token) as (page, log):
        page.goto(f"{server}/?lang=en", wait_until="networkidle")
        assert page.locator("a[href^='/maps/grids']").count() == 1
        page.goto(f"{server}/docs", wait_until="networkidle")
        page.wait_for_selector(".swagger-ui .opblock")
        assert page.locator(".opblock-tag").count() > 5
        screenshot(page, "docs")
        _clean(log)


def test_hotspot_page_renders_offline_with_its_layers_and_ranking(admin_token, seeded,
                                                                   api_settings):
    import sqlalchemy as sa  # noqa: F401

    from tests.seed import add_hot_cluster

    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    with live_server(create_app(api_settings, database=db)) as url, \
            browser_page(url, admin_token) as (page, log):
        page.goto(f"{url}/maps/hotspots?lang=en&start=2026-01-01&end=2026-07-01",
                  wait_until="networkidle")
        page.wait_for_selector(".leaflet-overlay-pane canvas")
        layers = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        # a 300 m district has too few 150 m cells for FDR-significant areas, so the
        # areas layer may be absent here; the Gi* layer and its legend are always there
        assert any("Hot spot analysis (Gi*)" in label for label in layers)
        assert any("Emerging hot spot trends" in label for label in layers)
        # trends and near-repeat zones arrive from the API after the page is usable
        page.wait_for_load_state("networkidle")
        fetched = page.evaluate("""() => performance.getEntriesByType('resource')
            .map(e => e.name).filter(n => n.includes('/hotspots/'))""")
        assert any("/hotspots/emerging?" in url for url in fetched)
        assert any("/hotspots/near-repeat?" in url for url in fetched)
        assert "99 % confident hot spot" in page.locator(".gridgis-legend").inner_text()
        ranking = page.locator(".gridgis-ranking").inner_text()
        assert "Grid ranking" in ranking and "110101001001000" in ranking
        assert page.evaluate(MAP_LAYERS)["features"] > 0
        screenshot(page, "hotspots-en")
        page.goto(f"{url}/maps/hotspots?lang=zh&unit=grids&print=a4&start=2026-01-01"
                  "&end=2026-07-01", wait_until="networkidle")
        assert "网格排名" in page.locator(".gridgis-ranking").inner_text()
        pdf = page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        _clean(log)


def test_blind_spot_page_renders_offline_with_every_kind_and_the_scorecard(
        admin_token, seeded, api_settings):
    from tests.helpers import add_street_and_post
    from tests.seed import add_hot_cluster

    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
        add_street_and_post(conn, post_x=250)
    with live_server(create_app(api_settings, database=db)) as url:
        # The first audit starts the analysis workers (503 until it is ready): warm it
        # up outside the browser, whose every request must succeed.
        for _ in range(60):
            warm = httpx.get(f"{url}/maps/blindspots?hot_class=90",
                             headers={"Authorization": f"Bearer {admin_token}"}, timeout=60)
            if warm.status_code != 503:
                break
            time.sleep(1)
        assert warm.status_code == 200
        with browser_page(url, admin_token) as (page, log):
            for lang, label in (("en", "Scorecard (worst first)"), ("zh", "盲区评分（最差在前）")):
                page.goto(f"{url}/maps/blindspots?lang={lang}&hot_class=90",
                          wait_until="networkidle")
                page.wait_for_selector(".leaflet-overlay-pane canvas")
                layers = page.locator(".leaflet-control-layers-overlays label") \
                    .all_inner_texts()
                panel = page.locator(".gridgis-scorecard").inner_text()
                assert label in panel and "110101001001" in panel
                if lang == "en":
                    for name in ("Grid blind-spot status", "Grids without an active worker",
                                 "Camera views", "Reach by car", "Reach on foot",
                                 "Police posts and patrol bases", "Suggested camera sites"):
                        assert any(name in text for text in layers), (name, layers)
                    assert "red: act now" in page.locator(".gridgis-legend").inner_text()
                    screenshot(page, "blindspots-en")
            page.goto(f"{url}/maps/blindspots?lang=zh&hot_class=90&print=a4",
                      wait_until="networkidle")
            assert page.locator(".gridgis-scorecard").count() == 1
    _clean(log)


def test_patrol_page_shows_a_plan_and_plans_another_offline(admin_token, seeded,
                                                             api_settings):
    import sqlalchemy as sa

    from gridgis.gis.services.patrols import PatrolService
    from tests.api.test_patrols import BODY
    from tests.helpers import X0, Y0, add_street_lattice
    from tests.seed import add_hot_cluster

    db, _ = seeded
    with db.engine.begin() as conn:
        add_street_lattice(conn)
        add_hot_cluster(conn)
    with live_server(create_app(api_settings, database=db)) as url:
        created = httpx.post(f"{url}/patrols/plans", json=BODY, timeout=120,
                             headers={"Authorization": f"Bearer {admin_token}"})
        assert created.status_code in (201, 202), created.text
        plan_id = created.json()["id"]
        service = PatrolService(db.engine, 32635)
        for _ in range(120):
            plan = service.plan(plan_id, None)
            if plan["status"] != "solving":
                break
            time.sleep(0.5)
        stops = sum(len(u["stops"]) for u in plan["result"]["units"])
        with db.engine.begin() as conn:  # a unit at the market, 08:00-08:15 local
            conn.execute(sa.text(
                "INSERT INTO patrol_points (unit, shift, recorded_at, geom) "
                "SELECT 'P1', NULL, timestamptz '2026-06-30 00:00Z' + m * interval "
                "'1 minute', ST_SetSRID(ST_MakePoint(:x + m, :y), 32635) "
                "FROM generate_series(0, 15) m"), {"x": X0 + 100, "y": Y0 + 200})
        with browser_page(url, admin_token) as (page, log):
            for lang, heading in (("en", "Patrol planning"), ("zh", "巡逻路线规划")):
                page.goto(f"{url}/maps/patrols?lang={lang}&plan={plan_id}",
                          wait_until="networkidle")
                page.wait_for_selector(".pt-stop")
                panel = page.locator(".gridgis-panel").inner_text()
                assert heading in panel and f"#{plan_id}" in panel
                assert page.locator(".pt-stop").count() == stops  # every stop, numbered
                routes = page.evaluate("""() => {
                    const map = Object.values(window).find(v => v instanceof L.Map);
                    let lines = 0;
                    map.eachLayer(l => { if (l.feature && l.feature.geometry.type
                                             === "LineString") lines++; });
                    return lines; }""")
                assert routes >= 1
            assert "nearest-neighbour" in page.goto(
                f"{url}/maps/patrols?lang=en", wait_until="networkidle").text()
            layers = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
            for name in ("Patrol routes", "Patrol stops", "Where the units went (GPS)"):
                assert any(name in text for text in layers), (name, layers)
            panel = page.locator(".gridgis-panel").inner_text()
            assert "Patrol feedback" in panel and "planned but not visited" in panel
            screenshot(page, "patrols-en")
            page.fill("#pt-form input[name=units]", "1")
            page.fill("#pt-form input[name=shift]", "08:00-09:00")
            page.fill("#pt-form input[name=top]", "3")
            with page.expect_navigation(timeout=120_000):
                page.click("#pt-form button")
            page.wait_for_load_state("networkidle")
            assert "plan=" in page.url
            new_id = int(page.url.split("plan=")[1].split("&")[0])
            assert new_id > plan_id
            sheet = page.goto(f"{url}/patrols/plans/{plan_id}/sheet?unit=1",
                              wait_until="networkidle")
            assert sheet is not None and sheet.ok
            assert page.locator("svg circle").count() >= 1
    _clean(log)


def test_plan_page_splits_a_grid_drawn_by_mouse_and_undoes_it_offline(admin_token, seeded,
                                                                       server):
    from pyproj import Transformer

    from tests.helpers import X0, Y0

    _, ids = seeded
    made = httpx.post(f"{server}/plans/{ids['plan']}/drafts", json={"name": "草案 draft"},
                      headers={"Authorization": f"Bearer {admin_token}"})
    assert made.status_code == 201, made.text
    draft = made.json()["id"]
    to_wgs84 = Transformer.from_crs(32635, 4326, always_xy=True)
    ends = [to_wgs84.transform(X0 + x, Y0 + 40) for x in (-8, 108)]
    where = """([lon, lat]) => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        const p = map.latLngToContainerPoint([lat, lon]);
        const box = map.getContainer().getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y}; }"""
    cell = "(key) => document.querySelector(`#pl-balance td[data-key='${key}']`).textContent"
    with browser_page(server, admin_token) as (page, log):
        page.goto(f"{server}/maps/plans/{ids['plan']}?lang=en", wait_until="networkidle")
        assert "Read-only" in page.locator(".gridgis-panel").inner_text()
        assert page.locator(".pl-tools").count() == 0
        page.goto(f"{server}/maps/plans?lang=en", wait_until="networkidle")  # the newest
        assert "草案 draft (draft)" in page.locator(".gridgis-panel").inner_text()
        assert page.evaluate(cell, "pl_grids") == "9"
        grid = page.evaluate(GRID_CENTRE, "110101001001000")
        page.mouse.click(grid["x"], grid["y"])
        assert "110101001001000" in page.locator("#pl-selected").inner_text()
        page.click("button[data-action=split]")
        start, end = (page.evaluate(where, list(e)) for e in ends)
        page.mouse.click(start["x"], start["y"])
        page.wait_for_timeout(400)  # a click, then a separate double click
        with page.expect_response(lambda r: r.url.endswith(f"/plans/{draft}/edits")) as sent:
            page.mouse.dblclick(end["x"], end["y"])  # the last vertex: finish
        assert sent.value.status == 200, sent.value.text()
        page.wait_for_function("() => document.querySelector("
                               "\"#pl-balance td[data-key='pl_grids']\").textContent === '10'")
        assert "Done" in page.locator("#pl-status").inner_text()
        selected = page.locator("#pl-selected").inner_text()
        assert "110101001001000-2" in selected  # both pieces, with their figures
        with page.expect_response(lambda r: "/plans/diff" in r.url):
            page.click("#pl-compare")  # the draft against the published plan
        page.wait_for_function("() => document.querySelector('#pl-diff').textContent"
                               ".includes('added 1')")
        assert "changed 1" in page.locator("#pl-diff").inner_text()
        screenshot(page, "plans-split-en")
        with page.expect_response(lambda r: "/plans/diff" in r.url), \
                page.expect_response(lambda r: "/blindspots/coverage" in r.url), \
                page.expect_response(lambda r: r.url.endswith(f"/plans/{draft}/undo")):
            page.click("button[data-action=undo]")  # then coverage and diff again
        page.wait_for_function("() => document.querySelector("
                               "\"#pl-balance td[data-key='pl_grids']\").textContent === '9'")
        page.goto(f"{server}/maps/plans/{draft}?lang=zh", wait_until="networkidle")
        assert "拆分" in page.locator(".pl-tools").inner_text()
    _clean(log)
