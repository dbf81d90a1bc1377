"""The grid map: grids coloured by a measure, outlines, and every point outside all
grids highlighted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import folium
import geopandas as gpd
import sqlalchemy as sa

from gridgis.gis.access.principal import Principal
from gridgis.gis.stats import GridStatsCache
from gridgis.layers.grids import grid_layer
from gridgis.layers.points import unassigned_layer
from gridgis.layers.tiles import grid_tile_layer

from . import data
from .base import Banner, PageOptions, add_outlines, base_map, fit, tile_url
from .controls import measure_switch
from .i18n import t
from .offline import render

MEASURES = {"people": "people", "households": "households", "incidents": "incidents_count",
            "incident_rate": "incident_rate"}
MEASURE_COLUMNS = {"people": "people", "households": "households", "incidents": "incidents",
                   "incident_rate": "incidents_per_1000"}
UNASSIGNED_SHOWN = 2_000  # newest first; the layer name gives the full count


@dataclass
class GridsPageData:
    base: data.BaseLayers
    grids: gpd.GeoDataFrame  # or, when tiled, the measures without shapes
    outside: gpd.GeoDataFrame
    outside_total: int
    tiled: bool = False  # too many grids to embed: drawn from the grids' vector tiles
    extent: list[list[float]] | None = None  # of the grids, when tiled


def read_grids_page(conn: sa.Connection, options: PageOptions, start: datetime | None,
                    end: datetime | None, who: Principal, min_count: int,
                    cache: GridStatsCache | None = None) -> GridsPageData:
    if who.scoped:  # what lies outside every grid lies outside the user's grids too
        outside, total = gpd.GeoDataFrame(geometry=[], crs=4326), 0
    else:
        outside, total = data.unassigned(conn, UNASSIGNED_SHOWN)
    base = data.read_base(conn, options.max_features)
    if data.grid_count(conn) > options.grids_embedded:
        return GridsPageData(base, data.grid_measures(conn, start, end, who, min_count, cache),
                             outside, total, tiled=True,
                             extent=base.extent or data.grid_extent(conn))
    return GridsPageData(base, data.grids_with_measures(conn, start, end, who, min_count,
                                                        cache),
                         outside, total)


def grids_page(page: GridsPageData, options: PageOptions, measure: str = "incidents",
               start: datetime | None = None, end: datetime | None = None) -> str:
    lang = options.lang
    m = base_map(page.base, options, t("grids_map", lang), tiled=page.tiled,
                 extent=page.extent)
    frames = []
    if page.grids.empty:
        m.add_child(Banner(t("empty", lang)))
    else:
        period = urlencode([(k, v.isoformat()) for k, v in (("start", start), ("end", end))
                            if v])
        title = f"{t('grids', lang)}: {t(MEASURES[measure], lang)}"
        summary_url = "/grids/{id}/summary" + (f"?{period}" if period else "")
        labels = {k: t(k, lang) for k in ("loading", "summary", "code", "name", "people",
                                          "households", "places", "things", "incidents",
                                          "workers")}
        if page.tiled:
            tiles, legend = grid_tile_layer(tile_url("grids", "properties=id,code,name"),
                                            page.grids,
                                            MEASURE_COLUMNS[measure], title=title,
                                            summary_url=summary_url, labels=labels,
                                            no_data=t("no_data", lang))
            tiles.add_to(m)
            m.add_child(legend)
        else:
            layer, legend, behaviour = grid_layer(
                page.grids, MEASURE_COLUMNS[measure], title=title, summary_url=summary_url,
                no_data=t("no_data", lang), labels=labels)
            layer.add_to(m)
            m.add_child(legend)
            m.add_child(behaviour)
            frames.append(page.grids)
    frames = add_outlines(m, page.base, lang) + frames
    if not page.outside.empty:
        unassigned_layer(page.outside,
                         name=f"{t('unassigned', lang)} ({page.outside_total:,})").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if not page.extent:  # else base_map has set the view to it
        fit(m, frames[::-1])
    m.add_child(measure_switch(lang, MEASURES, measure, start, end))
    return render(m)
