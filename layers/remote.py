"""A layer the browser fetches from the service after the page is usable, for analyses
that take longer than the page should wait for."""

from __future__ import annotations

import folium
from branca.element import MacroElement, Template

from .encoding import TOOLTIP_JS, script_json

RETRIES = 6  # asks after a 503 before the layer stays empty


class RemoteGeoJson(MacroElement):
    """Fetches ``url`` (GeoJSON, or the member ``member`` of a JSON answer) into an empty
    folium.GeoJson layer. With ``key``, features are coloured by ``palette[value]`` and
    features whose value has no colour are left out; ``labels`` translate the value into
    a ``label`` property shown in the tooltip with the ``lines`` properties."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
          {{ this.tooltip_js }}
          var layer = {{ this.layer.get_name() }};
          var key = {{ this.key_json }}, palette = {{ this.palette_json }};
          var labels = {{ this.labels_json }}, style = {{ this.style_json }};
          layer.options.style = function(f) {
            if (!key) return style;
            return Object.assign({}, style, {fillColor: palette[f.properties[key]]});
          };
          // An analysis still being computed answers 503 with Retry-After: ask again then
          // (a few times), so that a long analysis appears when it is ready.
          function load(attempts) {
            return fetch({{ this.url_json }}).then(function(r) {
              if (r.status === 503 && attempts > 0) {
                var wait = parseInt(r.headers.get('Retry-After') || '5', 10);
                return new Promise(function(resolve) {
                  setTimeout(function() { resolve(load(attempts - 1)); },
                             Math.min(Math.max(wait, 1), 60) * 1000);
                });
              }
              return r.ok ? r.json() : null;
            });
          }
          load({{ this.retries }})
            .then(function(answer) {
              var data = answer && ({{ this.member_json }} ? answer[{{ this.member_json }}]
                                                           : answer);
              if (!data || !data.features) return;
              var features = data.features.filter(function(f) {
                return !key || palette[f.properties[key]] !== undefined;
              });
              features.forEach(function(f) {
                if (key) f.properties.label = labels[f.properties[key]] || '';
              });
              layer.addData(features);
            })
            .catch(function() {});
          layer.bindTooltip(linesTooltip({{ this.lines_json }}), {sticky: true});
        })();
        {% endmacro %}
    """)

    def __init__(self, layer: folium.GeoJson, url: str, *, style: dict,
                 key: str | None = None, palette: dict | None = None,
                 labels: dict | None = None, lines: list[str] | None = None,
                 member: str | None = None) -> None:
        super().__init__()
        self.layer = layer
        self.url_json = script_json(url)
        self.key_json = script_json(key)
        self.palette_json = script_json(palette or {})
        self.labels_json = script_json(labels or {})
        self.style_json = script_json(style)
        self.lines_json = script_json(lines or [])
        self.member_json = script_json(member)
        self.tooltip_js = TOOLTIP_JS
        self.retries = RETRIES


def remote_layer(url: str, *, name: str, show: bool = True, **kwargs
                 ) -> tuple[folium.GeoJson, RemoteGeoJson]:
    layer = folium.GeoJson({"type": "FeatureCollection", "features": []}, name=name,
                           show=show)
    return layer, RemoteGeoJson(layer, url, **kwargs)
