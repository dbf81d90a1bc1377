"""A compact page encoding for many polygons: coordinates quantised to 1e-5 degrees
(about a metre) and delta-encoded per ring, properties stored column by column.

``decodePolygons`` (JavaScript, below) turns it back into GeoJSON features in the
browser. Values stay raw text: the page shows them with textContent, never as HTML.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely

SCALE = 100_000

TOOLTIP_JS = """
function linesTooltip(keys) {
  return function(l) {
    var div = document.createElement('div');
    keys.forEach(function(key) {
      var value = l.feature.properties[key];
      if (value === null || value === undefined || value === '') return;
      var line = document.createElement('div');
      line.textContent = value;
      div.appendChild(line);
    });
    return div;
  };
}
"""

DECODER_JS = TOOLTIP_JS + """
function decodePolygons(p) {
  var s = p.scale, c = p.coords, features = [];
  for (var f = 0; f + 1 < p.features.length; f++) {
    var polygons = [];
    for (var q = p.features[f]; q < p.features[f + 1]; q++) {
      var rings = [];
      for (var r = p.polygons[q]; r < p.polygons[q + 1]; r++) {
        var ring = [], x = 0, y = 0;
        for (var i = p.rings[r]; i < p.rings[r + 1]; i++) {
          x += c[2 * i]; y += c[2 * i + 1]; ring.push([x / s, y / s]);
        }
        rings.push(ring);
      }
      polygons.push(rings);
    }
    var props = {};
    for (var key in p.properties) { props[key] = p.properties[key][f]; }
    features.push({type: 'Feature', properties: props,
                   geometry: {type: 'MultiPolygon', coordinates: polygons}});
  }
  return features;
}
"""


def encode_polygons(geoms, properties: dict[str, list[Any]]) -> dict:
    """Polygons/MultiPolygons in WGS84 and their property columns, as flat delta-coded
    coordinates with ring, polygon and feature offsets."""
    geoms = np.asarray(geoms, dtype=object).copy()
    single = shapely.get_type_id(geoms) == 3
    geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    if len(geoms) == 0:
        rings, polygons, features = np.zeros(1, int), np.zeros(1, int), np.zeros(1, int)
        coords = np.zeros((0, 2))
    else:
        _, coords, (rings, polygons, features) = shapely.to_ragged_array(geoms)
    quantised = np.round(coords * SCALE).astype(np.int64)
    deltas = np.diff(quantised, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    starts = rings[:-1][rings[:-1] < len(quantised)]
    deltas[starts] = quantised[starts]  # each ring starts from absolute coordinates
    columns = {k: [_plain(v) for v in values] for k, values in properties.items()}
    return {"scale": SCALE, "coords": deltas.ravel().tolist(), "rings": rings.tolist(),
            "polygons": polygons.tolist(), "features": features.tolist(),
            "properties": columns}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else round(float(value), 3)
    return value


def script_json(value: Any) -> str:
    """Compact JSON safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
