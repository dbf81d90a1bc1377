"""Editing a draft plan: split, merge, reassign, redraw, undo; its live figures and
edit log. Every edit keeps the draft a partition or is refused (422) with the reason
and the offending geometry; every edit is audited."""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from gridgis.gis.access.aggregates import withhold_small
from gridgis.gis.access.audit import Entry, record
from gridgis.gis.access.principal import Principal
from gridgis.gis.drafts import require_plan
from gridgis.gis.errors import InvalidInput
from gridgis.gis.services.plan_diff import PlanDiff
from gridgis.gis.services.plan_editing import edit_outcome, scope_codes, visible_diff
from gridgis.gis.services.plan_edits import DraftEditor, Edit, Tolerances
from gridgis.gis.services.plan_edits import edit_log as plan_edits
from gridgis.gis.services.plan_reports import scoped_figures

from ..auth import allow
from ..deps import CatalogDep, ConnDep, LaneDep, PlanReportsDep, SettingsDep, StateDep
from ..geojson import csv_response
from ..models.common import ERRORS, media
from ..models.plans import (
    DiffOut,
    EditIn,
    EditLog,
    EditOut,
    FiguresOut,
    MergeIn,
    ReassignIn,
    RedrawIn,
    SplitIn,
)
from ..routing import StrictQueryRoute
from ..settings import Settings

router = APIRouter(prefix="/plans", tags=["plans"], route_class=StrictQueryRoute,
                   responses=ERRORS)
Editor = Annotated[Principal, Depends(allow("plans", "write"))]
Reader = Annotated[Principal, Depends(allow("plans", "read"))]
Format = Annotated[Literal["json", "csv"], Query(description="output format")]
TABLE = media("text/csv")


def _seen(state: StateDep, who: Principal, plan_ids: list[int]) -> set[str] | None:
    """404 for a missing plan, else the codes of the plans' grids the user may see (None:
    all); checked before an analysis is queued, in a short transaction of its own."""
    with state.database.engine.connect() as conn:
        for plan_id in plan_ids:
            require_plan(conn, plan_id)
        return scope_codes(conn, who.grid_ids, plan_ids)


def _seen_in_plan(plan_id: int, who: Reader, state: StateDep) -> set[str] | None:
    return _seen(state, who, [plan_id])


def _seen_in_pair(
        who: Reader, state: StateDep,
        a: Annotated[int, Query(ge=1, description="the plan before (usually the "
                                                   "published one)")],
        b: Annotated[int, Query(ge=1, description="the plan after (a draft)")]
) -> tuple[int, int, set[str] | None]:
    return a, b, _seen(state, who, [a, b])


SeenInPlan = Annotated[set[str] | None, Depends(_seen_in_plan)]
SeenInPair = Annotated[tuple[int, int, set[str] | None], Depends(_seen_in_pair)]


@router.post("/{plan_id:int}/edits", summary="Edit a draft plan", response_model=EditOut,
             description="One edit of a draft: `split` a grid along a drawn line, `merge` "
                         "neighbouring grids of one community, `reassign` an area (a "
                         "street block) to a grid, `redraw` a grid's outline (moving a "
                         "boundary). Land a grid gains is taken from its neighbours and "
                         "land it loses goes to the neighbour sharing most boundary, so "
                         "the draft stays a partition of each community; an edit that "
                         "would leave a gap, cross a community, cut a grid in pieces or "
                         "empty one is refused (422) with the offending `geometry`. "
                         "Answers the changed grids with their figures and the draft's "
                         "balance. Published and retired plans are read-only (409).")
def edit(plan_id: int, body: Annotated[EditIn, Body()], who: Editor,
         conn: ConnDep, catalog: CatalogDep, settings: SettingsDep) -> JSONResponse:
    editor = DraftEditor(conn, catalog.srid, plan_id, who.name, who.grid_ids,
                         Tolerances(body.snap_m, body.sliver_m2))
    done = _apply(editor, body)
    record(conn, who, Entry("update", "plans", record_ids=[plan_id],
                            detail=f"{done.op}: {done.summary}"))
    return _outcome(conn, plan_id, done, who, settings.auth.min_count)


def _apply(editor: DraftEditor, body: object) -> Edit:
    match body:
        case SplitIn():
            return editor.split(body.grid, body.geometry.model_dump(exclude_none=True),
                                body.new_codes)
        case MergeIn():
            return editor.merge(body.grids, body.keep)
        case ReassignIn():
            return editor.reassign(body.grid, body.geometry.model_dump(exclude_none=True))
        case RedrawIn():
            return editor.redraw(body.grid, body.geometry.model_dump(exclude_none=True))
    raise AssertionError(f"unhandled edit {body!r}")


