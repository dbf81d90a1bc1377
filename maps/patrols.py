"""The patrol map: a plan's routes coloured by unit with numbered stops over the
forecast risk it was planned on, the post, the comparison with the naive plan and the
longer solve, the files for the units, and a form to plan a shift. Offline and
bilingual; the form posts to ``/patrols/plans`` from the page."""

from __future__ import annotations

import json
from html import escape
from typing import Any

import folium
import geopandas as gpd
import shapely
from branca.element import Element

from gridgis.gis.access.principal import Principal
from gridgis.layers.lines import classed_lines

from .base import PageOptions, add_classed, add_outlines, base_map, fit, page_root
from .controls import Panel
from .data import BaseLayers
from .i18n import Lang, t
from .offline import render

UNIT_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                "#f781bf", "#17becf", "#bcbd22", "#525252"]
RISK_COLOURS = {"1": "#fee5d9", "2": "#fcae91", "3": "#fb6a4a", "4": "#cb181d"}


def unit_colour(unit: int) -> str:
    return UNIT_COLOURS[unit % len(UNIT_COLOURS)]


def patrols_page(base: BaseLayers, options: PageOptions, who: Principal,
                 plan: dict[str, Any] | None, routes: gpd.GeoDataFrame | None,
                 risk: gpd.GeoDataFrame | None, plans: list[dict[str, Any]],
                 tracks: gpd.GeoDataFrame | None = None,
                 dosage: dict[str, Any] | None = None) -> str:
    """``plan`` (with its result) and ``routes`` (WGS84) as the service returns them;
    ``risk`` the forecast cells beneath (WGS84, with ``risk``), or None when the user
    may not see hot spots; ``tracks`` the GPS fixes of the plan's shift (WGS84) and
    ``dosage`` the presence at its targets, when there are any."""
    lang = options.lang
    m = base_map(base, options, t("patrols_map", lang))
    drawn = add_outlines(m, base, lang)
    if risk is not None and not risk.empty:
        ranked = risk.assign(k=_quartile(risk["risk"]),
                             label=risk["risk"].map(lambda v: f"{v:.3g}"))
        add_classed(m, ranked, name=t("pt_risk", lang), key="k", palette=RISK_COLOURS,
                    lines=["label"], style={"weight": 0.3, "fillOpacity": 0.55,
                                            "color": "#999"})
    if plan is not None and plan["status"] == "ready" and plan["result"] \
            and routes is not None and not routes.empty:
        frame = routes.assign(k=routes["unit"].astype(int).astype(str),
                              label=routes["name"])
        frame = frame[frame.geometry.notna()]
        palette = {str(u): unit_colour(int(u)) for u in routes["unit"]}
        classed_lines(frame, name=t("pt_routes", lang), key="k", palette=palette,
                      lines=["label"], weight=4).add_to(m)
        drawn.insert(0, frame)
        _stops(m, plan["result"], lang)
        if tracks is not None and not tracks.empty:
            _tracks(m, tracks, plan["result"], lang)
    folium.LayerControl(collapsed=False).add_to(m)
    root = page_root(m)
    root.html.add_child(Element(_form_script(who)))
    if plan is not None and plan["status"] == "solving":  # look again until it is done
        root.header.add_child(Element('<meta http-equiv="refresh" content="5">'))
    m.add_child(Panel(_panel(plan, plans, lang, who, dosage)))
    fit(m, drawn)
    return render(m)


def _quartile(values) -> list[str]:
    ranks = values.rank(pct=True)
    return [str(min(4, int(r * 4) + 1)) for r in ranks]


def _stops(m: folium.Map, result: dict[str, Any], lang: Lang) -> None:
    group = folium.FeatureGroup(name=t("pt_stops", lang))
    for unit in result["units"]:
        colour = unit_colour(unit["unit"])
        for stop in unit["stops"]:
            tip = (f"{escape(unit['name'])} · {stop['order']}. {escape(stop['name'])}<br>"
                   f"{t('pt_arrive', lang)} {stop['arrive'][11:16]} – "
                   f"{t('pt_leave', lang)} {stop['depart'][11:16]}")
            html = (f'<div class="pt-stop" style="background:{colour}">{stop["order"]}</div>')
            folium.Marker([stop["lat"], stop["lon"]], tooltip=tip,
                          icon=folium.DivIcon(html=html, icon_size=(22, 22),
                                              icon_anchor=(11, 11))).add_to(group)
    post = result["post"]
    folium.Marker([post["lat"], post["lon"]], tooltip=escape(post["name"]),
                  icon=folium.DivIcon(html='<div class="pt-post">★</div>',
                                      icon_size=(24, 24), icon_anchor=(12, 12))
                  ).add_to(group)
    group.add_to(m)


