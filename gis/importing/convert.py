"""Turning source text into typed field values.

Numbers, true/false words, choices and dates are parsed a whole column at a time; each
value that does not parse is reported against its row rather than failing the chunk.
Naive date-times are read in the import's time zone and stored in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..settings import DataSettings
from .kinds import Field
from .row_errors import RowErrors

TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "off"}
TEXT_MAX_CHARS = 4000  # a long incident description fits; a pasted document does not
PROPERTIES_MAX_DEPTH = 16  # levels of objects and arrays within properties
PROPERTIES_MAX_BYTES = 64 * 1024  # free-form attributes of one row, as JSON


@dataclass(frozen=True)
class DateRange:
    """The dates gridgis accepts: from ``earliest`` to ``latest`` (the clock plus a
    skew allowance) for occurrences; fields marked ``future`` have no upper bound."""

    earliest: pd.Timestamp
    latest: pd.Timestamp

    @classmethod
    def now(cls, settings: DataSettings | None = None) -> DateRange:
        settings = settings or DataSettings()
        return cls(pd.Timestamp(settings.earliest_date, tz="UTC"),
                   pd.Timestamp.now("UTC") + pd.Timedelta(hours=settings.future_skew_hours))


def properties_problem(encoded: str) -> str | None:
    """Why a row's free-form attributes (as JSON text) cannot be stored, or None."""
    try:
        size = len(encoded.encode("utf-8"))
    except UnicodeEncodeError:
        return "the attributes hold an invalid character (a lone surrogate)"
    if size > PROPERTIES_MAX_BYTES:
        return f"the attributes take {size:,} bytes; at most {PROPERTIES_MAX_BYTES:,}"
    depth = json_depth(encoded)
    if depth > PROPERTIES_MAX_DEPTH:
        return f"the attributes nest {depth} levels deep; at most {PROPERTIES_MAX_DEPTH}"
    return None


def json_depth(encoded: str) -> int:
    """How deeply objects and arrays nest in JSON text (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in encoded:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def check_text(value: str) -> str:
    """Text that PostgreSQL can store: no lone surrogate (half of a UTF-16 pair)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text holds an invalid character (a lone surrogate)") from None
    return value


def apply_value_map(raw: pd.Series, values: dict[str, str] | None) -> pd.Series:
    if not values:
        return raw
    lowered = {k.lower(): v for k, v in values.items()}
    mapped = raw.map(values)
    missing = mapped.isna()
    if missing.any():
        mapped[missing] = raw[missing].str.lower().map(lowered)
    return mapped.fillna(raw)


def convert_column(raw: pd.Series, f: Field, errors: RowErrors, timezone: str,
                   dates: DateRange) -> pd.Series:
    empty = (raw == "") | raw.isna()
    if f.type == "text":
        result = raw.where(~empty, None)
        long = np.flatnonzero((raw.str.len() > TEXT_MAX_CHARS).to_numpy())
        errors.add(long, f.name, lambda p: f"{len(raw.iat[p]):,} characters; at most "
                   f"{TEXT_MAX_CHARS:,}")
        if f.choices is not None:
            allowed = set(f.choices.keys() if isinstance(f.choices, MappingABC) else f.choices)
            bad = np.flatnonzero((~empty & ~raw.isin(allowed)).to_numpy())
            if len(bad):
                options = ", ".join(sorted(allowed))
                errors.add(bad, f.name, lambda p: f"unknown value {raw.iat[p]!r}; expected one "
                           f"of: {options} (map source values under [values.{f.name}] in a "
                           "mapping file)")
        return result
    if f.type in ("int", "float"):
        numbers = pd.to_numeric(raw.where(~empty, None), errors="coerce")
        bad = ~empty & numbers.isna()
        if f.type == "int":
            bad |= ~empty & numbers.notna() & (numbers % 1 != 0)
        positions = np.flatnonzero(bad.to_numpy())
        errors.add(positions, f.name, lambda p: f"{raw.iat[p]!r} is not "
                   f"{'a whole number' if f.type == 'int' else 'a number'}")
        numbers = numbers.where(~bad, None)
        return numbers.astype("Int64") if f.type == "int" else numbers
    if f.type == "bool":
        low = raw.str.lower()
        result = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        result[low.isin(TRUE_WORDS)] = True
        result[low.isin(FALSE_WORDS)] = False
        if f.blank is not None:  # the column's default for a row that leaves it empty
            result[empty] = f.blank
        bad = np.flatnonzero((~empty & result.isna()).to_numpy())
        errors.add(bad, f.name, lambda p: f"{raw.iat[p]!r} is not true/false")
        return result
    if f.type in ("date", "datetime"):
        parsed = _parse_datetimes(raw.where(~empty, None), timezone)
        bad = np.flatnonzero((~empty & parsed.isna()).to_numpy())
        errors.add(bad, f.name, lambda p: f"{raw.iat[p]!r} is not a "
                   f"{'date (YYYY-MM-DD)' if f.type == 'date' else 'date-time (ISO 8601)'}")
        parsed = _plausible(parsed, f, errors, dates, lambda p: repr(raw.iat[p]))
        if f.type == "date":
            return parsed.dt.tz_convert(timezone).dt.date.where(parsed.notna(), None)
        return parsed
    raise AssertionError(f.type)


