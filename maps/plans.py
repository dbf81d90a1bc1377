"""The plan editing map: a plan's grids coloured by households with their live figures,
the draft's balance, and drawing tools (Leaflet-Geoman, served locally) to split, merge,
move a boundary, reassign an area and undo. Each action posts to ``/plans/{id}/edits``
and redraws the grids it changed; a refused edit shows its reason and, on the map, the
offending geometry; the draft's coverage gaps and overlaps are drawn too. Offline and
bilingual; a published or retired plan, or a user who may not edit, gets the map
without the tools."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin

from gridgis.gis.access.principal import Principal

from .base import PageOptions, add_outlines, base_map, fit, page_root
from .controls import Panel
from .data import BaseLayers
from .i18n import Lang, t
from .offline import LOCAL, render

LABEL_KEYS = ("pl_split", "pl_merge", "pl_move", "pl_save", "pl_cancel", "pl_reassign",
              "pl_undo", "pl_pick_one", "pl_pick_two", "pl_draw_line", "pl_draw_area",
              "pl_drag", "pl_refused", "pl_done", "pl_gap", "pl_overlap", "households",
              "people", "pl_special", "places", "incidents", "pl_area", "pl_compact",
              "pl_contiguous", "yes", "no", "code", "pl_added", "pl_changed", "pl_removed",
              "pl_unchanged", "pl_moved", "pl_households_moved")


class Geoman(JSCSSMixin, MacroElement):
    """Loads Leaflet-Geoman; the page script drives it (no toolbar of its own)."""

    default_js = [("leaflet_geoman_js", LOCAL["leaflet_geoman_js"])]
    default_css = [("leaflet_geoman_css", LOCAL["leaflet_geoman_css"])]

    def __init__(self) -> None:
        super().__init__()
        self._name = "Geoman"


def plan_page(base: BaseLayers, options: PageOptions, who: Principal, plan: dict[str, Any],
              grids: dict[str, Any], balance: dict[str, Any], editable: bool,
              plans: list[dict[str, Any]] | None = None) -> str:
    """``plan``: id, name, state; ``grids``: a FeatureCollection (WGS84) whose
    properties are the live figures; ``editable``: show the tools."""
    lang = options.lang
    m = base_map(base, options, f"{t('plans_map', lang)}: {plan['name']}")
    drawn = add_outlines(m, base, lang)
    if editable:
        m.add_child(Geoman())
    published = next((p for p in plans or [] if p["state"] == "published"), None)
    compare = published if published is not None and published["id"] != plan["id"] \
        else None
    m.add_child(Panel(_panel(plan, balance, lang, editable) + _compare(compare, lang)
                      + _others(plan, plans or [], lang)))
    root = page_root(m)
    config = {"map": m.get_name(), "plan": plan["id"], "name": plan["name"],
              "editable": editable, "csrf": who.csrf or "", "grids": grids,
              "published": compare["id"] if compare else None,
              "labels": {k: t(k, lang) for k in LABEL_KEYS}}
    # JSON inside <script>: "</" must not end the element early
    payload = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    root.html.add_child(Element(f"<script>var GRIDGIS_PLAN = {payload};</script>"
                                + SCRIPT))
    if grids["features"]:
        import geopandas as gpd

        drawn.append(gpd.GeoDataFrame.from_features(grids["features"], crs=4326))
    fit(m, drawn)
    return render(m)


def _panel(plan: dict[str, Any], balance: dict[str, Any], lang: Lang, editable: bool) -> str:
    state = escape(t(f"pl_state_{plan['state']}", lang))
    tools = ""
    if editable:
        buttons = [("split", "pl_split"), ("merge", "pl_merge"), ("move", "pl_move"),
                   ("reassign", "pl_reassign"), ("undo", "pl_undo")]
        tools = ("<div class='pl-tools'>" + "".join(
            f"<button type='button' data-action='{a}'>{escape(t(k, lang))}</button> "
            for a, k in buttons)
            + f"<span id='pl-move-done' hidden><button type='button' data-action='save'>"
              f"{escape(t('pl_save', lang))}</button> <button type='button' "
              f"data-action='cancel'>{escape(t('pl_cancel', lang))}</button></span></div>")
    else:
        tools = f"<p>{escape(t('pl_readonly', lang))}</p>"
    return (f"<b>{escape(plan['name'])}</b> ({state})"
            f"<div id='pl-balance'>{_balance_html(balance, lang)}</div>{tools}"
            "<div id='pl-selected'></div><div id='pl-status' role='status'></div>")


def _compare(published: dict[str, Any] | None, lang: Lang) -> str:
    if published is None:
        return ""
    return (f"<p><button type='button' id='pl-compare'>{escape(t('pl_compare', lang))}: "
            f"{escape(published['name'])}</button></p><div id='pl-diff'></div>")


def _others(plan: dict[str, Any], plans: list[dict[str, Any]], lang: Lang) -> str:
    links = [f"<a href='/maps/plans/{int(p['id'])}?lang={lang}'>{escape(p['name'])}</a> "
             f"({escape(t('pl_state_' + p['state'], lang))})"
             for p in plans if p["id"] != plan["id"]]
    if not links:
        return ""
    return (f"<details><summary>{escape(t('pl_other_plans', lang))}</summary>"
            + "<br>".join(links) + "</details>")


def _balance_html(balance: dict[str, Any], lang: Lang) -> str:
    def cell(value: Any) -> str:
        return "–" if value is None else escape(f"{value:g}" if isinstance(value, float)
                                                else str(value))
    rows = [("pl_grids", balance["grids"]), ("households", balance["households"]),
            ("pl_per_grid", f"{cell(balance['min'])} – {cell(balance['max'])}"),
            ("pl_cv", balance["cv"]), ("pl_workers", balance["workers"]),
            ("pl_per_worker", f"{cell(balance['worker_min'])} – "
                              f"{cell(balance['worker_max'])}"),
            ("pl_worker_cv", balance["worker_cv"]),
            ("pl_unstaffed", balance["grids_without_worker"]),
            ("pl_not_contiguous", balance["grids_not_contiguous"])]
    return "<table class='pl-table'>" + "".join(
        f"<tr><th>{escape(t(k, lang))}</th><td data-key='{k}'>"
        f"{v if isinstance(v, str) else cell(v)}</td></tr>" for k, v in rows) + "</table>"


SCRIPT = """<style>
.pl-table { border-collapse: collapse; margin: 4px 0; } .pl-table th, .pl-table td {
  padding: 1px 6px; border-bottom: 1px solid #ddd; text-align: left; font-weight: normal; }
.pl-tools button { margin: 2px 1px; } .pl-refused { color: #b00; font-weight: bold; }
.gridgis-panel { max-width: 420px; max-height: 80vh; overflow: auto; top: 10px;
  right: 10px; bottom: auto !important; left: auto !important; }
</style><script>
document.addEventListener("DOMContentLoaded", function () {
  var cfg = GRIDGIS_PLAN, L_ = cfg.labels, map = window[cfg.map];
  var status = document.getElementById("pl-status");
  var selectedBox = document.getElementById("pl-selected");
  var selected = [], editing = null, pending = null;
  var layers = {};
  var grids = L.geoJSON(null, {style: style, onEachFeature: bind}).addTo(map);
  var problems = L.geoJSON(null, {style: {color: "#d00", weight: 3, dashArray: "6 4",
                                          fillColor: "#f00", fillOpacity: 0.35}}).addTo(map);
  function text(s) { var d = document.createElement("span"); d.textContent = s;
                     return d.innerHTML; }
  var diffStatus = null;  // code -> added / changed / unchanged, once compared
  var DIFF_FILL = {added: "#31a354", changed: "#fd8d3c", unchanged: "#c6dbef"};
  function style(f) {
    var on = selected.indexOf(f.properties.code) >= 0;
    var fill = f.properties.contiguous ? "#9ecae1" : "#fb6a4a";
    var status = diffStatus && diffStatus[f.properties.code];
    if (status) fill = DIFF_FILL[status];
    return {color: on ? "#ff7f00" : "#3366cc", weight: on ? 4 : 1.5,
            fillColor: fill, fillOpacity: 0.45};
  }
  function compare(attempt) {
    fetch("/plans/diff?a=" + cfg.published + "&b=" + cfg.plan, {credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (j) {
        return [r.status, j, r.headers.get("Retry-After")]; }); })
      .then(function (res) {
        var box = document.getElementById("pl-diff");
        // a city's diff takes longer than the service waits: it answers 503 while the
        // diff computes, and the diff is ready (cached) when asked again
        if (res[0] === 503 && res[2] && attempt < 20) {
          box.textContent = text(L_.pl_retrying) + " " + res[2];
          setTimeout(function () { compare(attempt + 1); }, 1000 * Number(res[2]));
          return;
        }
        if (res[0] !== 200) { box.textContent = res[1].detail || res[0]; return; }
        diffStatus = {};
        res[1].grids.forEach(function (g) { diffStatus[g.code] = g.status; });
        var s = res[1].summary, removed = res[1].grids.filter(function (g) {
          return g.status === "removed"; }).map(function (g) { return g.code; });
        box.innerHTML = ["added", "changed", "unchanged"].map(function (k) {
            return "<span style='background:" + DIFF_FILL[k] + "'>&nbsp;&nbsp;</span> "
                   + text(L_["pl_" + k]) + " " + s[k]; }).join(" · ")
          + "<br>" + text(L_.pl_removed) + " " + s.removed
          + (removed.length ? ": " + text(removed.slice(0, 20).join(", ")) : "")
          + "<br>" + text(L_.pl_moved) + " " + (s.people_moved == null ? "–" : s.people_moved)
          + " · " + text(L_.pl_households_moved) + " " + s.households_moved;
        grids.setStyle(style);
      }).catch(function (e) { say(String(e), true); });
  }
  if (cfg.published) {
    document.getElementById("pl-compare").addEventListener("click", function () {
      compare(0); });
  }
  function bind(f, layer) {
    layers[f.properties.code] = layer;
    layer.bindTooltip(text(f.properties.code) + ": " + f.properties.households + " "
                      + text(L_.households));
    layer.on("click", function () { toggle(f.properties.code); });
  }
  function add(features) { features.forEach(function (f) { grids.addData(f); }); }
  function drop(codes) {
    codes.forEach(function (c) { if (layers[c]) { grids.removeLayer(layers[c]);
                                                  delete layers[c]; } });
  }
  function toggle(code) {
    if (editing || pending) return;
    var i = selected.indexOf(code);
    if (i >= 0) selected.splice(i, 1); else selected.push(code);
    grids.setStyle(style); show();
  }
  function show() {
    selectedBox.innerHTML = selected.map(function (c) {
      var p = layers[c] && layers[c].feature.properties; if (!p) return "";
      return "<p><b>" + text(c) + "</b> " + [
        [L_.households, p.households], [L_.people, p.people == null ? "–" : p.people],
        [L_.pl_special, p.special_groups == null ? "–" : p.special_groups],
        [L_.places, p.places], [L_.incidents, p.incidents],
        [L_.pl_area, Math.round(p.area_m2).toLocaleString() + " m²"],
        [L_.pl_compact, p.polsby_popper == null ? "–" : p.polsby_popper.toFixed(2)],
        [L_.pl_contiguous, p.contiguous ? L_.yes : L_.no]
      ].map(function (kv) { return text(kv[0]) + " <span data-figure>" + text(String(kv[1]))
                                   + "</span>"; }).join(" · ") + "</p>";
    }).join("");
  }
  function say(message, bad) {
    status.innerHTML = "<span class='" + (bad ? "pl-refused" : "") + "'>" + text(message)
                       + "</span>";
  }
  function balance(b) {
    var fmt = function (v) { return v == null ? "–" : String(v); };
    var values = {pl_grids: b.grids, households: b.households,
                  pl_per_grid: fmt(b.min) + " – " + fmt(b.max), pl_cv: b.cv,
                  pl_workers: b.workers, pl_per_worker: fmt(b.worker_min) + " – "
                  + fmt(b.worker_max), pl_worker_cv: b.worker_cv,
                  pl_unstaffed: b.grids_without_worker,
                  pl_not_contiguous: b.grids_not_contiguous};
    Object.keys(values).forEach(function (k) {
      var cell = document.querySelector("#pl-balance td[data-key='" + k + "']");
      if (cell) cell.textContent = fmt(values[k]);
    });
  }
  function post(path, body) {
    say("…");
    return fetch("/plans/" + cfg.plan + path, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": cfg.csrf},
      body: body ? JSON.stringify(body) : undefined})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        problems.clearLayers();
        if (res[0] !== 200) {
          say(L_.pl_refused + ": " + (res[1].detail || res[1].title || res[0]), true);
          if (res[1].geometry) problems.addData(res[1].geometry);
          return;
        }
        var out = res[1];
        drop(out.edit.changed.concat(out.edit.removed));
        add(out.grids.features);
        selected = out.edit.changed.filter(function (c) { return layers[c]; });
        grids.setStyle(style); show(); balance(out.balance);
        say(L_.pl_done + ": " + out.edit.summary, false);
        coverage();
        if (diffStatus) compare(0);
      }).catch(function (e) { say(String(e), true); });
  }
  function drawThen(shape, hint, done) {
    say(hint);
    map.doubleClickZoom.disable();  // a double click finishes the drawing instead
    map.pm.enableDraw(shape, {snappable: true, snapDistance: 15, finishOn: "dblclick"});
    pending = function (geometry) { done(geometry); };
  }
  map.on("pm:drawend", function () {  // finished or cancelled (Esc)
    setTimeout(function () {
      if (pending) { pending = null; say(""); }
      map.doubleClickZoom.enable();
    }, 0);
  });
  map.on("pm:create", function (e) {
    var geometry = e.layer.toGeoJSON().geometry; map.removeLayer(e.layer);
    setTimeout(function () { map.doubleClickZoom.enable(); }, 0);
    if (pending) { var next = pending; pending = null; next(geometry); }
  });
  function coverage() {
    fetch("/blindspots/coverage?plan=" + encodeURIComponent(cfg.name),
          {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) return;
        fc.features.filter(function (f) { return !f.properties.sliver; })
          .forEach(function (f) { problems.addData(f); });
      }).catch(function () {});
  }
  var actions = {
    split: function () {
      if (selected.length !== 1) return say(L_.pl_pick_one, true);
      drawThen("Line", L_.pl_draw_line, function (g) {
        post("/edits", {op: "split", grid: selected[0], geometry: g}); });
    },
    merge: function () {
      if (selected.length < 2) return say(L_.pl_pick_two, true);
      post("/edits", {op: "merge", grids: selected.slice()});
    },
    reassign: function () {
      if (selected.length !== 1) return say(L_.pl_pick_one, true);
      drawThen("Polygon", L_.pl_draw_area, function (g) {
        post("/edits", {op: "reassign", grid: selected[0], geometry: g}); });
    },
    move: function () {
      if (selected.length !== 1) return say(L_.pl_pick_one, true);
      editing = layers[selected[0]];
      editing.pm.enable({snappable: true, snapDistance: 15, allowSelfIntersection: false});
      document.getElementById("pl-move-done").hidden = false; say(L_.pl_drag);
    },
    save: function () {
      if (!editing) return;
      var code = editing.feature.properties.code, g = editing.toGeoJSON().geometry;
      editing.pm.disable(); editing = null;
      document.getElementById("pl-move-done").hidden = true;
      post("/edits", {op: "redraw", grid: code, geometry: g});
    },
    cancel: function () {
      if (!editing) return;
      var feature = editing.feature; editing.pm.disable(); editing = null;
      document.getElementById("pl-move-done").hidden = true;
      drop([feature.properties.code]); add([feature]); grids.setStyle(style); say("");
    },
    undo: function () { post("/undo"); }
  };
  document.querySelectorAll(".pl-tools button").forEach(function (b) {
    b.addEventListener("click", function () { actions[b.dataset.action](); });
  });
  add(cfg.grids.features);
  if (cfg.editable) coverage();
  window.gridgisPlan = {select: toggle, actions: actions, layers: layers};
});
</script>"""
