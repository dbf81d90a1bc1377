"""Date-times as users type them: ISO 8601 dates or date-times; one without an offset is
wall-clock time in the given zone (UTC unless said otherwise)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from .errors import InvalidInput
from .settings import DataSettings

DEFAULT_TIMEZONE = "Asia/Shanghai"


def end_of_day(moment: datetime) -> datetime:
    """The last instant of ``moment``'s day, in its zone: where a date bounds an
    interval at its end (the last day of the calendar too)."""
    return datetime.combine(moment.date(), time.max, moment.tzinfo)


def deployment_time_zone(conn: sa.Connection) -> str:
    """The district's local time zone: ``GRIDGIS_TIMEZONE``, else the one the database
    records (the demo records its city's), else Asia/Shanghai."""
    return DataSettings().timezone or recorded_time_zone(conn)


def recorded_time_zone(conn: sa.Connection) -> str:
    """The time zone the database records (the demo records its city's), else
    Asia/Shanghai: the district's, whatever this process's settings say."""
    stored = conn.execute(sa.text(
        "SELECT value FROM gridgis_meta WHERE key = 'timezone'")).scalar()
    return stored or DEFAULT_TIMEZONE


def parse_instant(value: str | None, field: str, timezone: str = "UTC") -> datetime | None:
    """The instant ``value`` names (None for a missing or blank value)."""
    if value is None or not value.strip():
        return None
    return _parse(value, field, timezone)


def required_instant(value: str | None, field: str, timezone: str = "UTC") -> datetime:
    """The instant ``value`` names; a missing or blank value is an error naming it."""
    if value is None or not value.strip():
        raise InvalidInput(f"{field} is required: an ISO 8601 date or date-time",
                           field=field)
    return _parse(value, field, timezone)


def _parse(value: str, field: str, timezone: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not an ISO 8601 date or date-time "
                           "(for example 2026-03-01 or 2026-03-01T08:00:00+08:00)",
                           field=field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone(timezone))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{name!r} is not a time zone (use a name such as Asia/Shanghai "
                           "or UTC)", field="timezone") from None