def _parse_datetimes(values: pd.Series, timezone: str) -> pd.Series:
    """ISO 8601 (fast path) or other common layouts; naive values are in ``timezone``."""
    def parse(series: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=False)
        if parsed.isna().sum() > series.isna().sum():
            retry = parsed.isna() & series.notna()
            parsed = parsed.astype(object)
            parsed[retry] = pd.to_datetime(series[retry], errors="coerce", format="mixed")
        return parsed

    parsed = parse(values)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert("UTC")
    if parsed.dtype == object:  # a mix of naive and aware values
        return pd.Series([_to_utc(v, timezone) for v in parsed], index=values.index,
                         dtype="datetime64[ns, UTC]")
    return _localise(parsed, timezone)


def _to_utc(value, timezone: str):
    if value is None or pd.isna(value):
        return pd.NaT
    stamp = pd.Timestamp(value)
    return stamp.tz_localize(timezone) if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _plausible(parsed: pd.Series, f: Field, errors: RowErrors, dates: DateRange,
               shown: Callable[[int], str]) -> pd.Series:
    """Refuse dates before the earliest accepted one, and occurrences in the future."""
    early = (parsed < dates.earliest).to_numpy(na_value=False)
    late = (parsed > dates.latest).to_numpy(na_value=False) if not f.future else \
        np.zeros(len(parsed), dtype=bool)
    errors.add(np.flatnonzero(early), f.name, lambda p: f"{shown(p)} is before "
               f"{dates.earliest:%Y-%m-%d}, the earliest date accepted (GRIDGIS_EARLIEST_DATE)")
    errors.add(np.flatnonzero(late), f.name, lambda p: f"{shown(p)} lies in the future")
    return parsed.where(~(early | late))


def assemble_datetime(frame: pd.DataFrame, parts: dict[str, str], f: Field,
                      errors: RowErrors, timezone: str, dates: DateRange) -> pd.Series:
    numbers = {part: pd.to_numeric(frame[column].astype(str).str.strip(), errors="coerce")
               for part, column in parts.items()}
    stamp = pd.to_datetime(pd.DataFrame(numbers), errors="coerce")
    bad = np.flatnonzero(stamp.isna().to_numpy())
    if len(bad):
        errors.add(bad, f.name, lambda p: "not a valid date-time: " + ", ".join(
            f"{part}={frame[column].iat[p]!r}" for part, column in parts.items()))
    return _plausible(_localise(stamp, timezone), f, errors, dates,
                      lambda p: "the date-time")


def _localise(naive: pd.Series, timezone: str) -> pd.Series:
    """Local wall-clock times to UTC. A time that occurs twice (the hour repeated when
    clocks go back) is taken as its first occurrence; one that never occurs (skipped when
    clocks go forward) moves forward by the one-hour gap, as a clock not yet changed
    would have read it."""
    first = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(timezone, ambiguous=first,
                                nonexistent=pd.Timedelta(hours=1)).dt.tz_convert("UTC")

