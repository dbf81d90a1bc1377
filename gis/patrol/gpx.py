"""GPX 1.1 for a unit's route, as handheld GPS units and phone apps (OsmAnd, Locus,
Garmin BaseCamp) open it: the stops as waypoints with their names and planned times,
the same stops as a route (for turn-by-turn apps), and the line along the streets as a
track. Elements follow the order the GPX 1.1 schema requires (metadata, wpt, rte,
trk)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

GPX_NS = "http://www.topografix.com/GPX/1/1"
SCHEMA = "http://www.topografix.com/GPX/1/1/gpx.xsd"


def unit_gpx(plan_name: str, unit: dict[str, Any], line: Sequence[tuple[float, float]],
             post: dict[str, Any], created: datetime | None = None) -> bytes:
    """The GPX document of one unit (``unit`` as stored in a plan's result: name,
    stops with lon, lat, name, arrive, depart, order; ``line`` in lon/lat)."""
    return plan_gpx(f"{plan_name} · {unit['name']}", [unit], {unit["unit"]: line}, post,
                    created)


def plan_gpx(name: str, units: list[dict[str, Any]],
             lines: dict[int, Sequence[tuple[float, float]]], post: dict[str, Any],
             created: datetime | None = None) -> bytes:
    """One GPX document for ``units``: every stop a waypoint, a route and a track per
    unit (``lines`` in lon/lat by unit number)."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(_q("gpx"), {
        "version": "1.1", "creator": "gridgis",
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation": f"{GPX_NS} {SCHEMA}"})
    metadata = ET.SubElement(root, _q("metadata"))
    _text(metadata, "name", name)
    _text(metadata, "desc", "巡逻路线 / patrol route (gridgis)")
    _text(metadata, "time", _utc(created or datetime.now(UTC)))
    several = len(units) > 1
    for unit in units:
        for stop in unit["stops"]:
            _point(root, "wpt", stop["lon"], stop["lat"], stop["arrive"],
                   _label(stop, unit if several else None),
                   f"到达 arrive {_clock(stop['arrive'])} · 离开 leave "
                   f"{_clock(stop['depart'])}",
                   symbol="Flag, Red" if stop.get("mandatory") else "Flag, Blue")
    for unit in units:
        route = ET.SubElement(root, _q("rte"))
        _text(route, "name", unit["name"])
        _point(route, "rtept", post["lon"], post["lat"], None, f"出发 start: {post['name']}")
        for stop in unit["stops"]:
            _point(route, "rtept", stop["lon"], stop["lat"], stop["arrive"], _label(stop))
        _point(route, "rtept", post["lon"], post["lat"], None, f"返回 back: {post['name']}")
    for unit in units:
        track = ET.SubElement(root, _q("trk"))
        _text(track, "name", unit["name"])
        segment = ET.SubElement(track, _q("trkseg"))
        for lon, lat in _points(lines.get(unit["unit"]) or []):
            ET.SubElement(segment, _q("trkpt"), {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _label(stop: dict[str, Any], unit: dict[str, Any] | None = None) -> str:
    prefix = f"U{unit['unit'] + 1}-" if unit is not None else ""
    return f"{prefix}{stop['order']}. {stop['name']}"


def _point(parent: ET.Element, tag: str, lon: float, lat: float, when: str | None,
           name: str, desc: str | None = None, symbol: str | None = None) -> None:
    point = ET.SubElement(parent, _q(tag), {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
    if when is not None:
        _text(point, "time", _utc(datetime.fromisoformat(when)))
    _text(point, "name", name)
    if desc is not None:
        _text(point, "desc", desc)
    if symbol is not None:
        _text(point, "sym", symbol)


def _points(line: Iterable) -> Iterable[tuple[float, float]]:
    for lon, lat, *_ in line:
        yield float(lon), float(lat)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, _q(tag)).text = value


def _q(tag: str) -> str:
    return f"{{{GPX_NS}}}{tag}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clock(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M")
