"""Many polygons coloured by a class, sent compactly and described with textContent."""

from __future__ import annotations

import folium
import geopandas as gpd
from branca.element import MacroElement, Template

from .common import for_page
from .encoding import DECODER_JS, encode_polygons, script_json


class ClassedPolygons(MacroElement):
    """Adds the features to an (empty) folium.GeoJson layer in the browser, styled by the
    ``k`` property through ``palette`` (k → colour; absent keys are not drawn), with a
    tooltip of the ``lines`` properties."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
          {{ this.decoder }}
          var layer = {{ this.layer.get_name() }};
          var palette = {{ this.palette_json }};
          var style = {{ this.style_json }};
          var features = decodePolygons({{ this.packed_json }}).filter(function(f) {
            return palette[f.properties.k] !== undefined;
          });
          layer.options.style = function(f) {
            return Object.assign({}, style, {fillColor: palette[f.properties.k],
                                             color: style.color || palette[f.properties.k]});
          };
          layer.addData(features);
          layer.bindTooltip(linesTooltip({{ this.lines_json }}), {sticky: true});
        })();
        {% endmacro %}
    """)

    def __init__(self, layer: folium.GeoJson, frame: gpd.GeoDataFrame, key: str,
                 palette: dict, lines: list[str], style: dict) -> None:
        super().__init__()
        self.layer = layer
        page = for_page(frame, decimals=5)
        properties = {name: page[name].tolist() for name in lines}
        properties["k"] = page[key].astype(str).tolist()
        self.packed_json = script_json(encode_polygons(page.geometry.values, properties))
        self.palette_json = script_json({str(k): v for k, v in palette.items()})
        self.lines_json = script_json(lines)
        self.style_json = script_json(style)
        self.decoder = DECODER_JS


def classed_layer(frame: gpd.GeoDataFrame, *, name: str, key: str, palette: dict,
                  lines: list[str], style: dict, show: bool = True
                  ) -> tuple[folium.GeoJson, ClassedPolygons]:
    layer = folium.GeoJson({"type": "FeatureCollection", "features": []}, name=name,
                           show=show, smooth_factor=1.0)
    return layer, ClassedPolygons(layer, frame, key, palette, lines, style)
