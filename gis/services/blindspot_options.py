"""The options of a blind-spot audit: the plan, the area, and every number the rules
use. Invalid values are refused here, whoever builds the options."""

from __future__ import annotations

from dataclasses import dataclass

from ..blindspots.coverage import DEFAULT_SLIVER_M2
from ..blindspots.responsibility import Norms
from ..blindspots.scorecard import Thresholds
from ..errors import InvalidInput

MAX_SITES = 50


@dataclass(frozen=True)
class AuditOptions:
    """Every number the audit's rules use; part of every cache key."""

    plan: str | None = None  # default: the published plan
    community: str | None = None  # coverage of one community instead of the district
    sliver_m2: float = DEFAULT_SLIVER_M2
    households_min: float = 300
    households_max: float = 500
    stale_days: int = 90
    foot_min: float = 10.0
    car_min: float = 5.0
    hot_class: int = 95  # the weakest Gi* class a hotspot cell needs
    months: int = 12  # incidents and hotspots: this many months back from the latest
    presence_days: int = 28  # patrol presence over this many days back from the latest
    recent_days: int = 7  # a hotspot without a patrol fix for this long is unpatrolled
    sites: int = 10  # new camera sites suggested
    site_range_m: float = 30.0  # range of a suggested camera (all-round)
    people_min: float | None = None  # people per worker (no norm by default)
    people_max: float | None = None
    min_checked_share: float = 0.0  # of households checked within stale_days
    street_in_view_min: float = 0.2  # amber below these shares
    incidents_in_view_min: float = 0.2
    car_beyond_red: float = 0.1  # red above this share of street beyond the car limit
    foot_beyond_amber: float = 0.25  # amber above this share beyond the walking limit

    def __post_init__(self) -> None:
        checks = [
            (self.sliver_m2 >= 0, "sliver_m2", "must not be negative"),
            (0 <= self.households_min <= self.households_max, "households_min",
             "and households_max need 0 <= min <= max"),
            (1 <= self.stale_days <= 3650, "stale_days", "must be between 1 and 3650"),
            (0 < self.foot_min <= 240, "foot_min", "must be between 0 and 240 minutes"),
            (0 < self.car_min <= 240, "car_min", "must be between 0 and 240 minutes"),
            (self.hot_class in (90, 95, 99), "hot_class", "must be 90, 95 or 99"),
            (1 <= self.months <= 120, "months", "must be between 1 and 120"),
            (1 <= self.presence_days <= 366, "presence_days", "must be between 1 and 366"),
            (1 <= self.recent_days <= self.presence_days, "recent_days",
             "must be between 1 and presence_days"),
            (0 <= self.sites <= MAX_SITES, "sites", f"must be between 0 and {MAX_SITES}"),
            (5 <= self.site_range_m <= 500, "site_range_m", "must be between 5 and 500 m"),
            (self.people_min is None or self.people_max is None
             or 0 <= self.people_min <= self.people_max, "people_min",
             "and people_max need 0 <= min <= max"),
            *((0 <= getattr(self, share) <= 1, share, "must be a share between 0 and 1")
              for share in ("min_checked_share", "street_in_view_min",
                            "incidents_in_view_min", "car_beyond_red", "foot_beyond_amber")),
        ]
        for ok, field, message in checks:
            if not ok:
                raise InvalidInput(f"{field} {message}", field=field)

    @property
    def norms(self) -> Norms:
        return Norms(self.households_min, self.households_max, self.people_min,
                     self.people_max, self.stale_days, self.min_checked_share)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            households_min=self.households_min, households_max=self.households_max,
            stale_days=self.stale_days, people_min=self.people_min,
            people_max=self.people_max, street_in_view_min=self.street_in_view_min,
            incidents_in_view_min=self.incidents_in_view_min,
            car_beyond_red=self.car_beyond_red, foot_beyond_amber=self.foot_beyond_amber)
