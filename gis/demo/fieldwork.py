"""The demo's synthetic field work, so that every kind of blind spot has something to
find: patrol bases, grid workers' visits to households (with stale grids and a worker
who left), and patrol units' GPS tracks that cover some subdistricts and not others.
The rules are in data/README.md ("Field work")."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .district import District


def patrol_bases(district: District, roads: gpd.GeoDataFrame, count: int) -> pd.DataFrame:
    """A base on the road nearest the centre of each of the first ``count``
    subdistricts."""
    rows = []
    lines = roads.geometry.values
    tree = shapely.STRtree(lines)
    for i, sub in enumerate(district.subdistricts.head(count).itertuples()):
        centre = sub.geometry.representative_point()
        line = lines[tree.nearest(centre)]
        point = shapely.line_interpolate_point(line, shapely.line_locate_point(line, centre))
        rows.append({"external_id": f"demo-post-{i + 1}", "name": f"{sub.name}巡逻驻点",
                     "category": "patrol_base", "risk_level": "low", "synthetic": True,
                     "x": point.x, "y": point.y})
    return pd.DataFrame(rows)


def leave_one_grid_unattended(workers: pd.DataFrame, count: int) -> pd.DataFrame:
    """Mark inactive the workers of the first ``count`` grids that have only one."""
    single = workers.groupby("grid_codes")["employee_no"].transform("size") == 1
    gone = workers.index[single][:count]
    return workers.assign(active=~workers.index.isin(gone))


def visits(homes: pd.DataFrame, grid_of_home: pd.Series, workers: pd.DataFrame,
           today: pd.Timestamp, rules: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Visits to households: per grid a share of its households, on uniform days in the
    last ``visit_days``; in ``stale_grids`` grids all of them 150–180 days back."""
    grids = np.sort(grid_of_home.dropna().unique())
    low, high = rules["visited_share"]
    share = dict(zip(grids, rng.uniform(low, high, len(grids)), strict=True))
    stale = set(rng.choice(grids, size=min(rules["stale_grids"], len(grids)),
                           replace=False))
    worker_of = workers.drop_duplicates("grid_codes").set_index("grid_codes")["employee_no"]
    rows = []
    for ref, grid in zip(homes["household_ref"], grid_of_home, strict=True):
        if not isinstance(grid, str) or rng.random() >= share[grid]:
            continue
        days = rng.uniform(150, 180) if grid in stale else rng.uniform(0, rules["visit_days"])
        rows.append({"household_id_ref": ref, "worker_ref": worker_of.get(grid),
                     "visited_at": (today - pd.Timedelta(days=days)).strftime(
                         "%Y-%m-%dT%H:%M:%SZ"),
                     "kind": "visit" if rng.random() < 0.8 else "verification",
                     "outcome": rng.choice(["verified", "updated", "not_home"],
                                           p=[0.75, 0.1, 0.15]),
                     "synthetic": True})
    return pd.DataFrame(rows)


def patrol_tracks(district: District, roads: gpd.GeoDataFrame, today: pd.Timestamp,
                  rules: dict, time_zone: str, rng: np.random.Generator) -> pd.DataFrame:
    """One unit per subdistrict (the first ``patrol_units``), a shift a day for the last
    ``patrol_days`` days: walking at ``walk_kmh`` between random points on the roads of
    its subdistrict, a fix every ``fix_seconds``."""
    rows = []
    step_m = rules["walk_kmh"] * 1000 / 3600 * rules["fix_seconds"]
    fixes_per_shift = int(rules["shift_hours"] * 3600 / rules["fix_seconds"])
    local_today = today.tz_convert(time_zone).normalize()
    for unit, sub in enumerate(district.subdistricts.head(rules["patrol_units"])
                               .itertuples()):
        streets = roads[roads.intersects(sub.geometry)].geometry.values
        streets = shapely.get_parts(shapely.intersection(streets, sub.geometry))
        streets = streets[(shapely.get_type_id(streets) == 1)
                          & (shapely.length(streets) > 10)]
        if not len(streets):
            continue
        for day in range(rules["patrol_days"], 0, -1):
            start = (local_today - pd.Timedelta(days=day) + pd.Timedelta(hours=9)) \
                .tz_convert("UTC")
            track = _walk(streets, fixes_per_shift, step_m, rng)
            times = start + pd.to_timedelta(np.arange(len(track)) * rules["fix_seconds"],
                                            unit="s")
            shift = f"{start.tz_convert(time_zone):%Y-%m-%d}-day"
            rows.append(pd.DataFrame({
                "unit": f"巡逻{unit + 1}组", "shift": shift, "x": track[:, 0],
                "y": track[:, 1], "recorded_at": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "synthetic": True}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _walk(streets: np.ndarray, fixes: int, step_m: float, rng: np.random.Generator
          ) -> np.ndarray:
    """Straight walks between random points on the streets, sampled every step."""
    points: list[np.ndarray] = []
    here = _random_point(streets, rng)
    while len(points) < fixes:
        there = _random_point(streets, rng)
        distance = float(np.hypot(*(there - here)))
        steps = max(1, int(distance // step_m))
        points.extend(here + (there - here) * (np.arange(steps)[:, None] / steps))
        here = there
    return np.array(points[:fixes])


def _random_point(streets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    line = streets[rng.integers(len(streets))]
    point = shapely.line_interpolate_point(line, rng.random(), normalized=True)
    return np.array([point.x, point.y])