def _tracks(m: folium.Map, fixes: gpd.GeoDataFrame, result: dict[str, Any],
            lang: Lang) -> None:
    """Each unit's fixes joined in time order, dashed, in the colour of the plan's unit
    of the same name (grey for units the plan does not name)."""
    colours = {u["name"]: unit_colour(u["unit"]) for u in result["units"]}
    lines = []
    for unit, group in fixes.sort_values("recorded_at").groupby("unit"):
        coords = shapely.get_coordinates(group.geometry.values)
        if len(coords) >= 2:
            lines.append({"unit": str(unit), "label": f"{unit} ({len(coords)})",
                          "geometry": shapely.LineString(coords)})
    if not lines:
        return
    frame = gpd.GeoDataFrame(lines, geometry="geometry", crs=4326)
    palette = {u: colours.get(u, "#555555") for u in frame["unit"]}
    classed_lines(frame, name=t("pt_tracks", lang), key="unit", palette=palette,
                  lines=["label"], weight=2, dash="4 4").add_to(m)


def _panel(plan: dict[str, Any] | None, plans: list[dict[str, Any]], lang: Lang,
           who: Principal, dosage: dict[str, Any] | None = None) -> str:
    parts = [f"<b>{escape(t('patrols_map', lang))}</b>"]
    if plan is None:
        parts.append(f"<p>{escape(t('pt_none', lang))}</p>")
    elif plan["status"] != "ready":
        parts.append(f"<p>#{plan['id']} {escape(plan['name'])}: {escape(plan['status'])} "
                     f"{escape(plan.get('failure') or '')}</p>")
    else:
        parts.append(_summary(plan, lang))
        if dosage is not None and dosage["fixes"]:
            parts.append(_feedback(dosage, lang))
    if plans:
        links = "".join(f'<li><a href="/maps/patrols?plan={p["id"]}&lang={lang}">#{p["id"]} '
                        f'{escape(p["name"])}</a> ({escape(p["status"])})</li>'
                        for p in plans[:8])
        parts.append(f"<details><summary>{escape(t('pt_plans', lang))}</summary>"
                     f"<ul class='pt-list'>{links}</ul></details>")
    if who.may("write", "patrols"):
        parts.append(_form(lang))
    return "".join(parts)


def _summary(plan: dict[str, Any], lang: Lang) -> str:
    result = plan["result"]
    ours, naive = result["totals"], result["comparison"]["naive"]
    longer = result["comparison"]["longer"]
    rows = [f"<tr><td>{escape(t('pt_ours', lang))}</td><td>{ours['value']:.3g}</td>"
            f"<td>{ours['risk_share']:.0%}</td></tr>",
            f"<tr><td>{escape(t('pt_naive', lang))}</td><td>{naive['value']:.3g}</td>"
            f"<td>{naive['risk_share']:.0%}</td></tr>"]
    if longer:
        rows.append(f"<tr><td>{escape(t('pt_longer', lang))} ({longer['seconds']:g} s)</td>"
                    f"<td>{longer['value']:.3g}</td><td>{longer['risk_share']:.0%}</td></tr>")
    units = "".join(
        f"<tr><td><span class='pt-swatch' style='background:{unit_colour(u['unit'])}'>"
        f"</span>{escape(u['name'])}</td><td>{len(u['stops'])}</td>"
        f"<td>{u['metres'] / 1000:.1f}</td><td>{u['risk_share']:.0%}</td>"
        f"<td><a href='/patrols/plans/{plan['id']}.gpx?unit={u['unit'] + 1}'>GPX</a> "
        f"<a href='/patrols/plans/{plan['id']}/sheet?unit={u['unit'] + 1}'>"
        f"{escape(t('pt_sheet', lang))}</a></td></tr>"
        for u in result["units"])
    warn = ""
    if result.get("dropped_mandatory"):
        warn = (f"<p class='pt-warn'>{escape(t('pt_missed', lang))}: "
                f"{escape(', '.join(result['dropped_mandatory']))}</p>")
    shift = result.get("shift", {})
    return (f"<p>#{plan['id']} {escape(plan['name'])} · {escape(shift.get('start', '')[:16])}"
            f"–{escape(shift.get('end', '')[11:16])} · {escape(plan['mode'])} · "
            f"{escape(t('pt_seed', lang))} {plan['seed']}</p>{warn}"
            f"<table class='pt-table'><tr><th></th><th>{escape(t('pt_value', lang))}</th>"
            f"<th>{escape(t('pt_share', lang))}</th></tr>{''.join(rows)}</table>"
            f"<table class='pt-table'><tr><th>{escape(t('pt_unit', lang))}</th>"
            f"<th>{escape(t('pt_n_stops', lang))}</th><th>km</th>"
            f"<th>{escape(t('pt_share', lang))}</th><th></th></tr>{units}</table>"
            f"<a href='/patrols/plans/{plan['id']}.geojson'>GeoJSON</a> · "
            f"<a href='/patrols/plans/{plan['id']}.gpx'>GPX</a>")


