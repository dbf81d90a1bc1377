"""The map pages: a light base from the district's own data plus each page's layers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import folium
import sqlalchemy as sa
from branca.element import Element, Figure, MacroElement, Template

from gridgis.gis import taxonomy
from gridgis.layers.common import bounds, escape, for_page, geojson
from gridgis.layers.grids import grid_layer
from gridgis.layers.points import cluster_layer, heat_layer, unassigned_layer

from . import data
from .i18n import Lang, t
from .offline import render

MEASURES = {"people": "people", "households": "households", "incidents": "incidents_count",
            "incident_rate": "incident_rate"}
MEASURE_COLUMNS = {"people": "people", "households": "households", "incidents": "incidents",
                   "incident_rate": "incidents_per_1000"}
DEFAULT_VIEW = ([60.17, 24.94], 13)
MAX_ZOOM = 19
UNASSIGNED_SHOWN = 2_000  # newest first; the layer name gives the full count


@dataclass
class PageOptions:
    lang: Lang = "zh"
    tile_url: str | None = None
    tile_attribution: str = ""
    max_features: int = 20_000


class Banner(MacroElement):
    """A line of text over the map (synthetic-data notice, counts)."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="gridgis-banner">{{ this.text }} {{ this.extra }}</div>
        <style>.gridgis-banner { position: absolute; z-index: 1000; top: 8px; left: 54px;
          max-width: calc(100% - 420px); background: rgba(255, 248, 220, .94);
          border: 1px solid #e0c060; border-radius: 4px; padding: 4px 10px;
          font: 13px/1.4 sans-serif; }</style>
        {% endmacro %}
    """)

    def __init__(self, text: str, extra: str = "") -> None:
        super().__init__()
        self._name = "Banner"
        self.text = escape(text)
        self.extra = extra  # trusted HTML built by this module


class MetricScale(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


class Attribution(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_json }});
        {% endmacro %}
    """)

    def __init__(self, text: str) -> None:
        super().__init__()
        import json

        self.text_json = json.dumps(escape(text))


