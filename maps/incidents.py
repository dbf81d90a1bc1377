"""The incident map: clustered markers, a heat layer and the filter form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import folium
import geopandas as gpd
import sqlalchemy as sa

from gridgis.gis import taxonomy
from gridgis.gis.access.principal import Principal
from gridgis.layers.common import escape
from gridgis.layers.points import cluster_layer, heat_layer
from gridgis.layers.tiles import IncidentTiles

from . import data
from .base import PageOptions, add_outlines, base_map, fit, tile_url
from .controls import Panel, filter_form
from .i18n import t
from .offline import render


@dataclass
class IncidentsPageData:
    base: data.BaseLayers
    points: gpd.GeoDataFrame
    total: int
    tiled: bool = False  # too many to embed: drawn from the incidents' vector tiles
    extent: list[list[float]] | None = None  # the grids', when tiled


def read_incidents_page(conn: sa.Connection, options: PageOptions,
                        categories: tuple[str, ...], start: datetime | None,
                        end: datetime | None, who: Principal) -> IncidentsPageData:
    base = data.read_base(conn, options.max_features)
    total = data.incident_count(conn, categories, start, end, who)
    if total > options.max_features:
        return IncidentsPageData(base, gpd.GeoDataFrame(geometry=[], crs=4326), total,
                                 tiled=True, extent=base.extent or data.grid_extent(conn))
    points, total = data.incidents(conn, categories, start, end, options.max_features, who)
    return IncidentsPageData(base, points, total)


def tile_filter(categories: tuple[str, ...], start: datetime | None,
                end: datetime | None) -> str:
    """The page's selection as the query of the incidents' tiles: a CQL2 filter, the end
    exclusive as on the page (categories are checked codes)."""
    parts = []
    if categories:
        parts.append("category IN (" + ",".join(
            "'" + c.replace("'", "''") + "'" for c in categories) + ")")
    for column_op, when in ((">=", start), ("<", end)):
        if when is not None:
            instant = when if when.tzinfo else when.replace(tzinfo=UTC)
            parts.append(f"occurred_at {column_op} TIMESTAMP('"
                         f"{instant.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}')")
    return urlencode({"filter": " AND ".join(parts)}) if parts else ""


def incidents_page(page: IncidentsPageData, options: PageOptions,
                   categories: tuple[str, ...], start: datetime | None = None,
                   end: datetime | None = None) -> str:
    lang = options.lang
    m = base_map(page.base, options, t("incidents_map", lang), tiled=page.tiled,
                 extent=page.extent)
    frames = add_outlines(m, page.base, lang)
    points = page.points
    if page.tiled:
        IncidentTiles(tile_url("incidents", tile_filter(categories, start, end)),
                      name=t("incidents", lang), labels={
            "incidents": t("incidents", lang),
            "categories": {c: taxonomy.label(taxonomy.INCIDENT_CATEGORIES, c, lang)
                           for c in taxonomy.INCIDENT_CATEGORIES}}).add_to(m)
    elif not points.empty:
        labels = [f"{taxonomy.label(taxonomy.INCIDENT_CATEGORIES, c, lang)} · "
                  f"{o:%Y-%m-%d %H:%M}" for c, o in zip(points.category, points.occurred_at,
                                                       strict=True)]
        points = points.assign(label=labels)
        cluster_layer(points, name=t("clusters", lang), label_column="label",
                      colour_column="category").add_to(m)
        heat_layer(points, name=t("heat", lang), show=True).add_to(m)
        frames.append(points)
    folium.LayerControl(collapsed=False).add_to(m)
    if frames or not page.extent:  # else base_map has set the view to the extent
        fit(m, frames)
    shown = escape(t("showing", lang).format(shown=page.total if page.tiled else len(points),
                                             total=page.total))
    m.add_child(Panel(filter_form(lang, categories, start, end) + f"<div>{shown}</div>"))
    return render(m)
