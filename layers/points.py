"""Point layers: clustered markers, a heat layer, highlighted unassigned points."""

from __future__ import annotations

import folium
import geopandas as gpd
from folium import plugins

from .common import escape, for_page, geojson

CATEGORY_COLOURS = {
    "violent_crime": "#d7191c", "property_crime": "#fdae61", "gambling": "#abd9e9",
    "drugs": "#2c7bb6", "dispute": "#a6611a", "petition": "#80cdc1", "fire": "#ff0000",
    "traffic": "#984ea3", "public_order": "#4daf4a", "other": "#777777",
}

_CLUSTER_CALLBACK = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: row[3], fillColor: row[3], fillOpacity: 0.8, weight: 1});
    marker.bindTooltip(row[2]);
    return marker;
}"""


def cluster_layer(points: gpd.GeoDataFrame, *, name: str, label_column: str,
                  colour_column: str) -> plugins.FastMarkerCluster:
    """Markers clustered in the browser; tooltip text is escaped here."""
    frame = for_page(points)
    data = [[round(g.y, 6), round(g.x, 6), escape(label),
             CATEGORY_COLOURS.get(colour, "#777777")]
            for g, label, colour in zip(frame.geometry, frame[label_column],
                                        frame[colour_column], strict=True)]
    return plugins.FastMarkerCluster(data, callback=_CLUSTER_CALLBACK, name=name,
                                     options={"chunkedLoading": True,
                                              "disableClusteringAtZoom": 18})


def heat_layer(points: gpd.GeoDataFrame, *, name: str, show: bool = False) -> plugins.HeatMap:
    frame = for_page(points)
    data = [[round(g.y, 6), round(g.x, 6)] for g in frame.geometry]
    # Scale the saturation point with the number of points so that thousands of
    # incidents show where they concentrate instead of one red blanket.
    return plugins.HeatMap(data, name=name, radius=14, blur=18, min_opacity=0.25, show=show,
                           **{"max": max(1.0, len(data) / 600)})


def unassigned_layer(points: gpd.GeoDataFrame, *, name: str) -> folium.GeoJson:
    """Points outside every grid, drawn loud so nobody misses a blind spot (one layer,
    however many points)."""
    frame = for_page(points)
    marker = folium.CircleMarker(radius=6, color="#e31a1c", weight=2, fill=True,
                                 fill_color="#ffff00", fill_opacity=0.9)
    return folium.GeoJson(geojson(frame, ["label"]), name=name, marker=marker,
                          tooltip=folium.GeoJsonTooltip(["label"], labels=False))


def labelled_points(points: gpd.GeoDataFrame, *, name: str, lines: list[str], color: str,
                    fill: str, radius: int = 7, show: bool = True) -> folium.GeoJson:
    """Points as circle markers with a tooltip of the ``lines`` columns."""
    frame = for_page(points)
    marker = folium.CircleMarker(radius=radius, color=color, weight=2, fill=True,
                                 fill_color=fill, fill_opacity=0.95)
    data = geojson(frame, lines)
    tooltip = folium.GeoJsonTooltip(lines, labels=False) if data["features"] else None
    return folium.GeoJson(data, name=name, marker=marker, show=show, tooltip=tooltip)
