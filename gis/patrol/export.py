"""A stored plan as GeoJSON (RFC 7946, WGS84): each unit's route as a line, each stop
as a numbered point, and the post."""

from __future__ import annotations

from typing import Any

import shapely


def plan_geojson(plan: dict[str, Any], lines: dict[int, shapely.Geometry | None]
                 ) -> dict[str, Any]:
    """``plan`` as the service returns it (with ``result``); ``lines`` the units'
    routes in WGS84 by unit number."""
    result = plan["result"] or {}
    features: list[dict[str, Any]] = []
    for unit in result.get("units", []):
        line = lines.get(unit["unit"])
        features.append({
            "type": "Feature", "id": f"unit-{unit['unit'] + 1}",
            "geometry": None if line is None else shapely.geometry.mapping(line),
            "properties": {"kind": "route", "unit": unit["unit"] + 1, "name": unit["name"],
                           "metres": unit["metres"], "minutes": unit["minutes"],
                           "risk": unit["risk"], "risk_share": unit["risk_share"],
                           "stops": len(unit["stops"]), "back": unit["back"]}})
        for stop in unit["stops"]:
            features.append({
                "type": "Feature", "id": f"unit-{unit['unit'] + 1}-stop-{stop['order']}",
                "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                "properties": {"kind": "stop", "unit": unit["unit"] + 1,
                               "order": stop["order"], "name": stop["name"],
                               "visit": stop["visit"], "arrive": stop["arrive"],
                               "depart": stop["depart"], "risk": stop["risk"],
                               "mandatory": stop["mandatory"], "cell": stop["cell"]}})
    if "post" in result:
        post = result["post"]
        features.append({"type": "Feature", "id": "post",
                         "geometry": {"type": "Point", "coordinates": [post["lon"], post["lat"]]},
                         "properties": {"kind": "post", "name": post["name"]}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"plan": plan["id"], "name": plan["name"], "seed": plan["seed"],
                           "shift_start": plan["shift_start"], "shift_end": plan["shift_end"],
                           "mode": plan["mode"], "units": plan["units"]}}
