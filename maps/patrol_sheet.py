"""The printable route sheet of one patrol unit: one A4 page with the route drawn to
scale (no tiles: it prints anywhere and works offline), the numbered stops, and the
stop list with planned times, in Chinese and English side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

WIDTH, HEIGHT, MARGIN = 680.0, 460.0, 24.0  # the map, in SVG units (A4 width ≈ 180 mm)
MODE_LABELS = {"foot": "步行 on foot", "bike": "自行车 by bicycle", "car": "车巡 by car"}


def route_sheet(plan: dict[str, Any], unit: dict[str, Any],
                line: Sequence[tuple[float, float]],
                streets: Sequence[Sequence[tuple[float, float]]] = ()) -> str:
    """The sheet's HTML (``plan`` as :meth:`PatrolService.plan` returns it; ``streets``
    the street lines around the route, in lon/lat, drawn beneath it)."""
    result = plan["result"]
    post = result["post"]
    stops = unit["stops"]
    rows = "\n".join(
        f"<tr><td>{s['order']}</td><td>{escape(s['name'])}"
        f"{' <b>（必到 must）</b>' if s.get('mandatory') else ''}"
        f"{' （复巡 revisit）' if s['visit'] > 1 else ''}</td>"
        f"<td>{_clock(s['arrive'])}</td><td>{_clock(s['depart'])}</td>"
        f"<td>{round(s['depart_min'] - s['arrive_min'])}</td><td>{s['risk']:.3g}</td></tr>"
        for s in stops)
    rest = (f"<p>休息 Break: {_clock(unit['break_start'])}</p>"
            if unit.get("break_start") else "")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(plan['name'])} · {escape(unit['name'])}</title>
<style>
@page {{ size: A4 portrait; margin: 12mm; }}
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; font-size: 10pt;
       margin: 0; color: #111; }}
h1 {{ font-size: 14pt; margin: 0 0 4pt; }}
.meta {{ display: flex; flex-wrap: wrap; gap: 4pt 16pt; margin-bottom: 6pt; }}
svg {{ width: 100%; height: auto; border: 1px solid #999; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 6pt; }}
th, td {{ border: 1px solid #999; padding: 2pt 4pt; text-align: left; }}
th {{ background: #eee; }}
</style></head><body>
<h1>巡逻路线单 Patrol route sheet · {escape(unit['name'])}</h1>
<div class="meta">
<span>方案 Plan: {escape(plan['name'])} (#{plan['id']})</span>
<span>班次 Shift: {_when(result['shift']['start'])} – {_clock(result['shift']['end'])}</span>
<span>出发 Post: {escape(post['name'])}</span>
<span>方式 Mode: {MODE_LABELS.get(plan['mode'], plan['mode'])}</span>
<span>返回 Back: {_clock(unit['back'])}</span>
<span>里程 Distance: {unit['metres'] / 1000:.1f} km</span>
<span>风险覆盖 Risk share: {unit['risk_share'] * 100:.0f} %</span>
<span>随机种子 Seed: {plan['seed']}</span>
</div>
{_svg(line, stops, post, streets)}
{rest}
<table><thead><tr><th>序号 No.</th><th>目标 Target</th><th>到达 Arrive</th>
<th>离开 Leave</th><th>停留 Dwell (min)</th><th>风险 Risk</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def _svg(line: Sequence[tuple[float, float]], stops: list[dict[str, Any]],
         post: dict[str, Any], streets: Sequence[Sequence[tuple[float, float]]]) -> str:
    points = [(float(x), float(y)) for x, y, *_ in line] + \
        [(s["lon"], s["lat"]) for s in stops] + [(post["lon"], post["lat"])]
    project = _projection(points)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (project(p) for p in line))
    base = "".join(
        '<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in
                                        (project(p) for p in street))
        + '" fill="none" stroke="#c8c8c8" stroke-width="1.5"/>' for street in streets)
    marks = []
    px, py = project((post["lon"], post["lat"]))
    marks.append(f'<rect x="{px - 7:.1f}" y="{py - 7:.1f}" width="14" height="14" '
                 f'fill="#111"><title>{escape(post["name"])}</title></rect>')
    for s in stops:
        x, y = project((s["lon"], s["lat"]))
        marks.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#fff" '
                     f'stroke="#c0392b" stroke-width="2"/><text x="{x:.1f}" y="{y + 4:.1f}" '
                     f'font-size="11" text-anchor="middle">{s["order"]}</text>')
    return (f'<svg viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" xmlns="http://www.w3.org/2000/svg" '
            f'role="img" aria-label="route map">{base}'
            f'<polyline points="{path}" fill="none" stroke="#2c7fb8" stroke-width="3" '
            f'stroke-linejoin="round"/>{"".join(marks)}{_scale_bar(project, points)}</svg>')


def _projection(points: list[tuple[float, float]]):
    """Longitude and latitude to SVG units: equirectangular at the mean latitude,
    scaled to fit with the same scale on both axes."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    shrink = math.cos(math.radians(sum(ys) / len(ys)))
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    span_x = max((east - west) * shrink, 1e-6)
    span_y = max(north - south, 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)

    def project(p) -> tuple[float, float]:
        return (MARGIN + (p[0] - west) * shrink * scale,
                HEIGHT - MARGIN - (p[1] - south) * scale)
    project.scale = scale  # type: ignore[attr-defined]  # SVG units per degree
    return project


def _scale_bar(project, points) -> str:
    metres_per_degree = 111_320.0
    per_metre = project.scale / metres_per_degree
    target = (WIDTH / 4) / per_metre
    if target < 1.0:  # nothing to scale: a unit that stays at its post
        return ""
    nice = 10 ** math.floor(math.log10(max(target, 1.0)))
    for step in (5, 2, 1):
        if step * nice <= target:
            nice *= step
            break
    length = nice * per_metre
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    y = HEIGHT - 8
    return (f'<line x1="{MARGIN}" y1="{y}" x2="{MARGIN + length:.1f}" y2="{y}" '
            f'stroke="#111" stroke-width="3"/><text x="{MARGIN + length + 6:.1f}" '
            f'y="{y + 4}" font-size="11">{label}</text>')


def _clock(iso: str | None) -> str:
    return "" if not iso else datetime.fromisoformat(iso).strftime("%H:%M")


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
