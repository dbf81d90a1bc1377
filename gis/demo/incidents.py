"""Synthetic incidents: a documented spatio-temporal model (see data/README.md).

Background events come from *anchors* (real places: nightlife, shops, transport stops,
parks, homes, points along major roads). Each source gives every anchor a monthly rate
(× a lognormal weight, so a few anchors run hot and make persistent hotspots); some
anchors switch on or off at a random month (emerging and fading hotspots). Event times
follow the source's hour-of-day and weekday profiles; locations scatter around the
anchor. Every event then triggers offspring (a Hawkes process): Poisson(branching)
children, exponentially delayed, scattered around the parent, of the same category —
the near-repeat pattern of real crime.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon


@dataclass(frozen=True)
class Source:
    category: str
    anchors: str
    rate: float  # events per anchor per month
    hours: np.ndarray  # 24 weights
    days: np.ndarray  # 7 weights, Monday first
    spread_m: float


def sources_from(params: dict) -> list[Source]:
    profiles = params["profiles"]
    return [Source(s["category"], s["anchors"], float(s["rate"]),
                   np.asarray(profiles[s["hours"]], float), np.asarray(profiles[s["days"]],
                                                                         float),
                   float(s["spread_m"])) for s in params["sources"]]


def simulate(anchors: dict[str, np.ndarray], boundary: Polygon, params: dict,
             seed: int, *, months: int | None = None, scale: float = 1.0) -> pd.DataFrame:
    """Events as a frame: x, y (the anchors' CRS), category, occurred_at (UTC),
    source, generation. ``anchors`` maps an anchor kind to an (n, 2) array of points."""
    rng = np.random.default_rng(seed)
    months = months or int(params["months"])
    zone = params["time_zone"]
    start = pd.Timestamp(params["start"], tz=zone)
    month_starts = [start + pd.DateOffset(months=m) for m in range(months + 1)]
    end = month_starts[-1]
    rows = []
    for source in sources_from(params):
        points = anchors.get(source.anchors)
        if points is None or len(points) == 0:
            continue
        n = len(points)
        weight = rng.lognormal(0.0, params["anchor_heterogeneity_sigma"], n)
        weight /= weight.mean()
        active_from = np.where(rng.random(n) < params["emerge_share"],
                               rng.integers(1, months, n), 0)
        active_to = np.where(rng.random(n) < params["fade_share"],
                             rng.integers(1, months, n), months)
        for m in range(months):
            active = (active_from <= m) & (m < active_to)
            counts = rng.poisson(source.rate * scale * weight * active)
            idx = np.repeat(np.arange(n), counts)
            if len(idx) == 0:
                continue
            times = _draw_times(rng, month_starts[m], month_starts[m + 1], len(idx),
                                source.hours, source.days)
            xy = points[idx] + rng.normal(0.0, source.spread_m, (len(idx), 2))
            rows.append(pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1],
                                      "category": source.category, "occurred_at": times,
                                      "source": source.anchors, "generation": 0}))
    events = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["x", "y", "category", "occurred_at", "source", "generation"])
    events = _self_excite(events, params["hawkes"], rng, end)
    inside = shapely.contains_xy(boundary, events["x"].to_numpy(), events["y"].to_numpy())
    events = events[inside].sort_values("occurred_at", kind="stable").reset_index(drop=True)
    events["occurred_at"] = events["occurred_at"].dt.tz_convert("UTC")
    return events


def _draw_times(rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp, n: int,
                hours: np.ndarray, days: np.ndarray) -> pd.Series:
    """Local times in [start, end) with the given weekday and hour-of-day weights."""
    day_list = pd.date_range(start.normalize(), end.normalize() - pd.Timedelta(days=1),
                             freq="D")
    day_weight = days[day_list.day_of_week]
    chosen = day_list[rng.choice(len(day_list), size=n, p=day_weight / day_weight.sum())]
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    seconds = rng.integers(0, 3600, n)
    naive = chosen.tz_localize(None) + pd.to_timedelta(hour * 3600 + seconds, unit="s")
    # the repeated hour at the end of summer time counts as winter time
    return pd.Series(naive.tz_localize(start.tz, ambiguous=np.zeros(n, dtype=bool),
                                       nonexistent="shift_forward"))


def _self_excite(events: pd.DataFrame, hawkes: dict, rng: np.random.Generator,
                 end: pd.Timestamp) -> pd.DataFrame:
    generation = events
    everything = [events]
    for g in range(1, int(hawkes["max_generations"]) + 1):
        children = rng.poisson(hawkes["branching"], len(generation))
        idx = np.repeat(np.arange(len(generation)), children)
        if len(idx) == 0:
            break
        parents = generation.iloc[idx].reset_index(drop=True)
        delay = pd.Series(pd.to_timedelta(
            rng.exponential(hawkes["mean_delay_days"] * 86400, len(idx)), unit="s"))
        child = pd.DataFrame({
            "x": parents["x"] + rng.normal(0, hawkes["spread_m"], len(idx)),
            "y": parents["y"] + rng.normal(0, hawkes["spread_m"], len(idx)),
            "category": parents["category"],
            "occurred_at": parents["occurred_at"] + delay,
            "source": "near_repeat", "generation": g})
        child = child[child["occurred_at"] < end]
        everything.append(child)
        generation = child
    return pd.concat(everything, ignore_index=True)
