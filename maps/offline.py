"""Point every script and stylesheet of a Folium map at the service's own copies."""

from __future__ import annotations

import folium
from branca.element import Element

from . import assets

LOCAL = {
    "leaflet": assets.url("leaflet", "dist/leaflet.js"),
    "leaflet_css": assets.url("leaflet", "dist/leaflet.css"),
    "markerclusterjs": assets.url("leaflet.markercluster", "dist/leaflet.markercluster.js"),
    "markerclustercss": assets.url("leaflet.markercluster", "dist/MarkerCluster.css"),
    "markerclusterdefaultcss": assets.url("leaflet.markercluster",
                                          "dist/MarkerCluster.Default.css"),
    "leaflet-heat.js": assets.url("leaflet.heat", "dist/leaflet-heat.js"),
    "Control.Fullscreen.js": assets.url("leaflet.fullscreen", "Control.FullScreen.js"),
    "Control.FullScreen.css": assets.url("leaflet.fullscreen", "Control.FullScreen.css"),
    "leaflet_geoman_js": assets.url(assets.GEOMAN, "dist/leaflet-geoman.js"),
    "leaflet_geoman_css": assets.url(assets.GEOMAN, "dist/leaflet-geoman.css"),
    "leaflet.vectorgrid": assets.url("leaflet.vectorgrid",
                                     "dist/Leaflet.VectorGrid.bundled.min.js"),
}
# Folium's defaults that these pages do not use (Bootstrap, jQuery, icon fonts).
UNUSED = {"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
          "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"}


class UnknownAsset(RuntimeError):
    pass


def localise(root: Element) -> None:
    """Rewrite default_js/default_css of every element below ``root`` (in place)."""
    for element in _walk(root):
        for attribute in ("default_js", "default_css"):
            items = getattr(element, attribute, None)
            if not items:
                continue
            rewritten = []
            for name, url in items:
                if name in UNUSED:
                    continue
                if name not in LOCAL:
                    raise UnknownAsset(f"{type(element).__name__} needs {name} ({url}), which "
                                       "is not served locally; add it to maps/assets.py")
                rewritten.append((name, LOCAL[name]))
            setattr(element, attribute, rewritten)


def _walk(element: Element):
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def render(m: folium.Map) -> str:
    localise(m)
    return m.get_root().render()