def base_map(conn: sa.Connection, options: PageOptions, title: str) -> folium.Map:
    """A map with no external tiles unless configured: district, community outlines,
    buildings and roads drawn from the database."""
    lang = options.lang
    # Without a tile layer nothing sets maxZoom, which marker clustering needs; folium's
    # max_zoom only reaches tile layers, so set the map option itself.
    m = folium.Map(location=DEFAULT_VIEW[0], zoom_start=DEFAULT_VIEW[1], tiles=None,
                   maxZoom=MAX_ZOOM,
                   control_scale=False, prefer_canvas=True, zoom_control=True)
    m.add_child(MetricScale())
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(
        f"<title>{escape(title)} · gridgis</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'))
    root.html.add_child(Element(
        '<style>html, body { background: #f4f3ef; }</style>'))
    if options.tile_url:
        folium.TileLayer(options.tile_url, attr=escape(options.tile_attribution) or " ",
                         name="tiles", control=False).add_to(m)
    roads = data.roads(conn, options.max_features)
    if not roads.empty:
        folium.GeoJson(geojson(for_page(roads, 5), []), name=t("roads", lang),
                       style={"color": "#ffffff", "weight": 3, "opacity": 0.95},
                       interactive=False).add_to(m)
    buildings = data.buildings(conn, options.max_features)
    if not buildings.empty:
        folium.GeoJson(geojson(for_page(buildings, 5), []), name=t("buildings", lang),
                       style={"color": "#b8b4aa", "weight": 0.5, "fillColor": "#d9d5cc",
                              "fillOpacity": 0.9},
                       interactive=False).add_to(m)
    facts = data.page_facts(conn)
    if facts["attribution"]:
        m.add_child(Attribution(facts["attribution"]))
    if facts["synthetic"]:
        m.add_child(Banner(t("synthetic", lang)))
    return m


def _outlines(conn: sa.Connection, m: folium.Map, lang: Lang) -> list:
    layers = []
    for level, key, style in (
        ("subdistrict", "subdistricts", {"color": "#1f3a93", "weight": 2.5, "fill": False}),
        ("community", "communities", {"color": "#5a5a5a", "weight": 1.5, "dashArray": "6 4",
                                      "fill": False}),
    ):
        frame = data.areas(conn, level)
        if frame.empty:
            continue
        # Outlines sit above the grids but must not take their clicks and hovers.
        layer = folium.GeoJson(geojson(for_page(frame, 5), []), name=t(key, lang),
                               style=style, interactive=False)
        layer.add_to(m)
        layers.append(frame)
    return layers


def _fit(m: folium.Map, frames: list) -> None:
    for frame in frames:
        box = bounds(frame)
        if box:
            m.fit_bounds(box)
            return


def grids_page(conn: sa.Connection, options: PageOptions, measure: str = "incidents",
               start: datetime | None = None, end: datetime | None = None) -> str:
    lang = options.lang
    title = t("grids_map", lang)
    m = base_map(conn, options, title)
    grids = data.grids_with_measures(conn, start, end)
    frames = []
    if grids.empty:
        m.add_child(Banner(t("empty", lang)))
    else:
        layer, legend, behaviour = grid_layer(
            grids, MEASURE_COLUMNS[measure],
            title=f"{t('grids', lang)}: {t(MEASURES[measure], lang)}",
            summary_url="/grids/{id}/summary", no_data=t("no_data", lang),
            labels={k: t(k, lang) for k in ("loading", "summary", "code", "name", "people",
                                            "households", "places", "things",
                                            "incidents", "workers")})
        layer.add_to(m)
        m.add_child(legend)
        m.add_child(behaviour)
        frames.append(grids)
    frames = _outlines(conn, m, lang) + frames
    outside, outside_total = data.unassigned(conn, UNASSIGNED_SHOWN)
    if not outside.empty:
        unassigned_layer(outside, name=f"{t('unassigned', lang)} ({outside_total:,})").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    _fit(m, frames[::-1])
    m.add_child(_measure_switch(lang, measure, start, end))
    return render(m)


def _measure_switch(lang: Lang, measure: str, start, end) -> Element:
    links = []
    for key, label in MEASURES.items():
        query = urlencode({k: v for k, v in (("measure", key), ("lang", lang),
                                             ("start", start and start.isoformat()),
                                             ("end", end and end.isoformat())) if v})
        style = "font-weight:bold" if key == measure else ""
        links.append(f'<a style="{style}" href="?{escape(query)}">{escape(t(label, lang))}</a>')
    other = "en" if lang == "zh" else "zh"
    links.append(f'<a href="?{escape(urlencode({"measure": measure, "lang": other}))}">'
                 f'{escape(t("language", lang))}</a>')
    return _panel(f"<b>{escape(t('measure', lang))}</b>: " + " · ".join(links))


def _panel(html: str) -> MacroElement:
    class Panel(MacroElement):
        _template = Template("""
            {% macro html(this, kwargs) %}
            <div class="gridgis-panel">{{ this.content }}</div>
            <style>.gridgis-panel { position: absolute; z-index: 1000; bottom: 28px; left: 10px;
              background: rgba(255,255,255,.94); padding: 6px 10px; border-radius: 4px;
              font: 13px/1.6 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
              .gridgis-panel select, .gridgis-panel input { font-size: 12px; }</style>
            {% endmacro %}
        """)

        def __init__(self) -> None:
            super().__init__()
            self._name = "Panel"
            self.content = html  # built from escaped parts by the callers

    return Panel()


def incidents_page(conn: sa.Connection, options: PageOptions, categories: list[str],
                   start: datetime | None = None, end: datetime | None = None) -> str:
    lang = options.lang
    title = t("incidents_map", lang)
    m = base_map(conn, options, title)
    frames = _outlines(conn, m, lang)
    points, total = data.incidents(conn, categories, start, end, options.max_features)
    if not points.empty:
        labels = [f"{taxonomy.label(taxonomy.INCIDENT_CATEGORIES, c, lang)} · "
                  f"{o:%Y-%m-%d %H:%M}" for c, o in zip(points.category, points.occurred_at,
                                                       strict=True)]
        points = points.assign(label=labels)
        cluster_layer(points, name=t("clusters", lang), label_column="label",
                      colour_column="category").add_to(m)
        heat_layer(points, name=t("heat", lang), show=True).add_to(m)
        frames.append(points)
    folium.LayerControl(collapsed=False).add_to(m)
    _fit(m, frames)
    m.add_child(_filter_form(lang, categories, start, end, len(points), total))
    return render(m)


def category_options(lang: Lang, chosen: list[str]) -> str:
    """<option>s of the incident categories (and "all"), the chosen ones selected."""
    options = [f'<option value="">{escape(t("all", lang))}</option>']
    for code in taxonomy.INCIDENT_CATEGORIES:
        selected = " selected" if code in chosen else ""
        options.append(f'<option value="{escape(code)}"{selected}>'
                       f'{escape(taxonomy.label(taxonomy.INCIDENT_CATEGORIES, code, lang))}'
                       "</option>")
    return "".join(options)


def _filter_form(lang: Lang, categories: list[str], start, end, shown: int,
                 total: int) -> MacroElement:
    day = "%Y-%m-%d"
    html = (
        '<form method="get">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">'
        f'{escape(t("category", lang))} <select name="category">'
        f'{category_options(lang, categories)}</select> '
        f'{escape(t("start", lang))} <input type="date" name="start" '
        f'value="{escape(start.strftime(day) if start else "")}"> '
        f'{escape(t("end", lang))} <input type="date" name="end" '
        f'value="{escape(end.strftime(day) if end else "")}"> '
        f'<button type="submit">{escape(t("apply", lang))}</button></form>'
        f'<div>{escape(t("showing", lang).format(shown=shown, total=total))}</div>'
    )
    return _panel(html)


def landing_page(lang: Lang) -> str:
    other = "en" if lang == "zh" else "zh"
    items = [("/maps/grids", "grids_map"), ("/maps/incidents", "incidents_map"),
             ("/maps/hotspots", "hotspots_map"), ("/docs", "api_docs")]
    links = "".join(f'<li><a href="{href}?lang={lang}">{escape(t(key, lang))}</a></li>'
                    for href, key in items)
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t('title', lang))}</title>
<style>body {{ font: 16px/1.6 sans-serif; max-width: 720px; margin: 3em auto;
  padding: 0 1em; color: #222; }} a {{ color: #1f5fa8; }}</style></head>
<body><h1>{escape(t('title', lang))}</h1><ul>{links}</ul>
<p><a href="/?lang={other}">{escape(t('language', lang))}</a></p></body></html>"""
