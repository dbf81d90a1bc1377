"""Patrol presence from GPS fixes, counted by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gridgis.gis.blindspots.presence import fix_minutes, presence

T0 = pd.Timestamp("2026-10-01T08:00:00Z")


def fixes(rows):
    """rows of (unit, shift, minutes after T0, x, y)"""
    unit, shift, minute, x, y = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"unit": unit, "shift": shift,
                             "recorded_at": [T0 + pd.Timedelta(minutes=m) for m in minute]},
                            geometry=gpd.points_from_xy(x, y), crs=32635)


def test_each_fix_stands_for_the_time_to_the_next_capped_and_per_track():
    frame = fixes([("A", "s1", 0, 5, 5), ("A", "s1", 1, 5, 5), ("A", "s1", 3, 5, 5),
                   ("A", "s1", 30, 5, 5), ("B", "s1", 2, 5, 5), ("A", "s2", 31, 5, 5)])
    # A/s1: 1, 2, capped 5, last 0; B: last 0; A/s2: last 0
    assert list(fix_minutes(frame, max_gap_min=5)) == [1, 2, 5, 0, 0, 0]


def test_minutes_per_cell_per_week_and_the_last_fix():
    cells = gpd.GeoDataFrame({"cell": [1, 2, 3]}, geometry=[box(0, 0, 10, 10),
                                                             box(10, 0, 20, 10),
                                                             box(20, 0, 30, 10)], crs=32635)
    frame = fixes([("A", "s", 0, 5, 5), ("A", "s", 2, 5, 5), ("A", "s", 4, 15, 5),
                   ("A", "s", 6, 15, 5), ("A", "s", 8, 500, 500)])
    result = presence(cells, frame, T0 - pd.Timedelta(days=13), T0 + pd.Timedelta(days=1),
                      recent_days=7)
    assert list(result["minutes"]) == [4, 4, 0]
    assert list(result["minutes_per_week"]) == pytest.approx([2, 2, 0])
    assert result["last_seen"].iloc[1] == T0 + pd.Timedelta(minutes=6)
    assert list(result["patrolled_recently"]) == [True, True, False]
    old = presence(cells, frame, T0 - pd.Timedelta(days=13), T0 + pd.Timedelta(days=9),
                   recent_days=7)
    assert not old["patrolled_recently"].any()  # the last fix is 8 days before the end


def test_no_fixes_means_no_presence():
    cells = gpd.GeoDataFrame({"cell": [1]}, geometry=[box(0, 0, 10, 10)], crs=32635)
    result = presence(cells, fixes([("A", "s", -100000, 5, 5)]), T0, T0 + pd.Timedelta(days=7))
    assert result["minutes"].tolist() == [0] and not result["patrolled_recently"].any()
    assert pd.isna(result["last_seen"].iloc[0])
