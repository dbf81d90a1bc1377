"""Response models of the blind-spot routes. The scorecard row is built from the
scorecard's rules, so that a measure added to the rules is documented here too."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, create_model

from gridgis.gis.blindspots.scorecard import Thresholds

from .analytics import Strict

Status = Literal["green", "amber", "red", "none"]
MEASURES = {rule.measure: rule for rule in Thresholds().rules()}
INFORMATION = ("holes", "households", "people", "unwatched_special", "checked_share",
               "incidents", "hot_cells", "households_per_worker")

ScorecardRow = create_model(  # type: ignore[call-overload]
    "ScorecardRow", __base__=Strict,
    id=(int, ...), code=(str, ...), community=(str | None, None),
    subdistrict=(str | None, None),
    neglected_incidents=(int | None, Field(description="incidents in hotspot cells that no "
                                                       "camera sees or no patrol visited "
                                                       "lately (null for roles that may "
                                                       "not read hotspots)")),
    status=(Status, Field(description="the worst status of the grid's measures")),
    **{name: (float | None, Field(None, description=f"{rule.label[1]} ({rule.kind}); "
                                                   f"{rule.text()}"))
       for name, rule in MEASURES.items()},
    **{f"{name}_status": (Status, ...) for name in MEASURES},
    **{name: (float | None, None) for name in INFORMATION},
)


class RollUpRow(Strict):
    code: str
    grids: int
    green: int
    amber: int
    red: int
    status: Status
    gap_m2: float | None = None
    overlap_m2: float | None = None
    dead_corners: float | None = None
    unpatrolled_hotspots: float | None = None
    neglected_incidents: float | None = None
    unwatched_special: float | None = None


class RuleRow(Strict):
    measure: str
    kind: Literal["coverage", "responsibility", "cameras", "reach", "patrol"]
    label_zh: str
    label_en: str
    rule: str


class Scorecard(Strict):
    plan: str
    coverage_problem: str | None = Field(description="gaps or overlaps that stop the plan "
                                                     "from being published")
    outside: dict[str, int] = Field(description="entities in no grid of the plan, per kind")
    rules: list[RuleRow]
    grids: list[ScorecardRow]  # type: ignore[valid-type]
    communities: list[RollUpRow]
    subdistricts: list[RollUpRow]


class Feature(Strict):
    type: Literal["Feature"]
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class LayerCollection(Strict):
    """GeoJSON in WGS84; each feature's ``layer`` property says what it is."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    summary: dict[str, Any] = Field(default_factory=dict)


class WorkerLoad(Strict):
    worker_id: int
    name: str | None = None
    employee_no: str | None = None
    grids: list[str]
    households: float
    people: float | None = None
    households_status: Literal["under", "ok", "over"]
    people_status: Literal["under", "ok", "over"]


class Responsibility(Strict):
    plan: str
    grids: list[dict[str, Any]]
    workers: list[WorkerLoad]
