"""The period an analysis covers: the bounds a user gave, or defaults counted from the
data, so that every page, table and command agrees on what "the last month" means."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import pandas as pd

Length: TypeAlias = pd.DateOffset | pd.Timedelta


def resolve_period(start: datetime | pd.Timestamp | None, end: datetime | pd.Timestamp | None,
                   *, latest: pd.Timestamp | None, length: Length | None = None,
                   earliest: pd.Timestamp | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end). A bound that is given wins. A missing end is just after the latest
    incident (so that it is included), or now when there is none. A missing start is
    ``length`` before the end, else the earliest incident, else the end."""
    end_ts = _utc(end) if end is not None else (
        latest + pd.Timedelta(seconds=1) if latest is not None else pd.Timestamp.now("UTC"))
    if start is not None:
        return _utc(start), end_ts
    if length is not None:
        return end_ts - length, end_ts
    return (earliest if earliest is not None else end_ts), end_ts


def _utc(value: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
