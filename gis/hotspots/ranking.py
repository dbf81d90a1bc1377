"""The per-grid ranking for accountability meetings."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from .cube import BIN_FREQUENCIES, binned_counts, counts, time_bins
from .emerging import emerging_hotspots
from .gistar import gi_star
from .weights import spatial_weights


def grid_ranking(grids: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame,
                 start: pd.Timestamp, end: pd.Timestamp,
                 history_start: pd.Timestamp) -> list[dict[str, Any]]:
    """The ranking table from the grids and the incidents of [history_start, end)."""
    when = incidents["occurred_at"]
    length = end - start
    now = counts(grids, incidents[(when >= start) & (when < end)])
    before = counts(grids, incidents[(when >= start - length) & (when < start)])
    weights = spatial_weights(grids)
    classes = gi_star(now, weights).classes
    edges = time_bins(history_start, end, BIN_FREQUENCIES["month"])
    history = incidents[when >= history_start]
    patterns = emerging_hotspots(binned_counts(grids, history, edges), weights)["pattern"]
    frame = pd.DataFrame({"id": grids["id"], "code": grids["code"], "name": grids["name"],
                          "incidents": now, "previous": before, "change": now - before,
                          "hotspot_class": classes, "emerging": patterns.to_numpy()})
    frame["change_pct"] = (100 * frame["change"] / frame["previous"].where(
        frame["previous"] > 0)).round(1)
    frame = frame.sort_values(["incidents", "change"], ascending=False, kind="stable")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["start"], frame["end"] = start, end
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
