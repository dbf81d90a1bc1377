"""The grid layer: a classed choropleth, code tooltips, labels when zoomed in, and a popup
that fetches the grid's summary from the service when clicked."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement, Template

from .common import for_page
from .encoding import DECODER_JS, encode_polygons, script_json
from .legend import Legend

PALETTE = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # ColorBrewer YlOrRd 5
NO_DATA = "#d9d9d9"


def class_breaks(values: np.ndarray, classes: int = len(PALETTE)) -> list[float]:
    """Quantile upper bounds of the non-missing values, duplicates removed; whole numbers
    for counts, so that a class never reads "0 – 0.4"."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    breaks = np.quantile(finite, np.linspace(0, 1, classes + 1)[1:])
    if np.all(finite == np.round(finite)):
        breaks = np.ceil(breaks)
    return sorted(set(breaks.tolist()))


def class_labels(values: np.ndarray, breaks: list[float]) -> list[str]:
    finite = values[np.isfinite(values)]
    counts = finite.size > 0 and bool(np.all(finite == np.round(finite)))
    labels = []
    for i, upper in enumerate(breaks):
        if i == 0:
            lower = float(finite.min()) if finite.size else 0.0
        else:
            lower = breaks[i - 1] + 1 if counts else breaks[i - 1]
        labels.append(_fmt(upper) if lower >= upper else f"{_fmt(lower)} – {_fmt(upper)}")
    return labels


def classify(values: np.ndarray, breaks: list[float]) -> np.ndarray:
    """Class index per value (-1 for missing)."""
    result = np.searchsorted(np.asarray(breaks), values, side="left") if breaks else \
        np.zeros(len(values), dtype=int)
    return np.where(np.isfinite(values), result, -1)


def grid_layer(grids: gpd.GeoDataFrame, measure: str, *, title: str, summary_url: str,
               labels: dict[str, str], no_data: str) -> tuple[folium.GeoJson, Legend,
                                                             MacroElement]:
    """The choropleth layer, its legend and its behaviour (data, style, tooltip, popup,
    labels). The features are added in the browser from a compact encoding."""
    frame = for_page(grids, decimals=5)
    values = frame[measure].astype(float).to_numpy()
    breaks = class_breaks(values)
    community = frame["community"] if "community" in frame else [None] * len(frame)
    packed = encode_polygons(frame.geometry.values, {
        "id": frame["id"].tolist(), "code": frame["code"].tolist(),
        "name": frame["name"].tolist(), "community": list(community),
        "v": values.tolist(), "k": classify(values, breaks).tolist()})
    layer = folium.GeoJson({"type": "FeatureCollection", "features": []}, name=title,
                           smooth_factor=1.0)
    items = [(PALETTE[i], label) for i, label in enumerate(class_labels(values, breaks))]
    if not np.isfinite(values).all():
        items.append((NO_DATA, no_data))
    return layer, Legend(title, items), GridBehaviour(layer, packed, summary_url, labels)


# A grid's summary in a popup (built with textContent, so nothing from the database is
# parsed as HTML): the embedded grid layer and the tiled one both show it.
SUMMARY_JS = """
function gridgisSummary(map, latlng, id, url, L10N) {
  function row(table, key, value) {
    var tr = document.createElement('tr');
    var th = document.createElement('th'); th.textContent = key;
    var td = document.createElement('td'); td.textContent = value;
    tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
  }
  function counts(obj) {
    return Object.keys(obj || {}).map(function(k) { return k + ': ' + obj[k]; })
                 .join(', ') || '0';
  }
  var box = document.createElement('div');
  box.className = 'gridgis-summary';
  box.textContent = L10N.loading;
  var popup = L.popup({maxWidth: 320}).setLatLng(latlng).setContent(box).openOn(map);
  fetch(url.replace('{id}', id))
    .then(function(r) { return r.json(); })
    .then(function(s) {
      box.textContent = '';
      var h = document.createElement('b'); h.textContent = L10N.summary;
      box.appendChild(h);
      var table = document.createElement('table');
      row(table, L10N.code, s.code);
      row(table, L10N.name, s.name || '');
      row(table, L10N.people, (s.people || {}).total);
      row(table, L10N.households, s.households);
      row(table, L10N.places, counts(s.places));
      row(table, L10N.things, counts(s.things));
      row(table, L10N.incidents, counts(s.incidents));
      row(table, L10N.workers, (s.workers || []).map(function(w) {
        return w.name; }).join(', '));
      box.appendChild(table);
      popup.update();
    })
    .catch(function() { box.textContent = '—'; });
}"""


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.2f}"


class GridBehaviour(MacroElement):
    """Click: fetch /grids/{id}/summary and show it (built with textContent, so nothing
    from the database is parsed as HTML). Zoom >= 16: grid codes as labels."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
          var map = {{ this._parent.get_name() }};
          var layer = {{ this.layer.get_name() }};
          {{ this.decoder }}
          var L10N = {{ this.labels_json }};
          var PALETTE = {{ this.palette_json }};
          function style(f) {
            var k = f.properties.k;
            return {fillColor: k >= 0 ? PALETTE[k] : '{{ this.no_data }}', fillOpacity: 0.65,
                    color: '#444', weight: 0.6};
          }
          layer.options.style = style;
          layer.addData(decodePolygons({{ this.packed_json }}));
          layer.bindTooltip(linesTooltip(['code', 'name', 'community', 'v']), {sticky: true});
          layer.on('mouseover', function(e) {
            e.layer.setStyle({weight: 2.5, color: '#000'});
          });
          layer.on('mouseout', function(e) { layer.resetStyle(e.layer); });
          {{ this.summary_js }}
          layer.on('click', function(e) {
            gridgisSummary(map, e.latlng, e.layer.feature.properties.id,
                           {{ this.summary_url_json }}, L10N);
          });
          var labels = L.layerGroup();
          function showLabels() {
            labels.clearLayers();
            if (map.getZoom() < 16 || !map.hasLayer(layer)) { map.removeLayer(labels); return; }
            var view = map.getBounds(), shown = 0;
            layer.eachLayer(function(l) {
              if (shown > 400 || !view.intersects(l.getBounds())) return;
              shown++;
              var text = document.createElement('span');
              text.textContent = l.feature.properties.code;
              var icon = L.divIcon({className: 'gridgis-label', html: text, iconSize: null});
              L.marker(l.getBounds().getCenter(), {icon: icon, interactive: false}).addTo(labels);
            });
            labels.addTo(map);
          }
          map.on('zoomend moveend overlayadd overlayremove', showLabels);
        })();
        {% endmacro %}
        {% macro header(this, kwargs) %}
        <style>
          .gridgis-label { font: 11px sans-serif; color: #222; text-shadow: 0 0 3px #fff;
                           white-space: nowrap; transform: translate(-50%, -50%); }
          .gridgis-summary table { border-collapse: collapse; font-size: 12px; }
          .gridgis-summary th { text-align: left; padding-right: 8px; color: #555; }
        </style>
        {% endmacro %}
    """)

    def __init__(self, layer: folium.GeoJson, packed: dict, summary_url: str,
                 labels: dict[str, str]) -> None:
        super().__init__()
        import json

        self.layer = layer
        self.packed_json = script_json(packed)
        self.decoder = DECODER_JS
        self.summary_js = SUMMARY_JS
        self.summary_url_json = script_json(summary_url)
        self.labels_json = script_json(labels)
        self.palette_json = json.dumps(PALETTE)
        self.no_data = NO_DATA

