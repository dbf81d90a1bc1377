"""Lines coloured by a class (streets by reach, say)."""

from __future__ import annotations

import folium
import geopandas as gpd

from .common import for_page, geojson


def classed_lines(frame: gpd.GeoDataFrame, *, name: str, key: str, palette: dict[str, str],
                  lines: list[str], weight: float = 4, show: bool = True,
                  dash: str | None = None) -> folium.GeoJson:
    """Lines whose ``key`` column (text) picks their colour from ``palette``; keys not in
    the palette are not drawn. A tooltip shows the ``lines`` columns."""
    page = for_page(frame[frame[key].isin(list(palette))], decimals=5)
    data = geojson(page, [key, *lines])

    def style(feature: dict) -> dict:
        style = {"color": palette[feature["properties"][key]], "weight": weight,
                 "opacity": 0.9}
        return {**style, "dashArray": dash} if dash else style
    tooltip = folium.GeoJsonTooltip(lines, labels=False) if lines and data["features"] \
        else None  # folium checks the fields against the features
    return folium.GeoJson(data, name=name, style_function=style, show=show,
                          tooltip=tooltip)
