"""The hotspot map for police: Gi* classes, hotspot areas, emerging trends, near-repeat
risk zones, the incident heat, and the grid ranking beside the map."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import Element

from gridgis.gis.access.aggregates import in_scope
from gridgis.gis.access.principal import Principal
from gridgis.gis.hotspots.defaults import DEFAULT_CELL_M, PAGE_MONTHS
from gridgis.gis.services.hotspot_inputs import Selection, Unit
from gridgis.gis.services.hotspots import MAX_KNOX_INCIDENTS, HotspotService
from gridgis.layers.classed import classed_layer
from gridgis.layers.common import bounds, escape
from gridgis.layers.legend import Legend
from gridgis.layers.points import heat_layer
from gridgis.layers.remote import remote_layer

from .base import PageOptions, add_outlines, base_map, page_root, print_css
from .controls import Panel, filter_form, select
from .data import BaseLayers
from .i18n import CONFIDENCE, PATTERNS, Lang, pick, t
from .offline import render

CLASS_COLOURS = {99: "#b2182b", 95: "#ef8a62", 90: "#fddbc7", -90: "#d1e5f0",
                 -95: "#67a9cf", -99: "#2166ac"}
PATTERN_COLOURS = {
    "new hot spot": "#fee5d9", "consecutive hot spot": "#fcbba1",
    "intensifying hot spot": "#a50f15", "persistent hot spot": "#de2d26",
    "diminishing hot spot": "#fc9272", "sporadic hot spot": "#fdd0a2",
    "oscillating hot spot": "#fd8d3c", "historical hot spot": "#bdbdbd",
    "new cold spot": "#eff3ff", "consecutive cold spot": "#c6dbef",
    "intensifying cold spot": "#08519c", "persistent cold spot": "#3182bd",
    "diminishing cold spot": "#9ecae1", "sporadic cold spot": "#deebf7",
    "oscillating cold spot": "#6baed6", "historical cold spot": "#d9d9d9",
}
NEAR_REPEAT_DAYS = 90  # the window the near-repeat zones are estimated from
RANKING_LONGEST = pd.Timedelta(days=31)  # a longer period ranks its last 30 days


def hotspots_page(base: BaseLayers, hotspots: HotspotService, options: PageOptions,
                  unit: Unit, categories: tuple[str, ...], start: datetime | None,
                  end: datetime | None, printable: bool = False,
                  who: Principal | None = None, area: shapely.Geometry | None = None) -> str:
    """The page for [start, end) (default: the last twelve months of data); for a user
    with a scope, only what touches ``area`` (their grids, WGS84)."""
    lang = options.lang
    start_ts, end_ts = hotspots.period(start, end, pd.DateOffset(months=PAGE_MONTHS))
    sel = Selection(unit, DEFAULT_CELL_M, categories, start_ts.to_pydatetime(),
                    end_ts.to_pydatetime())
    m = base_map(base, options, t("hotspots_map", lang))
    add_outlines(m, base, lang)

    gi = _within(hotspots.gi(sel), area)
    gi = gi.assign(label=[pick(CONFIDENCE[c], lang) if c else "" for c in gi["class"]],
                   count=[f"{t('incidents_count', lang)}: {n}" for n in gi["incidents"]])
    layer, data = classed_layer(gi, name=t("gi_classes", lang), key="class",
                                palette=CLASS_COLOURS, lines=["code", "label", "count"],
                                style={"weight": 0.4, "fillOpacity": 0.7, "color": "#666"})
    layer.add_to(m)
    m.add_child(data)
    m.add_child(Legend(t("gi_classes", lang),
                       [(CLASS_COLOURS[c], pick(CONFIDENCE[c], lang)) for c in
                        (99, 95, 90, -90, -95, -99)]))

    areas = _within(hotspots.areas(sel, 95), area)
    if not areas.empty:
        described = areas.assign(
            k="area", text=[f"{n} {t('incidents_count', lang)} ({s:.0%}) · "
                            + ", ".join(f"{h:02d}:00" for h in hours)
                            for n, s, hours in zip(areas["incidents"], areas["share"],
                                                   areas["peak_hours"], strict=True)])
        layer, data = classed_layer(described, name=t("hot_areas", lang), key="k",
                                    palette={"area": "#000000"}, lines=["text"],
                                    style={"weight": 3, "fillOpacity": 0.0})
        layer.add_to(m)
        m.add_child(data)

    # Trends and near repeats take longest: the browser fetches them from the (cached)
    # API once the map is usable.
    points = _within(hotspots.incidents(sel), area)
    common = [("unit", unit), *(("category", c) for c in sel.categories)]
    if not points.empty:
        query = urlencode([*common, ("start", start_ts.isoformat()),
                           ("end", end_ts.isoformat())])
        layer, remote = remote_layer(
            f"/hotspots/emerging?{query}", name=t("emerging", lang), show=False,
            key="pattern", palette=PATTERN_COLOURS,
            labels={p: pick(PATTERNS[p], lang) for p in PATTERNS}, lines=["code", "label"],
            style={"weight": 0.6, "fillOpacity": 0.75, "color": "#444"})
        layer.add_to(m)
        m.add_child(remote)
    recent_start = end_ts - pd.Timedelta(days=NEAR_REPEAT_DAYS)
    recent = points[points["occurred_at"] >= recent_start]
    if 0 < len(recent) <= MAX_KNOX_INCIDENTS:
        query = urlencode([*common, ("start", recent_start.isoformat()),
                           ("end", end_ts.isoformat()), ("distance_bands", "0,100,200,300,400"),
                           ("time_bands", "0,7,14,21,28"), ("permutations", "39")])
        layer, remote = remote_layer(
            f"/hotspots/near-repeat?{query}", name=t("risk_zones", lang), member="zones",
            style={"color": "#e6550d", "weight": 2, "dashArray": "5 4",
                   "fillColor": "#fd8d3c", "fillOpacity": 0.15})
        layer.add_to(m)
        m.add_child(remote)

    if not points.empty:
        heat_layer(points.to_crs(4326), name=t("heat", lang), show=False).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    box = bounds(gi.to_crs(4326))
    if box:
        m.fit_bounds(box)
    m.add_child(_controls(lang, unit, categories, start_ts, end_ts))
    root = page_root(m)
    ranked_start = start_ts if end_ts - start_ts <= RANKING_LONGEST else None
    rows = hotspots.ranking(ranked_start, end_ts)
    if who is not None:
        rows = in_scope(rows, who)
    root.html.add_child(Element(_ranking_panel(rows, lang)))
    if printable:
        root.header.add_child(Element(print_css("gridgis-ranking")))
    return render(m)


def _within(frame: gpd.GeoDataFrame, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    return frame if area is None else frame[frame.to_crs(4326).intersects(area)]




def _controls(lang: Lang, unit: str, categories: tuple[str, ...], start: pd.Timestamp,
              end: pd.Timestamp) -> Panel:
    units = select("unit", t("unit", lang), [("lattice", t("lattice", lang)),
                                             ("grids", t("grid_units", lang))], unit)
    print_button = (f' <button type="submit" name="print" value="a4">'
                    f'{escape(t("print", lang))}</button>')
    return Panel(filter_form(lang, categories, start, end, before=units, after=print_button))


def _ranking_panel(rows: list[dict], lang: Lang) -> str:
    head = "".join(f"<th>{escape(t(k, lang))}</th>" for k in
                   ("rank", "code", "incidents_count", "change", "gi_classes", "pattern"))
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in (
            r["rank"], r["code"], r["incidents"], f"{r['change']:+d}",
            pick(CONFIDENCE[r["hotspot_class"]], lang) if r["hotspot_class"] else "",
            pick(PATTERNS[r["emerging"]], lang) if r["emerging"] in PATTERNS else "")) + "</tr>"
        for r in rows[:15])
    return (f'<div class="gridgis-ranking"><b>{escape(t("ranking", lang))}</b> '
            f'({escape(rows[0]["start"].strftime("%Y-%m-%d")) if rows else ""} – '
            f'{escape(rows[0]["end"].strftime("%Y-%m-%d")) if rows else ""})'
            f'<table><tr>{head}</tr>{body}</table></div>'
            "<style>.gridgis-ranking { position: absolute; z-index: 1001; top: 50px; "
            "left: 54px; max-height: 40%; overflow: auto; background: rgba(255,255,255,.95);"
            " padding: 6px 8px; font: 12px/1.4 sans-serif; border-radius: 4px; "
            "box-shadow: 0 1px 4px rgba(0,0,0,.3); }"
            ".gridgis-ranking table { border-collapse: collapse; }"
            ".gridgis-ranking td, .gridgis-ranking th { padding: 1px 5px; "
            "border-bottom: 1px solid #eee; text-align: left; }</style>")
