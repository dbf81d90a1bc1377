"""Request and response models of the patrol-plan routes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from gridgis.gis.services.patrol_options import MAX_TARGETS, MAX_UNITS

from .analytics import Strict

API_MAX_SOLVE_S = 60.0


class TargetIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    risk: float = Field(default=1.0, gt=0, le=1e6)
    dwell_min: float | None = Field(default=None, ge=1, le=120)
    window: str | None = Field(default=None, pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$",
                               description="HH:MM-HH:MM local time: arrive within it")
    mandatory: bool = False


class PlanIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    date: dt.date | None = Field(default=None, description="the shift's date (default today)")
    shift: str = Field(default="08:00-16:00", pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$",
                       description="HH:MM-HH:MM local time; an end before the start is "
                                   "the next day")
    units: int = Field(default=3, ge=1, le=MAX_UNITS)
    mode: Literal["foot", "bike", "car"] = "foot"
    post: str | None = Field(default=None, max_length=200,
                             description="the post's name (default: the first post)")
    source: Literal["forecast", "gi", "list"] = "forecast"
    top: int = Field(default=30, ge=1, le=MAX_TARGETS)
    targets: list[TargetIn] = Field(default_factory=list, max_length=MAX_TARGETS)
    dwell_min: float = Field(default=12.0, ge=1, le=120)
    revisit_top: float = Field(default=0.2, ge=0, le=1)
    min_gap_min: float = Field(default=60.0, ge=5, le=600)
    break_min: float = Field(default=30.0, ge=0, le=120)
    seed: int | None = Field(default=None, ge=0, lt=2**62,
                             description="default: a new one (the plan records it)")
    time_limit_s: float = Field(default=10.0, ge=0.5, le=API_MAX_SOLVE_S)
    compare_s: float = Field(default=20.0, ge=0, le=API_MAX_SOLVE_S)
    tolerance: float = Field(default=0.02, ge=0, le=0.5,
                             description="a varied plan may collect this much less risk "
                                         "than the best found")


class PlanOut(Strict):
    id: int
    name: str
    status: Literal["solving", "ready", "failed"]
    failure: str | None
    planned_by: str | None
    scope: list[str]
    shift_start: str
    shift_end: str
    mode: str
    units: int
    post: str
    seed: int
    created_at: str
    finished_at: str | None
    parameters: dict[str, Any] | None = None
    result: dict[str, Any] | None = None


class PlanList(Strict):
    plans: list[PlanOut]
    numberMatched: int
    numberReturned: int