def _feedback(dosage: dict[str, Any], lang: Lang) -> str:
    missed = [row["name"] for row in dosage["targets"] if row["planned_but_missed"]]
    text = (f"<p><b>{escape(t('pt_feedback', lang))}</b>: "
            f"{dosage['targets_visited']} / {dosage['targets_planned']} "
            f"{escape(t('pt_visited', lang))}; {dosage['present_min']:.0f} / "
            f"{dosage['planned_min']:.0f} min ({dosage['fixes']} GPS)</p>")
    if missed:
        text += (f"<p class='pt-warn'>{escape(t('pt_missed_targets', lang))}: "
                 f"{escape(', '.join(missed))}</p>")
    return text


def _form(lang: Lang) -> str:
    def field(name: str, label: str, value: str, kind: str = "text", extra: str = "") -> str:
        return (f"<label>{escape(t(label, lang))} <input name='{name}' type='{kind}' "
                f"value='{escape(value)}' {extra}></label> ")
    modes = "".join(f"<option value='{m}'>{escape(t('pt_mode_' + m, lang))}</option>"
                    for m in ("foot", "bike", "car"))
    sources = "".join(f"<option value='{v}'>{escape(t('pt_source_' + v, lang))}</option>"
                      for v in ("forecast", "gi", "list"))
    return (f"<form id='pt-form' class='pt-form'><b>{escape(t('pt_new', lang))}</b><br>"
            + field("units", "pt_units", "3", "number", "min='1' max='20'")
            + f"<label>{escape(t('pt_mode', lang))} <select name='mode'>{modes}</select>"
              "</label><br>"
            + field("shift", "pt_shift", "08:00-16:00", "text", "size='11'")
            + field("date", "pt_date", "", "date") + "<br>"
            + field("top", "pt_top", "30", "number", "min='1' max='300'")
            + f"<label>{escape(t('pt_source', lang))} <select name='source'>{sources}"
              "</select></label><br>"
            + field("post", "pt_post", "", "text", "size='14'")
            + field("seed", "pt_seed", "", "number", "min='0'")
            + f"<br><label>{escape(t('pt_extra', lang))}<br><textarea name='targets' "
              "rows='2' cols='40' placeholder='学校 school, 24.94, 60.17, 15:30-16:00, "
              "must'></textarea></label>"
            + f"<br><button type='submit'>{escape(t('pt_plan', lang))}</button> "
              "<span id='pt-status' role='status'></span></form>")


def _form_script(who: Principal) -> str:
    token = json.dumps(who.csrf or "")
    return """<style>
.pt-stop { width: 22px; height: 22px; border-radius: 11px; color: #fff; font: bold 11px/22px
  sans-serif; text-align: center; border: 2px solid #fff; box-shadow: 0 0 2px #000; }
.pt-post { font: bold 20px/24px sans-serif; color: #111; text-align: center; }
.pt-table { border-collapse: collapse; margin: 4px 0; } .pt-table td, .pt-table th {
  padding: 1px 5px; border-bottom: 1px solid #ddd; text-align: left; }
.pt-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.pt-warn { color: #b00; font-weight: bold; } .pt-list { margin: 2px 0; padding-left: 16px; }
.gridgis-panel { max-width: 460px; max-height: 75vh; overflow: auto; }
</style><script>
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("pt-form");
  if (!form) return;
  var status = document.getElementById("pt-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form), body = {};
    ["units", "top", "seed"].forEach(function (k) {
      if (data.get(k)) body[k] = parseInt(data.get(k), 10); });
    ["mode", "shift", "date", "source", "post"].forEach(function (k) {
      if (data.get(k)) body[k] = data.get(k); });
    // one extra target a line: name, lon, lat[, HH:MM-HH:MM][, must]
    body.targets = String(data.get("targets") || "").split("\\n")
      .map(function (line) { return line.split(",").map(function (v) { return v.trim(); }); })
      .filter(function (p) { return p.length >= 3 && p[0]; })
      .map(function (p) {
        var t = {name: p[0], lon: parseFloat(p[1]), lat: parseFloat(p[2])};
        p.slice(3).forEach(function (v) {
          if (/^\\d{1,2}:\\d{2}-\\d{1,2}:\\d{2}$/.test(v)) t.window = v;
          else if (/^(must|mandatory|必到)$/i.test(v)) t.mandatory = true; });
        return t; });
    status.textContent = "…";
    fetch("/patrols/plans", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": """ + token + """},
      body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 201 || res[0] === 202) {
          var lang = new URLSearchParams(location.search).get("lang");
          location.href = "/maps/patrols?plan=" + res[1].id + (lang ? "&lang=" + lang : "");
        } else { status.textContent = res[1].detail || res[1].title || res[0]; }
      }).catch(function (e) { status.textContent = String(e); });
  });
});
</script>"""
