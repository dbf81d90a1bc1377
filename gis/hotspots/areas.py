"""Hotspot areas: touching significant hot units merged into polygons, with what police
need to know about each (incidents, share, area, grids and communities, peak times)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def hotspot_areas(units: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame,
                  grids: gpd.GeoDataFrame | None = None,
                  communities: gpd.GeoDataFrame | None = None, *, min_class: int = 90,
                  time_zone: str = "UTC") -> gpd.GeoDataFrame:
    """``units`` carry a Gi* ``class`` (+90/+95/+99 hot); ``incidents`` carry
    ``occurred_at`` (UTC). Returns one row per area, largest share first."""
    for name, frame in (("incidents", incidents), ("grids", grids),
                        ("communities", communities)):
        if frame is not None and frame.crs != units.crs:
            raise ValueError(f"CRS mismatch: units {units.crs}, {name} {frame.crs}")
    hot = units[units["class"] >= min_class]
    columns = ["incidents", "share", "area_m2", "peak_class", "grids", "communities",
               "peak_hours", "peak_weekdays"]
    if hot.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=units.crs)
    merged = shapely.get_parts(shapely.union_all(hot.geometry.values))
    total = len(incidents)
    rows = []
    local = pd.to_datetime(incidents["occurred_at"], utc=True).dt.tz_convert(time_zone)
    tree = shapely.STRtree(incidents.geometry.values)
    for area in merged:
        inside = tree.query(area, predicate="intersects")
        hours = local.iloc[inside].dt.hour.value_counts()
        days = local.iloc[inside].dt.day_of_week.value_counts()
        touching = hot[shapely.intersects(hot.geometry.values, area)]
        rows.append({
            "geometry": area, "incidents": len(inside),
            "share": len(inside) / total if total else 0.0, "area_m2": area.area,
            "peak_class": int(touching["class"].max()),
            "grids": _codes(grids, area), "communities": _codes(communities, area),
            "peak_hours": [int(h) for h in hours.index[:3]],
            "peak_weekdays": [int(d) for d in days.index[:2]],
        })
    result = gpd.GeoDataFrame(rows, geometry="geometry", crs=units.crs)
    return result.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)


def _codes(frame: gpd.GeoDataFrame | None, area) -> list[str]:
    if frame is None or frame.empty:
        return []
    hits = shapely.intersection(frame.geometry.values, area)
    touching = np.asarray(shapely.area(hits)) > 1.0  # m²: more than a shared edge
    return sorted(frame.loc[touching, "code"].astype(str))
