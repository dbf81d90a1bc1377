"""A shift's patrol problem: the targets with their risk, dwell and time windows, the
units with their post, shift and break, and the minutes between every two places.

Times are minutes from the start of the shift. Each target may be visited more than
once when its risk is high (a *revisit*, at least ``min_gap_min`` after the visit
before and worth ``revisit_value`` of the first); a revisit is a copy of the target in
the solver's graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Target:
    name: str
    x: float
    y: float
    risk: float  # its weight: forecast risk, Gi* z or a hand-set value (> 0)
    dwell_min: float = 12.0  # Koper: stops of about 10-15 minutes deter best
    window: tuple[float, float] | None = None  # arrive within (minutes into the shift)
    mandatory: bool = False  # must be visited (in its window)
    visits: int = 1  # at most this many visits (revisits of high-risk places)
    cell: str | None = None  # the hotspot cell it stands for, if any


@dataclass(frozen=True)
class Break:
    duration_min: float = 30.0
    earliest_min: float = 180.0  # the break starts between these two
    latest_min: float = 300.0


@dataclass(frozen=True)
class PatrolProblem:
    targets: tuple[Target, ...]
    post: tuple[float, float]  # every unit starts and ends here
    units: int
    shift_min: float
    travel: np.ndarray = field(repr=False)  # minutes, (1 + k) squared: post first
    min_gap_min: float = 60.0  # between two visits of the same target
    revisit_value: float = 0.5  # a revisit's worth, as a share of the first visit's
    unit_break: Break | None = None

    def __post_init__(self) -> None:
        k = len(self.targets)
        if self.travel.shape != (k + 1, k + 1):
            raise ValueError(f"travel must be {k + 1} x {k + 1} (the post, then the "
                             f"targets), not {self.travel.shape}")
        if self.units < 1:
            raise ValueError("at least one unit")
        if self.shift_min <= 0:
            raise ValueError("the shift must last some time")

    @property
    def total_risk(self) -> float:
        return float(sum(t.risk for t in self.targets))


@dataclass
class Stop:
    target: int  # index into the problem's targets
    visit: int  # 1 for the first visit, 2 for a revisit, ...
    arrive_min: float
    depart_min: float
    value: float  # risk collected by this visit


@dataclass
class UnitRoute:
    unit: int
    stops: list[Stop]
    return_min: float  # back at the post
    travel_min: float
    break_start_min: float | None = None

    @property
    def value(self) -> float:
        return float(sum(s.value for s in self.stops))


@dataclass
class PlanResult:
    routes: list[UnitRoute]
    method: str  # "solver", "naive" ...
    seed: int | None = None
    solve_s: float = 0.0
    dropped_mandatory: list[int] = field(default_factory=list)
    solves: int = 1  # restarts done
    capped: bool = False  # the wall-clock cap cut the search short: not reproducible

    @property
    def value(self) -> float:
        """Risk-weighted presence collected: every visit's risk (revisits at their
        reduced worth)."""
        return float(sum(r.value for r in self.routes))

    def targets_covered(self) -> set[int]:
        return {s.target for r in self.routes for s in r.stops}

    def risk_share(self, problem: PatrolProblem) -> float:
        """The share of the targets' total risk that some unit visits."""
        total = problem.total_risk
        covered = sum(problem.targets[i].risk for i in self.targets_covered())
        return covered / total if total else 0.0
