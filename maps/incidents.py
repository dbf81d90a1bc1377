"""The incident map: clustered markers, a heat layer and the filter form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import folium
import geopandas as gpd
import sqlalchemy as sa

from gridgis.gis import taxonomy
from gridgis.gis.access.principal import Principal
from gridgis.layers.common import escape
from gridgis.layers.points import cluster_layer, heat_layer

from . import data
from .base import PageOptions, add_outlines, base_map, fit
from .controls import Panel, filter_form
from .i18n import t
from .offline import render


@dataclass
class IncidentsPageData:
    base: data.BaseLayers
    points: gpd.GeoDataFrame
    total: int


def read_incidents_page(conn: sa.Connection, options: PageOptions,
                        categories: tuple[str, ...], start: datetime | None,
                        end: datetime | None, who: Principal) -> IncidentsPageData:
    points, total = data.incidents(conn, categories, start, end, options.max_features, who)
    return IncidentsPageData(data.read_base(conn, options.max_features), points, total)


def incidents_page(page: IncidentsPageData, options: PageOptions,
                   categories: tuple[str, ...], start: datetime | None = None,
                   end: datetime | None = None) -> str:
    lang = options.lang
    m = base_map(page.base, options, t("incidents_map", lang))
    frames = add_outlines(m, page.base, lang)
    points = page.points
    if not points.empty:
        labels = [f"{taxonomy.label(taxonomy.INCIDENT_CATEGORIES, c, lang)} · "
                  f"{o:%Y-%m-%d %H:%M}" for c, o in zip(points.category, points.occurred_at,
                                                       strict=True)]
        points = points.assign(label=labels)
        cluster_layer(points, name=t("clusters", lang), label_column="label",
                      colour_column="category").add_to(m)
        heat_layer(points, name=t("heat", lang), show=True).add_to(m)
        frames.append(points)
    folium.LayerControl(collapsed=False).add_to(m)
    fit(m, frames)
    shown = escape(t("showing", lang).format(shown=len(points), total=page.total))
    m.add_child(Panel(filter_form(lang, categories, start, end) + f"<div>{shown}</div>"))
    return render(m)
