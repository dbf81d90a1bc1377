"""The blind-spot map: every kind of blind spot as a layer (grid status, uncovered areas
and overlaps, grids without a worker, camera views, dead corners and suggested camera
sites, reach by car and on foot from the posts, patrol presence at hotspots), with the
scorecard beside the map. Offline, bilingual, printable on A4."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element

from gridgis.gis.access.principal import Principal
from gridgis.gis.services.blindspot_options import AuditOptions
from gridgis.gis.services.blindspot_report import visible_scorecard
from gridgis.gis.services.blindspots import BlindSpotService
from gridgis.layers.common import bounds, escape
from gridgis.layers.legend import Legend
from gridgis.layers.lines import classed_lines
from gridgis.layers.points import labelled_points

from .base import PageOptions, add_classed, add_outlines, base_map, page_root, print_css
from .controls import Panel
from .data import BaseLayers
from .i18n import Lang, t
from .offline import render

STATUS_COLOURS = {"red": "#d7301f", "amber": "#fdae61", "green": "#a6d96a", "none": "#cccccc"}
REACH_COLOURS = {"within": "#1a9850", "beyond": "#d73027", "unreached": "#7f7f7f"}
SHOWN_ROWS = 15


def blindspots_page(base: BaseLayers, service: BlindSpotService, options: PageOptions,
                    audit: AuditOptions, who: Principal, area: shapely.Geometry | None,
                    printable: bool = False, query: list[tuple[str, str]] | None = None
                    ) -> str:
    """The page; ``query`` (the request's parameters) is repeated by the print button,
    so that the printout shows the same audit."""
    lang = options.lang
    m = base_map(base, options, t("blindspots_map", lang))
    card = service.scorecard(audit)
    visible = visible_scorecard(card.grids, who)
    grids = service.grids(audit).merge(
        visible[["code", "status", "neglected_incidents", "workers"]], on="code")
    _status_layer(m, grids, lang)
    add_outlines(m, base, lang)
    coverage = service.coverage(audit)
    _coverage_layer(m, coverage.coverage, lang, area)
    unattended = grids[grids["workers"] == 0].assign(k="none", label=lambda f: f["code"])
    if not unattended.empty:
        add_classed(m, unattended, name=t("bs_unassigned", lang), key="k",
                    palette={"none": "#7b3294"}, lines=["label"],
                    style={"weight": 3, "fillOpacity": 0.35, "color": "#7b3294",
                           "dashArray": "4 3"})
    sees_hotspots = who.may("read", "hotspots")
    cameras = service.cameras(audit)
    views = _within(cameras.views.assign(k="view", label=""), area)
    if not views.empty:
        add_classed(m, views, name=t("bs_views", lang), key="k",
                    palette={"view": "#3182bd"}, lines=["label"],
                    style={"weight": 0.5, "fillOpacity": 0.35},
                    show=False)
    if sees_hotspots:
        _dead_corner_layer(m, _within(cameras.dead_corners, area), lang)
        _patrol_layer(m, service, audit, area, lang)
    sites = _within(cameras.sites, area)
    if not sites.empty:
        sites = sites.assign(label=[f"#{r} +{g:.0f} {t('bs_gain', lang)}"
                                    for r, g in zip(sites["rank"], sites["gain"], strict=True)])
        labelled_points(sites, name=t("bs_sites", lang), lines=["label"], color="#045a8d",
                        fill="#74a9cf").add_to(m)
    _reach_layers(m, service, audit, area, lang)
    folium.LayerControl(collapsed=False).add_to(m)
    box = bounds(grids.to_crs(4326)) if not grids.empty else None
    if box:
        m.fit_bounds(box)
    m.add_child(Legend(t("bs_status", lang), [(STATUS_COLOURS[s], t(f"bs_{s}", lang))
                                              for s in ("red", "amber", "green")]))
    m.add_child(Panel(_print_form(lang, query or [])))
    root = page_root(m)
    rows = visible
    problem = None if who.grid_ids is not None else _problem(coverage.coverage, lang)
    root.html.add_child(Element(_scorecard_panel(card.plan, rows, problem, lang)))
    if printable:
        root.header.add_child(Element(print_css("gridgis-scorecard")))
    return render(m)


def _within(frame: gpd.GeoDataFrame, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    return frame if area is None or frame.empty else frame[
        frame.to_crs(4326).intersects(area)]


def _status_layer(m: folium.Map, grids: gpd.GeoDataFrame, lang: Lang) -> None:
    described = grids.assign(label=[
        f"{c}: {s}" + (f" · {n} {t('bs_neglected', lang)}" if n is not None and n == n else "")
        for c, s, n in zip(grids["code"], grids["status"], grids["neglected_incidents"],
                           strict=True)])
    add_classed(m, described, name=t("bs_status", lang), key="status",
                palette=STATUS_COLOURS, lines=["label"],
                style={"weight": 0.8, "fillOpacity": 0.45, "color": "#555"})


def _coverage_layer(m: folium.Map, coverage, lang: Lang, area) -> None:
    gaps = coverage.gaps[~coverage.gaps["sliver"]].assign(k="gap")
    overlaps = coverage.overlaps[~coverage.overlaps["sliver"]].assign(k="overlap")
    frame = gpd.GeoDataFrame(
        {"k": [*gaps["k"], *overlaps["k"]],
         "label": [f"{t('bs_gap', lang)} {a:,.0f} m²" for a in gaps["area_m2"]]
         + [f"{t('bs_overlap', lang)} {a:,.0f} m² ({x}/{y})" for a, x, y in
            zip(overlaps["area_m2"], overlaps["grid_a"], overlaps["grid_b"], strict=True)]},
        geometry=[*gaps.geometry.values, *overlaps.geometry.values], crs=coverage.gaps.crs)
    frame = _within(frame, area)
    if frame.empty:
        return
    frame = frame[shapely.get_type_id(frame.geometry.values) != 7]  # no collections
    add_classed(m, frame, name=t("bs_gaps", lang), key="k",
                palette={"gap": "#e7298a", "overlap": "#000000"},
                lines=["label"], style={"weight": 2, "fillOpacity": 0.6})


def _dead_corner_layer(m: folium.Map, dead: gpd.GeoDataFrame, lang: Lang) -> None:
    if dead.empty:
        return
    frame = dead.assign(k="dead", label=[f"#{r} · {n} {t('incidents_count', lang)}"
                                         for r, n in zip(dead["rank"], dead["incidents"],
                                                         strict=True)])
    add_classed(m, frame, name=t("bs_dead", lang), key="k",
                palette={"dead": "#b10026"}, lines=["label"],
                style={"weight": 3, "fillOpacity": 0.5, "color": "#4d0013"})


def _patrol_layer(m: folium.Map, service: BlindSpotService, audit: AuditOptions, area,
                  lang: Lang) -> None:
    report = service.patrol(audit)
    cells = _within(report.cells, area)
    if cells.empty or not report.has_data:
        return
    frame = cells.assign(
        k=np.where(cells["patrolled_recently"], "yes", "no"),
        label=[f"#{r} · {w:.0f} {t('bs_per_week', lang)}" for r, w in
               zip(cells["rank"], cells["minutes_per_week"], strict=True)])
    add_classed(m, frame, name=t("bs_presence", lang), key="k",
                palette={"no": "#d73027", "yes": "#1a9850"}, lines=["label"],
                style={"weight": 1, "fillOpacity": 0.45}, show=False)


def _reach_layers(m: folium.Map, service: BlindSpotService, audit: AuditOptions, area,
                  lang: Lang) -> None:
    report = service.reach(audit)
    streets = _within(report.streets, area)
    for mode, limit in (("car", audit.car_min), ("foot", audit.foot_min)):
        minutes = streets[f"{mode}_min"].to_numpy()
        k = np.where(~np.isfinite(minutes), "unreached",
                     np.where(minutes > limit, "beyond", "within"))
        frame = streets.assign(k=k, label=[
            f"{v:.1f} {t('bs_minutes', lang)}" if np.isfinite(v) else t("bs_unreached", lang)
            for v in minutes])
        classed_lines(frame, name=t(f"bs_{mode}", lang), key="k", palette=REACH_COLOURS,
                      lines=["label"], show=mode == "car").add_to(m)
    if not report.posts.empty:
        labelled_points(report.posts.assign(label=report.posts["name"].fillna("")),
                        name=t("bs_posts", lang), lines=["label"], color="#08306b",
                        fill="#fee391", radius=9).add_to(m)


def _print_form(lang: Lang, query: list[tuple[str, str]]) -> str:
    kept = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                   for k, v in query if k != "print")
    return (f'<form method="get">{kept}<button type="submit" name="print" value="a4">'
            f'{escape(t("print", lang))}</button></form>')


def _scorecard_panel(plan: str, rows, problem: str | None, lang: Lang) -> str:
    head = "".join(f"<th>{escape(x)}</th>" for x in (
        t("code", lang), t("bs_status", lang), t("bs_neglected", lang)))
    body = "".join(
        f'<tr><td>{escape(r.code)}</td><td><span class="gridgis-swatch" style="background:'
        f'{STATUS_COLOURS[r.status]}"></span>{escape(_status_label(r.status, lang))}'
        f'</td><td>{_count(r.neglected_incidents)}</td></tr>'
        for r in rows.head(SHOWN_ROWS).itertuples())
    warning = (f'<div class="gridgis-problem">{escape(t("bs_problem", lang))}: '
               f'{escape(problem)}</div>' if problem else "")
    return (f'<div class="gridgis-scorecard"><b>{escape(t("bs_scorecard", lang))}'
            f'</b><div>{escape(t("bs_plan", lang))}: {escape(plan)}</div>{warning}'
            f'<table><tr>{head}</tr>{body}</table></div>' + PANEL_CSS)


def _problem(coverage, lang: Lang) -> str | None:
    """Gaps and overlaps in the page's language (None: none)."""
    gaps = coverage.gaps[~coverage.gaps["sliver"]]
    overlaps = coverage.overlaps[~coverage.overlaps["sliver"]]
    parts = [f"{len(frame)} × {t(key, lang)} {frame['area_m2'].sum():,.0f} m²"
             for frame, key in ((gaps, "bs_gap"), (overlaps, "bs_overlap")) if len(frame)]
    return "; ".join(parts) or None


def _count(value) -> str:
    return "" if value is None or value != value else str(int(value))


def _status_label(status: str, lang: Lang) -> str:
    return t(f"bs_{status}", lang) if status in STATUS_COLOURS and status != "none" else ""


PANEL_CSS = """<style>.gridgis-scorecard { position: absolute; z-index: 1001; top: 50px;
  left: 54px; max-height: 45%; max-width: 340px; overflow: auto;
  background: rgba(255,255,255,.95); padding: 6px 8px; font: 12px/1.4 sans-serif;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.gridgis-scorecard table { border-collapse: collapse; }
.gridgis-scorecard td, .gridgis-scorecard th { padding: 1px 5px;
  border-bottom: 1px solid #eee; text-align: left; }
.gridgis-problem { color: #b10026; font-weight: bold; }
.gridgis-swatch { display: inline-block; width: 12px; height: 10px; margin-right: 4px;
  border: 1px solid #555; vertical-align: middle; }</style>"""

