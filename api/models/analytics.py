"""Response models of the grid, statistics and hotspot routes."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from geojson_pydantic import MultiPolygon, Polygon
from pydantic import BaseModel, ConfigDict, Field, create_model


class Strict(BaseModel):
    """A model that names every field the service sends (tests validate real answers
    against it, so a field added or dropped without the document shows up)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

# -- grids -----------------------------------------------------------------------------


class GridWorker(Strict):
    id: int
    name: str
    employee_no: str | None = None
    role: Literal["primary", "secondary"]


class GridAt(Strict):
    """The published grid at a location, its place in the hierarchy and its workers."""

    id: int
    code: str
    name: str | None
    plan: str
    community_id: int | None
    community_code: str | None
    community: str | None
    subdistrict_id: int | None
    subdistrict_code: str | None
    subdistrict: str | None
    district_id: int | None
    district_code: str | None
    district: str | None
    workers: list[GridWorker]
    # with ``date``: the plan that was published then, and its period
    plan_state: str | None = None
    plan_valid_from: datetime | None = None
    plan_valid_to: datetime | None = None


class GridSummary(Strict):
    grid_id: int
    code: str
    name: str | None
    start: dt.datetime | None
    end: dt.datetime | None
    people: dict[str, int] = Field(description="total, registered, floating and a count "
                                               "per special group")
    households: int
    buildings: int
    places: dict[str, int] = Field(description="places per category")
    things: dict[str, int] = Field(description="things per type")
    organisations: int
    incidents: dict[str, int] = Field(description="incidents per category in the period")
    workers: list[dict[str, Any]]


class Assignment(Strict):
    worker_id: int
    role: Literal["primary", "secondary"] = "primary"


# -- statistics ------------------------------------------------------------------------


class GridStatsRow(Strict):
    id: int
    code: str
    name: str | None
    community_code: str | None
    community: str | None
    subdistrict_code: str | None
    subdistrict: str | None
    area_m2: float
    people: int
    floating: int
    special_groups: int
    households: int
    buildings: int
    places: int
    high_risk_places: int
    things: int
    cameras: int
    cameras_offline: int
    incidents: int
    incidents_per_1000: float | None
    workers: int
    worker_names: str | None


class GridStats(Strict):
    items: list[GridStatsRow]
    numberReturned: int


class RankingRow(Strict):
    rank: int
    id: int
    code: str
    name: str | None
    incidents: int
    previous: int
    change: int
    hotspot_class: int = Field(description="Gi* class on the grids: ±90/95/99, 0")
    emerging: str = Field(description="emerging-hotspot pattern over the monthly bins")
    change_pct: float | None
    start: dt.datetime
    end: dt.datetime


class Ranking(Strict):
    items: list[RankingRow]
    numberReturned: int


# -- hotspots --------------------------------------------------------------------------

class UnitProperties(Strict):
    """A unit of analysis: a lattice cell (``cell``) or a grid (``id``, ``name``)."""

    code: str
    cell: int | None = None
    id: int | None = None
    name: str | None = None


class GiProperties(UnitProperties):
    incidents: int
    z: float | None = Field(description="null where Gi* is undefined: a unit whose "
                                        "neighbourhood is every unit")
    p: float | None = Field(description="two-sided, normal approximation")
    p_sim: float | None = Field(None, description="two-sided pseudo p-value (permutations)")
    class_: int = Field(alias="class", description="+99/+95/+90 hot, negative cold, 0")


class EmergingProperties(UnitProperties):
    pattern: str
    hot_bins: int
    cold_bins: int
    final_state: int
    trend_z: float
    trend_p: float
    incidents: int


class ForecastProperties(UnitProperties):
    score: float
    top_area_share: float = Field(description="share of the area ranked at or above it")


class AreaProperties(Strict):
    incidents: int
    share: float
    area_m2: float
    peak_class: int
    grids: list[str]
    communities: list[str]
    peak_hours: list[int]
    peak_weekdays: list[int] = Field(description="0 = Monday")


def collection(name: str, properties: type[BaseModel]) -> type[BaseModel]:
    """A GeoJSON FeatureCollection model of polygons with these properties."""
    fields: dict[str, Any] = {"__config__": ConfigDict(extra="forbid"),
                              "type": (Literal["Feature"], ...),
                              "id": (int | str | None, None),
                              "geometry": (Polygon | MultiPolygon, ...),
                              "properties": (properties, ...)}
    feature: Any = create_model(f"{name}Feature", **fields)
    listing: dict[str, Any] = {"__config__": ConfigDict(extra="forbid"),
                               "type": (Literal["FeatureCollection"], ...),
                               "features": (list[feature], ...)}
    return create_model(f"{name}Collection", **listing)


GiCollection = collection("Gi", GiProperties)
AreasCollection = collection("HotspotArea", AreaProperties)
EmergingCollection = collection("Emerging", EmergingProperties)
ForecastCollection = collection("Forecast", ForecastProperties)


class KnoxRow(Strict):
    distance_from: float
    distance_to: float
    days_from: float
    days_to: float
    observed: int
    expected: float
    ratio: float | None
    p: float


class Elevated(Strict):
    distance_m: float
    days: float


class NearRepeatResult(Strict):
    table: list[KnoxRow]
    elevated: Elevated | None
    zones: dict[str, Any] | None = Field(description="GeoJSON FeatureCollection of risk "
                                                     "zones, each with incidents and until")


class BacktestRow(Strict):
    method: Literal["blended", "ewma", "counts_all", "counts_3y", "counts_1y",
                    "last_period", "kde", "oracle"]
    coverage: float = Field(description="share of the study area flagged (an area "
                                        "budget: the last cell counts in part)")
    area_share: float
    hit_rate: float
    pai: float
    pei: float = Field(description="hit rate / the oracle's at the same area (at most 1)")
    parameters: dict[str, float | None] = Field(
        description="what was tuned inside the training window (half_life_days null: "
                    "no decay)")
    incidents: int
    units: int = Field(description="units in the study area")
    area_km2: float = Field(description="the study area scored")
    study_area: str = Field(description="what the study area is")


class Backtest(Strict):
    ranked_by: Literal["density"] = Field(
        description="cells are ranked by expected incidents per km²")
    rows: list[BacktestRow]
