"""What every map page shares: the page options, a light base drawn from the district's
own data (no external tiles unless configured), area outlines, banners and the fit."""

from __future__ import annotations

import json
from dataclasses import dataclass

import folium
import geopandas as gpd
from branca.element import Element, Figure, MacroElement, Template
from folium.map import FitBounds

from gridgis.layers.common import bounds, escape, for_page, geojson
from gridgis.layers.tiles import BackgroundTiles

from .data import BaseLayers
from .i18n import Lang, t

DEFAULT_VIEW = ([60.17, 24.94], 13)
MAX_ZOOM = 19


@dataclass
class PageOptions:
    lang: Lang = "zh"
    tile_url: str | None = None
    tile_attribution: str = ""
    max_features: int = 20_000
    grids_embedded: int = 2_000  # more grids are drawn from vector tiles


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
        self.extra = extra  # trusted HTML built by this package


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
        self.text_json = json.dumps(escape(text))


BUILDINGS_MIN_ZOOM = 16  # of the map: the tiles of zoom 15 (drawn 512 pixels wide)


def tile_url(collection: str, query: str = "") -> str:
    """The URL template of a collection's vector tiles (``api.routes.feature_tiles``),
    with an encoded query (a filter)."""
    return f"/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}" + (
        f"?{query}" if query else "")


def base_map(base: BaseLayers, options: PageOptions, title: str, tiled: bool = False,
             extent: list[list[float]] | None = None) -> folium.Map:
    """A map with no external tiles unless configured: roads and buildings drawn from
    the database, the attribution and the synthetic-data notice. A page that draws a
    layer from vector tiles (``tiled``) draws its embedded layers in SVG: a canvas over
    the whole map would take the pointer events the tiles' features need."""
    lang = options.lang
    # Without a tile layer nothing sets maxZoom, which marker clustering needs; folium's
    # max_zoom only reaches tile layers, so set the map option itself.
    m = folium.Map(location=DEFAULT_VIEW[0], zoom_start=DEFAULT_VIEW[1], tiles=None,
                   maxZoom=MAX_ZOOM, control_scale=False, prefer_canvas=not (tiled or base.tiled),
                   zoom_control=True)
    view_extent = extent or base.extent
    if view_extent:
        # the page's view (or the district's when tiles draw the base) set before any
        # tile layer, and at once (not animated): tiles are asked for the view they are
        # added to, and the default view would cost a screenful of tiles nobody sees
        view = FitBounds(view_extent)
        view.options["animate"] = False
        m.add_child(view)
    m.add_child(MetricScale())
    root = page_root(m)
    root.header.add_child(Element(
        f"<title>{escape(title)} · gridgis</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'))
    root.html.add_child(Element('<style>html, body { background: #f4f3ef; }</style>'))
    if options.tile_url:
        folium.TileLayer(options.tile_url, attr=escape(options.tile_attribution) or " ",
                         name="tiles", control=False).add_to(m)
    if base.tiled:
        BackgroundTiles(tile_url("roads"), "roads", name=t("roads", lang), style={
            "color": "#ffffff", "weight": 3, "opacity": 0.95}).add_to(m)
        # a city's buildings from street zoom, as web maps draw them: below it they are
        # specks that would outweigh everything else the page loads
        BackgroundTiles(tile_url("buildings"), "buildings", name=t("buildings", lang),
                        min_zoom=BUILDINGS_MIN_ZOOM, style={
            "color": "#b8b4aa", "weight": 0.5, "fill": True, "fillColor": "#d9d5cc",
            "fillOpacity": 0.9}).add_to(m)
    if not base.roads.empty:
        folium.GeoJson(geojson(for_page(base.roads, 5), []), name=t("roads", lang),
                       style={"color": "#ffffff", "weight": 3, "opacity": 0.95},
                       interactive=False).add_to(m)
    if not base.buildings.empty:
        folium.GeoJson(geojson(for_page(base.buildings, 5), []), name=t("buildings", lang),
                       style={"color": "#b8b4aa", "weight": 0.5, "fillColor": "#d9d5cc",
                              "fillOpacity": 0.9},
                       interactive=False).add_to(m)
    if base.attribution:
        m.add_child(Attribution(base.attribution))
    if base.synthetic:
        m.add_child(Banner(t("synthetic", lang)))
    return m


def page_root(m: folium.Map) -> Figure:
    root = m.get_root()
    if not isinstance(root, Figure):  # folium always roots a map in a Figure
        raise TypeError("a folium map outside a Figure")
    return root


def add_outlines(m: folium.Map, base: BaseLayers, lang: Lang) -> list[gpd.GeoDataFrame]:
    """Subdistrict and community outlines; returns the frames drawn."""
    drawn = []
    for frame, key, style in (
        (base.subdistricts, "subdistricts", {"color": "#1f3a93", "weight": 2.5,
                                             "fill": False}),
        (base.communities, "communities", {"color": "#5a5a5a", "weight": 1.5,
                                           "dashArray": "6 4", "fill": False}),
    ):
        if frame.empty:
            continue
        # Outlines sit above the grids but must not take their clicks and hovers.
        folium.GeoJson(geojson(for_page(frame, 5), []), name=t(key, lang), style=style,
                       interactive=False).add_to(m)
        drawn.append(frame)
    return drawn


def fit(m: folium.Map, frames: list[gpd.GeoDataFrame]) -> None:
    """Fit the view to the first frame that has data."""
    for frame in frames:
        box = bounds(frame)
        if box:
            m.fit_bounds(box)
            return


def print_css(panel_class: str) -> str:
    """CSS that lays a page out for an A4 landscape printout: the map on the left, the
    ``panel_class`` box (a ranking, a scorecard) in a column on the right."""
    return f"""<style>
@page {{ size: A4 landscape; margin: 8mm; }}
html, body {{ width: 281mm; height: 194mm; }}
.folium-map {{ width: 190mm !important; height: 194mm !important; }}
.{panel_class} {{ left: 192mm !important; right: 0 !important; top: 0 !important;
  max-height: none !important; width: 89mm !important; box-shadow: none !important; }}
.leaflet-control-zoom, .gridgis-panel form {{ display: none; }}
</style>"""


def add_classed(m: folium.Map, frame: gpd.GeoDataFrame, **options) -> None:
    """A classed polygon layer (``gridgis.layers.classed``) and its data on the map."""
    from gridgis.layers.classed import classed_layer

    layer, data = classed_layer(frame, **options)
    layer.add_to(m)
    m.add_child(data)
