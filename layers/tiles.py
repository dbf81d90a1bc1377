"""Layers drawn from vector tiles (Mapbox Vector Tiles, at a URL template the page gives:
the service's own ``/collections/{id}/tiles``) with Leaflet.VectorGrid, for data too
large to embed in a page: the grids of a city coloured by a measure the page carries
per grid id, and a city's incidents as the tiles' clusters (a circle per cluster, sized
by its count) and, zoomed in, one by one coloured by category. The browser fetches only
the tiles in view, with the page's own session."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
from branca.element import Template
from folium.elements import JSCSSMixin

from .encoding import script_json
from .grids import NO_DATA, PALETTE, SUMMARY_JS, class_breaks, class_labels, classify
from .legend import Legend
from .points import CATEGORY_COLOURS

VECTORGRID = [("leaflet.vectorgrid", "https://unpkg.com/leaflet.vectorgrid@1.3.0/dist/"
                                     "Leaflet.VectorGrid.bundled.min.js")]
TILE_PX = 512


def shim(tile_px: int = TILE_PX) -> str:
    """What every tile layer's script needs first."""
    return (
        # Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed: a
        # click on a tile's feature must not also reach the map
        "if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = L.DomEvent.stopPropagation; }\n"
        # a tooltip's text as a text node: Leaflet parses a string it is given as HTML
        "function gridgisText(text) { var span = document.createElement('span');"
        " span.textContent = text; return span; }\n"
        # Tiles of zoom z drawn 512 pixels wide at zoom z + 1: a view needs a quarter of
        # the requests (8 to 12 a layer instead of 30), which a browser sends six at a
        # time and the server makes on two cores. VectorGrid 1.3 does not apply Leaflet's
        # zoomOffset to the URL, so the zoom is lowered where it fetches.
        "function gridgisProtobuf(url, options) {"
        f" var half = {int(tile_px == 512)};"
        " var layer = L.vectorGrid.protobuf(url, Object.assign({maxNativeZoom: 22,"
        f" minNativeZoom: half, tileSize: {int(tile_px)}}}, options));"
        " if (!half) { return layer; }"
        " var fetchTile = layer._getVectorTilePromise;"
        " layer._getVectorTilePromise = function(c) {"
        " var below = L.point(c.x, c.y); below.z = c.z - 1; return fetchTile.call(this, below);"
        " }; return layer; }")


SHIM = shim()


class BackgroundTiles(JSCSSMixin, folium.map.Layer):
    """A tile ``layer`` drawn in one ``style`` from ``min_zoom``, taking no clicks (roads,
    buildings)."""

    default_js = VECTORGRID
    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.shim }}
        var {{ this.get_name() }} = gridgisProtobuf({{ this.url_json }}, {
          rendererFactory: L.canvas.tile, interactive: false,
          minZoom: {{ this.min_zoom }}, vectorTileLayerStyles: {{ this.styles_json }}
        });
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, url: str, layer: str, *, name: str, style: dict, min_zoom: int = 0
                 ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "BackgroundTiles"
        self.min_zoom = int(min_zoom)
        self.shim = SHIM
        self.url_json = script_json(url)
        self.styles_json = script_json({layer: style})


