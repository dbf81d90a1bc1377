"""The period of an analysis: given bounds win; defaults count back from the data."""

import datetime as dt

import pandas as pd

from gridgis.gis.hotspots.periods import resolve_period

LATEST = pd.Timestamp("2026-06-30T18:00:00Z")


def test_given_bounds_win_and_naive_ones_are_utc():
    start, end = resolve_period(dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1),
                                latest=LATEST, length=pd.Timedelta(days=30))
    assert (start, end) == (pd.Timestamp("2026-01-01", tz="UTC"),
                            pd.Timestamp("2026-02-01", tz="UTC"))


def test_a_missing_end_includes_the_latest_incident():
    start, end = resolve_period(None, None, latest=LATEST, length=pd.DateOffset(months=12))
    assert end == LATEST + pd.Timedelta(seconds=1)
    assert start == pd.Timestamp("2025-06-30T18:00:01Z")


def test_without_a_length_the_period_starts_at_the_earliest_incident():
    earliest = pd.Timestamp("2024-01-01", tz="UTC")
    assert resolve_period(None, None, latest=LATEST, earliest=earliest)[0] == earliest


def test_without_data_the_period_ends_now():
    before = pd.Timestamp.now("UTC")
    start, end = resolve_period(None, None, latest=None, length=pd.Timedelta(days=7))
    assert before <= end <= pd.Timestamp.now("UTC")
    assert end - start == pd.Timedelta(days=7)
