"""The demo's patrol shift: a plan for the last day of the data (three units on foot,
09:00-17:00 local time, the forecast's top 30 cells in the patrol leader's subdistrict)
and synthetic GPS tracks of the units following it, so that the patrol map and its
dosage show something.

The tracks are **synthetic** (data/README.md): each unit walks its planned route on
the planned timetable, a fix every ``FIX_SECONDS`` with Gaussian GPS noise of
``NOISE_M``; three realistic deviations are built in: unit 1 leaves its third stop after
two minutes and waits 150 m away for the rest of the dwell; unit 2 skips a target
nobody else visits (the one farthest from the others), keeping 250 m off its route from
the stop before each of its visits there to the stop after;
the last unit stops recording (goes off duty) 90 minutes before the shift ends.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..db import Database
from ..importing import Mapping, import_file
from ..services.patrol_options import PatrolRequest
from ..services.patrols import PatrolService
from .accounts import demo_scopes

FIX_SECONDS = 30
NOISE_M = 5.0
EARLY_END_MIN = 90.0
SHORT_STAY_MIN = 2.0
AWAY_M = 150.0
SKIP_M = 250.0


def plan_and_track(db: Database, srid: int, day_end: pd.Timestamp, time_zone: str,
                   seed: int) -> tuple[int, int]:
    """Plan the shift of the day before ``day_end`` and import its tracks; returns the
    plan's id and the fixes imported (0 when there is nothing to plan over)."""
    with db.engine.connect() as conn:
        scope = tuple(demo_scopes(conn).get("patrol_leader", []))
    local_day = (day_end.tz_convert(time_zone) - pd.Timedelta(days=1)).normalize()
    start = local_day + pd.Timedelta(hours=9)
    request = PatrolRequest("演示班次 demo shift", start.to_pydatetime(),
                            (start + pd.Timedelta(hours=8)).to_pydatetime(), units=3,
                            mode="foot", top=30, seed=seed, time_limit_s=5.0, restarts=4,
                            compare_s=0.0, scope=scope, timezone=time_zone)
    service = PatrolService(db.engine, srid)
    plan_id = service.create(request, None, user_name="gridgis demo")
    if service.solve_here(plan_id, request) != "ready":
        return plan_id, 0
    plan = service.plan(plan_id, None)
    routes = service.routes(plan_id).to_crs(srid)
    rng = np.random.default_rng(seed)
    fixes = synthetic_tracks(plan, routes, rng)
    if fixes.empty:
        return plan_id, 0
    with tempfile.TemporaryDirectory(prefix="gridgis-demo-tracks-") as tmp:
        path = Path(tmp) / "tracks.csv"
        fixes.to_csv(path, index=False)
        report = import_file(db, "patrol_points", path, mapping=Mapping(crs=f"EPSG:{srid}"),
                             keep_extra=False)
    return plan_id, report.inserted


def synthetic_tracks(plan: dict, routes, rng: np.random.Generator) -> pd.DataFrame:
    """Fixes (unit, shift, recorded_at, x, y, synthetic) of every unit of ``plan``."""
    result = plan["result"]
    start = pd.Timestamp(plan["shift_start"]).tz_convert("UTC")
    lines = dict(zip(routes["unit"].astype(int), routes.geometry, strict=True))
    last_unit = len(result["units"]) - 1
    owners = pd.DataFrame([(s["target"], u["unit"]) for u in result["units"]
                           for s in u["stops"]], columns=["target", "unit"])
    sole = owners.groupby("target")["unit"].nunique().loc[lambda n: n == 1].index
    frames = []
    for unit in result["units"]:
        line = lines.get(unit["unit"])
        if line is None or line.is_empty or not unit["stops"]:
            continue
        times, along = _timetable(unit)
        end_min = unit["minutes"] - (EARLY_END_MIN if unit["unit"] == last_unit else 0.0)
        clock = np.arange(0.0, max(end_min, 0.0), FIX_SECONDS / 60)
        where = np.interp(clock, times, along)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(line, where))
        if unit["unit"] == 0 and len(unit["stops"]) >= 3:
            stop = unit["stops"][2]
            away = (clock > stop["arrive_min"] + SHORT_STAY_MIN) & \
                (clock < stop["depart_min"])
            xy[away] += [AWAY_M, 0.0]
        if unit["unit"] == 1:  # keeps away from one of its places all shift
            everyone = [s for u in result["units"] for s in u["stops"]]
            for before, after in _skipped(unit, set(sole), everyone):
                xy[(clock > before) & (clock < after)] += [0.0, SKIP_M]
        xy += rng.normal(0.0, NOISE_M, xy.shape)
        frames.append(pd.DataFrame({
            "unit": unit["name"], "shift": f"#{plan['id']}",
            "recorded_at": (start + pd.to_timedelta(clock, unit="m"))
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x": xy[:, 0].round(2), "y": xy[:, 1].round(2), "synthetic": True}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _skipped(unit: dict, sole: set, stops_all: list[dict]) -> list[tuple[float, float]]:
    """The times the unit keeps away to skip a target only it visits (of those, the
    farthest from every other target, which other legs are least likely to pass): from
    the stop before each visit there to the stop after it."""
    stops = unit["stops"]
    inner = {s["target"]: s for s in stops[1:-1] if s["target"] in sole}
    if not inner:
        return []
    shrink = np.cos(np.radians(stops[0]["lat"]))

    def room(stop: dict) -> float:
        return min(((o["lon"] - stop["lon"]) * shrink) ** 2 + (o["lat"] - stop["lat"]) ** 2
                   for o in stops_all if o["target"] != stop["target"])
    chosen = max(inner.values(), key=room)["target"]
    return [(stops[i - 1]["depart_min"], stops[i + 1]["arrive_min"])
            for i in range(1, len(stops) - 1) if stops[i]["target"] == chosen]


def _timetable(unit: dict) -> tuple[np.ndarray, np.ndarray]:
    """Minutes into the shift and metres along the route at the post and each stop's
    arrival and departure: the unit walks evenly between them."""
    times, along = [0.0], [0.0]
    for stop in unit["stops"]:
        times += [stop["arrive_min"], stop["depart_min"]]
        along += [stop["along_m"], stop["along_m"]]
    times.append(unit["minutes"])
    along.append(unit["metres"])
    return np.asarray(times), np.asarray(along)
