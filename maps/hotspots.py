"""The hotspot map for police: Gi* classes, hotspot areas, emerging trends, near-repeat
risk zones, the incident heat, and the grid ranking beside the map."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import folium
import pandas as pd
import sqlalchemy as sa
from branca.element import Element, Figure

from gridgis.gis.hotspots import service
from gridgis.gis.hotspots.ranking import ranking
from gridgis.layers.classed import classed_layer
from gridgis.layers.common import bounds, escape
from gridgis.layers.legend import Legend
from gridgis.layers.points import heat_layer
from gridgis.layers.remote import remote_layer

from .i18n import CONFIDENCE, PATTERNS, Lang, pick, t
from .offline import render
from .pages import PageOptions, _outlines, _panel, base_map, category_options

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


def default_period(conn: sa.Connection, start: datetime | None, end: datetime | None
                   ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The last twelve months of data unless a period is given."""
    latest = conn.execute(sa.text("SELECT max(occurred_at) FROM incidents")).scalar()
    end_ts = pd.Timestamp(end) if end else (pd.Timestamp(latest) + pd.Timedelta(seconds=1)
                                            if latest else pd.Timestamp.now(tz="UTC"))
    start_ts = pd.Timestamp(start) if start else end_ts - pd.DateOffset(months=12)
    return start_ts, end_ts


def hotspots_page(conn: sa.Connection, srid: int, options: PageOptions, unit: str,
                  categories: list[str], start: datetime | None, end: datetime | None,
                  printable: bool = False) -> str:
    lang = options.lang
    start_ts, end_ts = default_period(conn, start, end)
    sel = service.Selection(unit, 150.0, tuple(sorted(categories)),  # type: ignore[arg-type]
                            start_ts.to_pydatetime(), end_ts.to_pydatetime())
    m = base_map(conn, options, t("hotspots_map", lang))
    frames = _outlines(conn, m, lang)

    gi = service.gi_layer(conn, srid, sel)
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

    areas = service.areas_layer(conn, srid, sel, 95)
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
    points = service.incidents(conn, srid, sel)
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
    if 0 < len(recent) <= service.MAX_KNOX_INCIDENTS:
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
    frames.append(gi)
    folium.LayerControl(collapsed=False).add_to(m)
    box = bounds(gi.to_crs(4326))
    if box:
        m.fit_bounds(box)
    m.add_child(_controls(lang, unit, categories, start_ts, end_ts))
    root = m.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(Element(_ranking_panel(conn, srid, lang, start_ts, end_ts)))
    if printable:
        root.header.add_child(Element(PRINT_CSS))
    return render(m)


PRINT_CSS = """<style>
@page { size: A4 landscape; margin: 8mm; }
html, body { width: 281mm; height: 194mm; }
.folium-map { width: 190mm !important; height: 194mm !important; }
.gridgis-ranking { left: 192mm !important; right: 0 !important; top: 0 !important;
  max-height: none !important; width: 89mm !important; box-shadow: none !important; }
.leaflet-control-zoom, .gridgis-panel form { display: none; }
</style>"""


def _controls(lang: Lang, unit: str, categories: list[str], start: pd.Timestamp,
              end: pd.Timestamp):
    units = "".join(f'<option value="{u}"{" selected" if u == unit else ""}>'
                    f'{escape(t(k, lang))}</option>'
                    for u, k in (("lattice", "lattice"), ("grids", "grid_units")))
    day = "%Y-%m-%d"
    return _panel(
        '<form method="get">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">'
        f'{escape(t("unit", lang))} <select name="unit">{units}</select> '
        f'{escape(t("category", lang))} <select name="category">'
        f'{category_options(lang, categories)}</select> '
        f'{escape(t("start", lang))} <input type="date" name="start" '
        f'value="{escape(start.strftime(day))}"> '
        f'{escape(t("end", lang))} <input type="date" name="end" '
        f'value="{escape(end.strftime(day))}"> '
        f'<button type="submit">{escape(t("apply", lang))}</button> '
        f'<button type="submit" name="print" value="a4">{escape(t("print", lang))}</button>'
        '</form>')


def _ranking_panel(conn: sa.Connection, srid: int, lang: Lang, start: pd.Timestamp,
                   end: pd.Timestamp) -> str:
    rows = ranking(conn, srid, start.to_pydatetime() if end - start <= pd.Timedelta(days=31)
                   else (end - pd.Timedelta(days=30)).to_pydatetime(), end.to_pydatetime())
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
