"""Request and response models of draft-plan editing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from gridgis.gis.planning.reshape import DEFAULT_SLIVER_M2, DEFAULT_SNAP_M

from .analytics import Strict
from .geometry import LineStringIn, MultiPolygonIn, PolygonIn

Code = Annotated[str, Field(min_length=1, max_length=100)]


class _EditIn(Strict):
    snap_m: float = Field(default=DEFAULT_SNAP_M, ge=0, le=5, description=(
        "vertices this close to a neighbour's boundary are snapped onto it"))
    sliver_m2: float = Field(default=DEFAULT_SLIVER_M2, ge=0, le=1000, description=(
        "pieces smaller than this are drawing artefacts, not gaps or pieces of a grid"))


class SplitIn(_EditIn):
    op: Literal["split"]
    grid: Code
    geometry: LineStringIn = Field(description="the cut, drawn across the grid (WGS84)")
    new_codes: list[Code] | None = Field(default=None, max_length=20, description=(
        "codes of the new pieces (default: CODE-2, CODE-3…); the largest keeps CODE"))


class MergeIn(_EditIn):
    op: Literal["merge"]
    grids: list[Code] = Field(min_length=2, max_length=50)
    keep: Code | None = Field(default=None, description="the code the merged grid keeps "
                                                        "(default: the first)")


class ReassignIn(_EditIn):
    op: Literal["reassign"]
    grid: Code = Field(description="the grid that receives the area")
    geometry: Annotated[PolygonIn | MultiPolygonIn, Field(
        discriminator="type", description="the area (a street block, say): its land "
                                          "inside the grid's community moves to the grid")]


class RedrawIn(_EditIn):
    op: Literal["redraw"]
    grid: Code
    geometry: Annotated[PolygonIn | MultiPolygonIn, Field(
        discriminator="type", description="the grid's new outline: land it gains is taken "
                                          "from its neighbours, land it loses goes to them")]


EditIn = Annotated[SplitIn | MergeIn | ReassignIn | RedrawIn, Field(discriminator="op")]


class EditDone(Strict):
    id: int
    op: str
    summary: str
    changed: list[str]
    created: list[str]
    removed: list[str]


class Balance(Strict):
    grids: int
    households: int
    min: int
    max: int
    mean: float
    cv: float = Field(description="coefficient of variation of households per grid")
    workers: int
    worker_min: float | None
    worker_max: float | None
    worker_cv: float | None
    grids_without_worker: int
    grids_not_contiguous: int


class GridFigures(Strict):
    id: int
    code: str
    name: str | None
    community_code: str | None
    area_m2: float
    polsby_popper: float | None = Field(description="4πA/P²: 1 for a circle")
    parts: int
    contiguous: bool
    households: int
    people: int | None = Field(description="withheld (null) below the minimum count")
    special_groups: int | None
    places: int
    incidents: int = Field(description="in the last 365 days")


class GridFeature(Strict):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any]
    properties: GridFigures


class GridCollection(Strict):
    type: Literal["FeatureCollection"]
    features: list[GridFeature]


class EditOut(Strict):
    edit: EditDone
    grids: GridCollection = Field(description="the grids the edit changed or created")
    balance: Balance = Field(description="the whole draft's workload balance")


class FiguresOut(Strict):
    plan: int
    grids: GridCollection
    balance: Balance


class EditLogEntry(Strict):
    id: int
    op: str
    summary: str
    actor: str | None
    at: dt.datetime


class EditLog(Strict):
    items: list[EditLogEntry]


class Carried(Strict):
    new: str = Field(description="the new grid's code")
    old: str = Field(description="the grid of the plan in force it succeeds")
    workers: list[int] = Field(description="ids of the workers it takes over")


class Undecided(Strict):
    new: str
    candidates: list[str] = Field(description="grids of the plan in force it overlaps, "
                                              "most households first")


class HandoverOut(Strict):
    carried: list[Carried]
    undecided: list[Undecided]


class GridChange(Strict):
    code: str
    status: Literal["added", "removed", "changed", "unchanged"]
    area_a: float | None
    area_b: float | None
    households_a: int | None
    households_b: int | None


class Move(Strict):
    kind: Literal["people", "households", "places", "things", "incidents"]
    from_grid: str | None = Field(description="null: outside every grid of plan a")
    to_grid: str | None = Field(description="null: outside every grid of plan b")
    n: int | None = Field(description="withheld (null) for people under the minimum count")


class WorkerChange(Strict):
    worker_id: int
    grids_a: str
    grids_b: str
    households_a: float
    households_b: float
    change: float


class DiffOut(Strict):
    a: int
    b: int
    summary: dict[str, int | None] = Field(description="people_moved is withheld (null) "
                                                        "under the minimum count")
    grids: list[GridChange]
    moves: list[Move]
    workers: list[WorkerChange]
