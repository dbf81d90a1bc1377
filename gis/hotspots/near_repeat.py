"""Near-repeat analysis: the Knox test over distance and time bands with Monte Carlo
significance (as Ratcliffe's Near Repeat Calculator), and the short-term elevated-risk
zones it implies around recent incidents.

For every pair of incidents the spatial and temporal distances fall in one band cell.
Observed pair counts are compared with counts after randomly permuting the incidents'
times over their locations (which keeps both the spatial and the temporal distribution
and breaks only their interaction). p = (1 + #permutations ≥ observed) / (1 + N).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

DEFAULT_DISTANCE_BANDS = (0, 100, 200, 300, 400, 500)  # metres, edges
DEFAULT_TIME_BANDS = (0, 7, 14, 21, 28, 35)  # days, edges


def knox(xy: np.ndarray, days: np.ndarray, *, distance_bands=DEFAULT_DISTANCE_BANDS,
         time_bands=DEFAULT_TIME_BANDS, permutations: int = 99, seed: int = 0
         ) -> pd.DataFrame:
    """A row per (distance band, time band): observed and expected pairs, the Knox ratio
    and the Monte Carlo p-value. Bands are [low, high) except the first, which includes
    pairs at distance 0 / the same day."""
    xy = np.asarray(xy, dtype=float)
    days = np.asarray(days, dtype=float)
    d_edges = np.asarray(distance_bands, dtype=float)
    t_edges = np.asarray(time_bands, dtype=float)
    pairs = cKDTree(xy).query_pairs(d_edges[-1], output_type="ndarray")
    if len(pairs) == 0:
        pairs = np.zeros((0, 2), dtype=int)
    i, j = pairs[:, 0], pairs[:, 1]
    d_bin = np.digitize(np.hypot(*(xy[i] - xy[j]).T), d_edges[1:-1])
    shape = (len(d_edges) - 1, len(t_edges) - 1)

    def table(times: np.ndarray) -> np.ndarray:
        gap = np.abs(times[i] - times[j])
        keep = gap < t_edges[-1]
        t_bin = np.digitize(gap[keep], t_edges[1:-1])
        return np.bincount(d_bin[keep] * shape[1] + t_bin,
                           minlength=shape[0] * shape[1]).reshape(shape)

    observed = table(days)
    rng = np.random.default_rng(seed)
    simulated = np.stack([table(rng.permutation(days)) for _ in range(permutations)])
    expected = simulated.mean(axis=0)
    p = (1 + (simulated >= observed).sum(axis=0)) / (1 + permutations)
    rows = []
    for a in range(shape[0]):
        for b in range(shape[1]):
            rows.append({"distance_from": d_edges[a], "distance_to": d_edges[a + 1],
                         "days_from": t_edges[b], "days_to": t_edges[b + 1],
                         "observed": int(observed[a, b]), "expected": float(expected[a, b]),
                         "ratio": float(observed[a, b] / expected[a, b])
                         if expected[a, b] else float("nan"),
                         "p": float(p[a, b])})
    return pd.DataFrame(rows)


def elevated_extent(table: pd.DataFrame, *, alpha: float = 0.05,
                    min_ratio: float = 1.2) -> tuple[float, float] | None:
    """(distance, days) of the contiguous near-repeat region from the closest band
    outward: the largest distance and time band edges whose cells with smaller distance
    and time are all significant and elevated; None when the closest cell is not."""
    d = sorted(table["distance_to"].unique())
    t = sorted(table["days_to"].unique())
    grid = table.pivot(index="distance_to", columns="days_to",
                       values="p").reindex(index=d, columns=t).to_numpy()
    ratio = table.pivot(index="distance_to", columns="days_to",
                        values="ratio").reindex(index=d, columns=t).to_numpy()
    elevated = (grid < alpha) & (ratio >= min_ratio)
    if not elevated[0, 0]:
        return None
    best = (0, 0)
    for a in range(len(d)):
        for b in range(len(t)):
            if elevated[: a + 1, : b + 1].all() and (a + 1) * (b + 1) > \
                    (best[0] + 1) * (best[1] + 1):
                best = (a, b)
    return float(d[best[0]]), float(t[best[1]])


def risk_zones(incidents: gpd.GeoDataFrame, now: pd.Timestamp, distance_m: float,
               days: float) -> gpd.GeoDataFrame:
    """Zones of short-term elevated risk: within ``distance_m`` of incidents of the last
    ``days`` days, each until ``days`` after its incident (overlaps merged, keeping the
    latest expiry)."""
    occurred = pd.to_datetime(incidents["occurred_at"], utc=True)
    recent = incidents[(occurred <= now) & (occurred > now - pd.Timedelta(days=days))]
    if recent.empty:
        return gpd.GeoDataFrame({"until": [], "incidents": []}, geometry=[],
                                crs=incidents.crs)
    buffers = recent.geometry.buffer(distance_m)
    merged = shapely.get_parts(shapely.union_all(buffers.values))
    until = pd.to_datetime(recent["occurred_at"], utc=True) + pd.Timedelta(days=days)
    rows = []
    tree = shapely.STRtree(recent.geometry.values)
    for zone in merged:
        inside = tree.query(zone, predicate="intersects")
        rows.append({"geometry": zone, "incidents": len(inside),
                     "until": until.iloc[inside].max()})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=incidents.crs)