class GridTiles(JSCSSMixin, folium.map.Layer):
    """Grids from tiles with a ``grids`` layer, filled by class: ``classes`` holds the grid
    ids, their values and their class indices (-1: no data), as three lists. Hover:
    code, name and value; click: the grid's summary from ``summary_url`` (as the
    embedded grid layer shows it)."""

    default_js = VECTORGRID
    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.shim }}
        var {{ this.get_name() }} = (function() {
          var map = {{ this._parent.get_name() }};
          var PACKED = {{ this.classes_json }}, CLASSES = {};
          PACKED[0].forEach(function(id, i) { CLASSES[id] = [PACKED[1][i], PACKED[2][i]]; });
          var PALETTE = {{ this.palette_json }};
          var L10N = {{ this.labels_json }};
          {{ this.summary_js }}
          function style(p) {
            var found = CLASSES[p.id], k = found ? found[1] : -1;
            return {fill: true, fillColor: k >= 0 ? PALETTE[k] : {{ this.no_data_json }},
                    fillOpacity: 0.65, color: '#444', weight: 0.6};
          }
          var layer = gridgisProtobuf({{ this.url_json }}, {
            rendererFactory: L.canvas.tile, interactive: true,
            getFeatureId: function(f) { return f.properties.id; },
            vectorTileLayerStyles: {grids: style}
          });
          var tip = L.tooltip({sticky: true});
          layer.on('mouseover', function(e) {
            var p = e.layer.properties, found = CLASSES[p.id];
            layer.setFeatureStyle(p.id, Object.assign(style(p), {weight: 2.5, color: '#000'}));
            tip.setLatLng(e.latlng).setContent(gridgisText([p.code, p.name || '',
              found && found[0] !== null ? String(found[0]) : L10N.no_data].join(' · ')));
            map.openTooltip(tip);
          });
          layer.on('mouseout', function(e) {
            layer.resetFeatureStyle(e.layer.properties.id); map.closeTooltip(tip);
          });
          layer.on('click', function(e) {
            gridgisSummary(map, e.latlng, e.layer.properties.id, {{ this.summary_url_json }},
                           L10N);
          });
          return layer;
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        {% macro header(this, kwargs) %}
        <style>
          .gridgis-summary table { border-collapse: collapse; font-size: 12px; }
          .gridgis-summary th { text-align: left; padding-right: 8px; color: #555; }
        </style>
        {% endmacro %}
    """)

    def __init__(self, url: str, classes: tuple[list, list, list], *, name: str,
                 palette: list[str],
                 no_data: str, summary_url: str, labels: dict[str, str]) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "GridTiles"
        self.shim = SHIM
        self.url_json = script_json(url)
        self.classes_json = script_json(classes)
        self.palette_json = script_json(palette)
        self.no_data_json = script_json(no_data)
        self.summary_url_json = script_json(summary_url)
        self.labels_json = script_json(labels)
        self.summary_js = SUMMARY_JS


def grid_tile_layer(url: str, grids: pd.DataFrame, measure: str, *, title: str,
                    summary_url: str, labels: dict[str, str], no_data: str
                    ) -> tuple[GridTiles, Legend]:
    """The grids as tiles classed like the embedded grid layer (``layers.grids``): the
    page carries only each grid's value and class."""
    values = grids[measure].astype(float).to_numpy()
    breaks = class_breaks(values)
    classes = classify(values, breaks)
    shown = ([int(i) for i in grids["id"]],
             [round(float(v), 2) if np.isfinite(v) else None for v in values],
             [int(k) for k in classes])
    layer = GridTiles(url, shown, name=title, palette=PALETTE, no_data=NO_DATA,
                      summary_url=summary_url, labels={**labels, "no_data": no_data})
    items = [(PALETTE[i], label) for i, label in enumerate(class_labels(values, breaks))]
    if not np.isfinite(values).all():
        items.append((NO_DATA, no_data))
    return layer, Legend(title, items)


class IncidentTiles(JSCSSMixin, folium.map.Layer):
    """Incidents from tiles with an ``incidents`` layer (the page's selection in their
    URL): below the tiles' detail zoom a circle per cluster,
    its area proportional to its count; from it, each incident in its category's
    colour. Hover: the count, or the category and time."""

    default_js = VECTORGRID
    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.shim }}
        var {{ this.get_name() }} = (function() {
          var map = {{ this._parent.get_name() }};
          var COLOURS = {{ this.colours_json }};
          var L10N = {{ this.labels_json }};
          function style(p) {
            if (p.count !== undefined) {
              return {radius: Math.min(30, 3 + 2.2 * Math.sqrt(p.count)), fill: true,
                      fillColor: '#e31a1c', fillOpacity: 0.45, color: '#99000d', weight: 1};
            }
            var colour = COLOURS[p.category] || '#777777';
            return {radius: 5, fill: true, fillColor: colour, fillOpacity: 0.8,
                    color: colour, weight: 1};
          }
          var layer = gridgisProtobuf({{ this.url_json }}, {
            rendererFactory: L.canvas.tile, interactive: true,
            vectorTileLayerStyles: {incidents: style}
          });
          var tip = L.tooltip();
          layer.on('mouseover', function(e) {
            var p = e.layer.properties;
            var labels = L10N.categories;
            tip.setLatLng(e.latlng).setContent(gridgisText(p.count !== undefined
              ? L10N.incidents + ': ' + p.count
              : (labels[p.category] || p.category) + ' · ' +
                String(p.occurred_at || '').replace('T', ' ').slice(0, 16)));
            map.openTooltip(tip);
          });
          layer.on('mouseout', function() { map.closeTooltip(tip); });
          return layer;
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, url: str, *, name: str, labels: dict) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "IncidentTiles"
        self.shim = SHIM
        self.url_json = script_json(url)
        self.colours_json = script_json(CATEGORY_COLOURS)
        self.labels_json = script_json(labels)
