"""What a patrol plan is asked for, checked where it is built (API, CLI or Python): the
shift, the units, where the targets come from, and the solver's settings."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from ..errors import InvalidInput
from ..network.graph import Mode
from ..times import zone

Source = Literal["forecast", "gi", "list"]
SOURCES = ("forecast", "gi", "list")
MODES = ("foot", "bike", "car")
MAX_UNITS = 20
MAX_TARGETS = 300
MAX_SHIFT_H = 14
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class HandTarget:
    """A target named by the leader: a place to be (with a window: at that time)."""

    name: str
    lon: float
    lat: float
    risk: float = 1.0
    dwell_min: float | None = None  # None: the plan's dwell
    window: tuple[str, str] | None = None  # "HH:MM" local wall-clock times
    mandatory: bool = False

    def __post_init__(self) -> None:
        where = f"target {self.name!r}"
        if not self.name.strip() or len(self.name) > 100:
            raise InvalidInput("a target needs a name of 1 to 100 characters", field="targets")
        if not (math.isfinite(self.lon) and math.isfinite(self.lat)
                and -180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            raise InvalidInput(f"{where}: lon must be in -180..180 and lat in -90..90",
                               field="targets")
        if not (math.isfinite(self.risk) and 0 < self.risk <= 1e6):
            raise InvalidInput(f"{where}: risk must be a number above 0", field="targets")
        if self.dwell_min is not None and not 1 <= self.dwell_min <= 120:
            raise InvalidInput(f"{where}: dwell must be 1 to 120 minutes", field="targets")
        if self.window is not None:
            for value in self.window:
                if not CLOCK.match(value):
                    raise InvalidInput(f"{where}: window times must be HH:MM, not {value!r}",
                                       field="targets")


@dataclass(frozen=True)
class PatrolRequest:
    name: str
    shift_start: datetime
    shift_end: datetime
    units: int = 3
    mode: Mode = "foot"
    post: str | None = None  # the post's name; None: the district's first post
    source: Source = "forecast"
    top: int = 30  # targets taken from the forecast or the hot spots
    targets: tuple[HandTarget, ...] = ()  # the list (source "list"), or added points
    dwell_min: float = 12.0
    revisit_top: float = 0.2  # the riskiest share may be visited three times, others twice
    min_gap_min: float = 60.0
    break_min: float = 30.0  # for shifts over 6 hours; 0: no break
    seed: int = 0
    time_limit_s: float = 10.0
    work: int = 100  # solutions per solve
    restarts: int = 10
    tolerance: float = 0.02
    compare_s: float = 30.0  # the longer solve the plan is compared with; 0: none
    scope: tuple[str, ...] = field(default=())  # the planner's scope codes
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str, str]] = [
            (bool(self.name.strip()) and len(self.name) <= 200, "name",
             "name must have 1 to 200 characters"),
            (1 <= self.units <= MAX_UNITS, "units", f"units must be 1 to {MAX_UNITS}"),
            (self.mode in MODES, "mode", f"mode must be one of {', '.join(MODES)}"),
            (self.source in SOURCES, "source", f"source must be one of {', '.join(SOURCES)}"),
            (1 <= self.top <= MAX_TARGETS, "top", f"top must be 1 to {MAX_TARGETS}"),
            (len(self.targets) <= MAX_TARGETS, "targets",
             f"at most {MAX_TARGETS} targets"),
            (self.source != "list" or bool(self.targets), "targets",
             "source 'list' needs at least one target"),
            (1 <= self.dwell_min <= 120, "dwell", "dwell must be 1 to 120 minutes"),
            (0 <= self.revisit_top <= 1, "revisit_top", "revisit_top must be 0 to 1"),
            (5 <= self.min_gap_min <= 600, "min_gap", "min_gap must be 5 to 600 minutes"),
            (0 <= self.break_min <= 120, "break", "break must be 0 to 120 minutes"),
            (0 <= self.seed < 2**62, "seed", "seed must be 0 or more"),
            (0.5 <= self.time_limit_s <= 120, "time_limit", "time_limit must be 0.5 to "
             "120 seconds"),
            (10 <= self.work <= 100_000, "work", "work must be 10 to 100000 solutions"),
            (1 <= self.restarts <= 100, "restarts", "restarts must be 1 to 100"),
            (0 <= self.tolerance <= 0.5, "tolerance", "tolerance must be 0 to 0.5"),
            (0 <= self.compare_s <= 600, "compare", "compare must be 0 to 600 seconds"),
        ]
        for ok, name, message in checks:
            if not ok:
                raise InvalidInput(message, field=name)
        if self.shift_start.tzinfo is None or self.shift_end.tzinfo is None:
            raise InvalidInput("the shift's times need a time zone", field="shift")
        length = _utc(self.shift_end) - _utc(self.shift_start)
        if not timedelta(minutes=30) <= length <= timedelta(hours=MAX_SHIFT_H):
            raise InvalidInput(f"a shift lasts 30 minutes to {MAX_SHIFT_H} hours",
                               field="shift")
        zone(self.timezone)
        for target in self.targets:
            if target.window is not None:
                self.window_minutes(target.window, target.name)

    @property
    def shift_min(self) -> float:
        """The shift's real length (in UTC: a shift over a change of summer time is an
        hour shorter or longer than its wall-clock times say)."""
        return (_utc(self.shift_end) - _utc(self.shift_start)).total_seconds() / 60

    def window_minutes(self, window: tuple[str, str], name: str) -> tuple[float, float]:
        """A target's ``HH:MM`` window as minutes into the shift: its end is the first
        such local time after the shift starts (a night shift's 02:00 is the next day),
        its start the last such time before that end; a window open before the shift
        starts counts from the start. A window wholly outside the shift is an error."""
        tz = zone(self.timezone)
        start = _utc(self.shift_start)
        local = start.astimezone(tz)

        def at(clock: str, day_offset: int) -> datetime:
            hours, minutes = (int(v) for v in clock.split(":"))
            wall = datetime.combine(local.date() + timedelta(days=day_offset),
                                    time(hours, minutes), tzinfo=tz)
            return _utc(wall)
        end = next(at(window[1], d) for d in (-1, 0, 1, 2) if at(window[1], d) > start)
        opens = max(at(window[0], d) for d in (-2, -1, 0, 1) if at(window[0], d) < end)
        low = (opens - start).total_seconds() / 60
        high = (end - start).total_seconds() / 60
        if max(low, 0.0) >= self.shift_min:
            raise InvalidInput(f"target {name!r}: the window {window[0]}-{window[1]} lies "
                               "outside the shift", field="targets")
        return max(low, 0.0), min(high, self.shift_min)

    def parameters(self) -> dict[str, Any]:
        """Everything needed to plan again (JSON)."""
        out = asdict(self)
        out["shift_start"] = self.shift_start.isoformat()
        out["shift_end"] = self.shift_end.isoformat()
        out["targets"] = [asdict(t) for t in self.targets]
        out["scope"] = list(self.scope)
        return out


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def parse_shift(text: str, day: date | None, timezone_name: str
                ) -> tuple[datetime, datetime]:
    """``08:00-16:00`` on ``day`` (default: today) in ``timezone``; an end at or before
    the start is on the next day (a night shift)."""
    parts = [p.strip() for p in text.split("-")]
    if len(parts) != 2 or not all(CLOCK.match(p) for p in parts):
        raise InvalidInput(f"shift {text!r} must be HH:MM-HH:MM, e.g. 08:00-16:00",
                           field="shift")
    tz = zone(timezone_name)
    day = day or datetime.now(tz).date()
    if not date(1900, 1, 1) <= day <= date(9000, 1, 1):
        raise InvalidInput(f"the shift's date {day} is implausible", field="date")
    start, end = (datetime.combine(day, time(int(p.split(":")[0]), int(p.split(":")[1])),
                                   tzinfo=tz) for p in parts)
    if end <= start:
        end += timedelta(days=1)
    return start, end


def hand_targets(rows: list[dict[str, Any]]) -> tuple[HandTarget, ...]:
    """Targets from JSON-like rows (name, lon, lat, risk, dwell_min, window
    "HH:MM-HH:MM", mandatory)."""
    out = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise InvalidInput(f"target {i} must be an object", field="targets")
        window = row.get("window")
        if isinstance(window, str):
            window = tuple(p.strip() for p in window.split("-"))
            if len(window) != 2:
                raise InvalidInput(f"target {i}: window must be HH:MM-HH:MM",
                                   field="targets")
        try:
            out.append(HandTarget(
                str(row.get("name") or f"target {i}"), float(row["lon"]),
                float(row["lat"]), float(row.get("risk", 1.0)),
                None if row.get("dwell_min") is None else float(row["dwell_min"]),
                window, bool(row.get("mandatory", False))))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(f"target {i} needs numeric lon and lat (and risk, "
                               "dwell_min if given)", field="targets") from None
    return tuple(out)