@router.post("/{plan_id:int}/undo", summary="Undo a draft's last edit",
             response_model=EditOut,
             description="Restores the grids as they were before the draft's last edit "
                         "(repeat to go further back); 409 when there is nothing to undo.")
def undo(plan_id: int, who: Editor, conn: ConnDep, catalog: CatalogDep,
         settings: SettingsDep) -> JSONResponse:
    done = DraftEditor(conn, catalog.srid, plan_id, who.name, who.grid_ids).undo()
    record(conn, who, Entry("update", "plans", record_ids=[plan_id], detail=done.summary))
    return _outcome(conn, plan_id, done, who, settings.auth.min_count)


@router.get("/{plan_id:int}/figures", summary="A plan's live figures",
            response_model=FiguresOut,
            description="Per grid: households, people, special-group residents, places, "
                        "incidents of the last 365 days, area, Polsby-Popper compactness "
                        "and contiguity; and the workload balance of the plan (households "
                        "per grid and per primary worker: min, max, coefficient of "
                        "variation). A draft's grids count what lies in them by location. "
                        "Counts of people under the minimum count are withheld.")
async def figures(plan_id: int, who: Reader, codes: SeenInPlan, lane: LaneDep,
                  reports: PlanReportsDep, settings: SettingsDep) -> JSONResponse:
    def answer() -> JSONResponse:
        features, balance = scoped_figures(reports.figures(plan_id), codes)
        for feature in features:
            feature["properties"] = withhold_small(feature["properties"], who,
                                                   settings.auth.min_count)
        return JSONResponse(jsonable_encoder({
            "plan": plan_id, "grids": {"type": "FeatureCollection", "features": features},
            "balance": balance}))
    return await lane.run(answer)


@router.get("/{plan_id:int}/edits", summary="A draft's edit log", response_model=EditLog,
            description="The draft's edits, newest first (the one undo restores first).")
def edit_log(plan_id: int, who: Reader, conn: ConnDep) -> JSONResponse:
    require_plan(conn, plan_id)
    return JSONResponse(jsonable_encoder({"items": plan_edits(conn, plan_id)}))


def _outcome(conn: sa.Connection, plan_id: int, done: Edit, who: Principal,
             min_count: int) -> JSONResponse:
    outcome = edit_outcome(conn, plan_id, done, who.grid_ids)
    for feature in outcome["grids"]["features"]:
        feature["properties"] = withhold_small(feature["properties"], who, min_count)
    return JSONResponse(jsonable_encoder(outcome))


@router.get("/diff", summary="The difference between two plans", response_model=DiffOut,
            responses=TABLE,
            description="Grids added, removed and changed (matched by code); how many "
                        "people, households, places, things and incidents would change "
                        "grid, from which grid to which; each worker's grids and "
                        "households (a grid's shared among its primary workers) in plan a "
                        "and plan b. `f=csv` with `part=grids|moves|workers` for one "
                        "table as CSV.")
async def diff(who: Reader, pair: SeenInPair, lane: LaneDep, reports: PlanReportsDep,
               settings: SettingsDep, f: Format = "json",
               part: Annotated[Literal["grids", "moves", "workers"] | None, Query(
                   description="the table `f=csv` returns")] = None) -> Response:
    if (f == "csv") != (part is not None):
        raise InvalidInput("part goes with f=csv (and f=csv needs part)", field="part")
    a, b, codes = pair

    def answer() -> Response:
        return _diff_response(visible_diff(reports.diff(a, b), codes), who, settings, a, b,
                              part)
    return await lane.run(answer)


def _diff_response(found: PlanDiff, who: Principal, settings: Settings, a: int, b: int,
                   part: str | None) -> Response:
    moves = found.moves.astype(object).where(found.moves.notna(), None).to_dict("records")
    withheld = False
    for move in moves:
        if move["kind"] == "people":
            shown = withhold_small({"people": move["n"]}, who,
                                   settings.auth.min_count)["people"]
            withheld = withheld or (shown is None and move["n"] is not None)
            move["n"] = shown
    tables = {"grids": found.grids.astype(object).where(found.grids.notna(), None)
              .to_dict("records"), "moves": moves,
              "workers": found.workers.to_dict("records")}
    if part is not None:
        return csv_response(tables[part], f"plans-{a}-{b}-{part}.csv")
    summary: dict[str, int | None] = dict(found.summary())
    summary["people_moved"] = None if withheld else withhold_small(
        {"people": summary["people_moved"]}, who, settings.auth.min_count)["people"]
    return JSONResponse(jsonable_encoder({"a": a, "b": b, "summary": summary, **tables}))
