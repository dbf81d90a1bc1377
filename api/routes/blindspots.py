"""The blind-spot audit over HTTP: the scorecard, and each kind of blind spot as map
layers. Everything goes through the app's blind-spot service (cached per options and
data versions, computed in the analysis workers); a user with a scope sees only their
grids, counts of people below the threshold are withheld from those who may not see
people, and layers made of hotspot cells need the right to read hotspots."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Annotated

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gridgis.gis.access import aggregates, audit
from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import Forbidden
from gridgis.gis.services.blindspot_options import MAX_SITES, AuditOptions
from gridgis.gis.services.blindspot_report import coverage_problem, rows, visible_scorecard

from ..auth import allow
from ..deps import BlindSpotsDep, KeepDep, LaneDep, SettingsDep, StateDep
from ..geojson import GeoJSONResponse
from ..models.blindspots import LayerCollection, Responsibility, Scorecard
from ..models.common import ERRORS
from ..routing import StrictQueryRoute
from .hotspots import read_scope_area

router = APIRouter(prefix="/blindspots", tags=["blind spots"], route_class=StrictQueryRoute,
                   responses=ERRORS)
Who = Annotated[Principal, Depends(allow("blindspots"))]
CSV = "text/csv; charset=utf-8"


async def audit_options(
    who: Who,
    plan: Annotated[str | None, Query(max_length=200, description="plan name (default: "
                                                                  "the published plan)")] = None,
    sliver_m2: Annotated[float, Query(ge=0, le=1e6, description="smaller gaps and overlaps "
                                                               "are slivers")] = 10.0,
    households_min: Annotated[float, Query(ge=0, le=1e5)] = 300,
    households_max: Annotated[float, Query(ge=0, le=1e5)] = 500,
    stale_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    foot_min: Annotated[float, Query(gt=0, le=240, description="walking threshold, "
                                                               "minutes")] = 10.0,
    car_min: Annotated[float, Query(gt=0, le=240, description="driving threshold, "
                                                              "minutes")] = 5.0,
    hot_class: Annotated[int, Query(description="weakest Gi* class of a hotspot cell",
                                    json_schema_extra={"enum": [90, 95, 99]})] = 95,
    months: Annotated[int, Query(ge=1, le=120, description="incidents and hotspots: "
                                                           "months back")] = 12,
    presence_days: Annotated[int, Query(ge=1, le=366)] = 28,
    recent_days: Annotated[int, Query(ge=1, le=366)] = 7,
    sites: Annotated[int, Query(ge=0, le=MAX_SITES, description="new camera sites to "
                                                               "suggest")] = 10,
    site_range_m: Annotated[float, Query(ge=5, le=500)] = 30.0,
    people_min: Annotated[float | None, Query(ge=0, le=1e6)] = None,
    people_max: Annotated[float | None, Query(ge=0, le=1e6)] = None,
    min_checked_share: Annotated[float, Query(ge=0, le=1)] = 0.0,
    street_in_view_min: Annotated[float, Query(ge=0, le=1)] = 0.2,
    incidents_in_view_min: Annotated[float, Query(ge=0, le=1)] = 0.2,
    car_beyond_red: Annotated[float, Query(ge=0, le=1)] = 0.1,
    foot_beyond_amber: Annotated[float, Query(ge=0, le=1)] = 0.25,
) -> AuditOptions:
    if who.scoped and plan is not None:
        raise Forbidden("a user limited to some grids audits the published plan only",
                        field="plan")
    return AuditOptions(plan, None, sliver_m2, households_min, households_max,
                        stale_days, foot_min, car_min, hot_class, months, presence_days,
                        recent_days, sites, site_range_m, people_min, people_max,
                        min_checked_share, street_in_view_min, incidents_in_view_min,
                        car_beyond_red, foot_beyond_amber)


OptionsDep = Annotated[AuditOptions, Depends(audit_options)]


async def community_options(options: OptionsDep,
                      community: Annotated[str | None, Query(
                          max_length=100, description="only this community (area code)")]
                      = None) -> AuditOptions:
    return replace(options, community=community)


CommunityOptionsDep = Annotated[AuditOptions, Depends(community_options)]


async def scope_area(who: Who, state: StateDep) -> shapely.Geometry | None:
    if who.grid_ids is None:
        return None
    return await run_in_threadpool(read_scope_area, state, who)


ScopeDep = Annotated[shapely.Geometry | None, Depends(scope_area)]


LayerFormat = Annotated[str, Query(pattern="^(geojson|csv)$",
                                   description="geojson: the layers; csv: the measures per "
                                               "grid")]


def _grid_csv(frame: pd.DataFrame, who: Principal, service, options: AuditOptions
              ) -> Response:
    """The per-grid table of a kind as CSV, only the user's grids when scoped."""
    if who.grid_ids is not None:
        grids = service.grids(options)
        frame = frame[frame["code"].isin(set(grids.loc[grids["id"].isin(who.grid_ids),
                                                       "code"]))]
    buffer = io.StringIO()
    pd.DataFrame(rows(frame), columns=frame.columns).to_csv(buffer, index=False)
    return Response(buffer.getvalue(), media_type=CSV)


def _needs_hotspots(who: Principal) -> None:
    if not who.may("read", "hotspots"):
        raise Forbidden("this layer shows hotspot cells, which your roles may not read")


@router.get("/scorecard", summary="The blind-spot scorecard", response_model=Scorecard,
            responses={200: {"content": {CSV: {}}}},
            description="Per grid of the plan: every blind-spot measure, a traffic light "
                        "per measure with the rule that set it, the overall status, worst "
                        "first; roll-ups per community and subdistrict. `f=csv` gives the "
                        "grid rows as CSV.")
async def scorecard(who: Who, lane: LaneDep, keep: KeepDep, service: BlindSpotsDep,
                    options: CommunityOptionsDep,
                    settings: SettingsDep,
                    f: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    def answer() -> Response:
        card = service.scorecard(options)
        coverage = service.coverage(options)
        grids = visible_scorecard(card.grids, who)
        min_count = settings.auth.min_count
        grid_rows = [aggregates.withhold_small(r, who, min_count) for r in rows(grids)]
        if f == "csv":
            buffer = io.StringIO()
            pd.DataFrame(grid_rows, columns=grids.columns).to_csv(buffer, index=False)
            return Response(buffer.getvalue(), media_type=CSV)
        scoped = who.grid_ids is not None
        return JSONResponse({
            "plan": card.plan, "coverage_problem": coverage_problem(coverage.coverage),
            "outside": {} if scoped else coverage.outside_counts, "rules": card.rules,
            "grids": grid_rows,
            "communities": [aggregates.withhold_small(r, who, min_count)
                            for r in rows(card.communities)] if not scoped else [],
            "subdistricts": [aggregates.withhold_small(r, who, min_count)
                             for r in rows(card.subdistricts)] if not scoped else []})
    return await keep(lambda: lane.run(answer))


@router.get("/coverage", response_class=GeoJSONResponse,
            summary="Coverage of a plan", response_model=LayerCollection,
            responses={200: {"content": {CSV: {}}}},
            description="Uncovered areas (`layer`: gap) and overlaps (overlap) with their "
                        "area and whether they are slivers, and entities in no grid "
                        "(outside) with the nearest grid. People and households are listed "
                        "only to roles that see them, and those reads are audited.")
async def coverage(who: Who, lane: LaneDep, service: BlindSpotsDep,
                   options: CommunityOptionsDep,
                   area: ScopeDep, state: StateDep, f: LayerFormat = "geojson") -> Response:
    def answer() -> Response:
        report = service.coverage(options)
        if f == "csv":
            return _grid_csv(report.coverage.grids, who, service, options)
        gaps = report.coverage.gaps.assign(layer="gap")
        overlaps = report.coverage.overlaps.assign(layer="overlap")
        outside = report.outside
        personal = [k for k in ("people", "households") if not who.sees_personal(k)]
        outside = outside[~outside["kind"].isin(personal)]
        points = gpd.GeoDataFrame(outside.drop(columns=["x", "y"]).assign(layer="outside"),
                                  geometry=gpd.points_from_xy(outside["x"], outside["y"]),
                                  crs=service.srid)
        if area is not None:  # what lies outside every grid lies outside the scope too
            points = points.iloc[0:0]
        _audit_reads(state, who, {kind: points.loc[points["kind"] == kind, "id"]
                                  .astype(int).tolist() for kind in set(points["kind"])})
        summary = {"plan": report.plan.name, "region_m2": report.coverage.region_m2,
                   "covered_m2": report.coverage.covered_m2,
                   "gap_m2": report.coverage.gap_m2, "overlap_m2": report.coverage.overlap_m2,
                   "outside": {} if area is not None else report.outside_counts,
                   "problem": coverage_problem(report.coverage)}
        return _layers([gaps, overlaps, points], area, summary)
    return await lane.run(answer)  # not kept: every reader's read of people is audited


def _audit_reads(state, who: Principal, kind_ids: dict[str, list[int]]) -> None:
    """Record the reads of rows whose reads are audited (people, workers, incidents...)."""
    entries = [audit.read_entry(kind, who, ids) for kind, ids in kind_ids.items()
               if ids and who.audited_read(kind)]
    if entries:
        with state.database.engine.begin() as conn:
            for entry in entries:
                audit.record(conn, who, entry)


@router.get("/responsibility", summary="Responsibility per grid and worker",
            response_model=Responsibility,
            description="Per grid: active workers, households per worker, special-group "
                        "residents in grids with no worker, days since the last visit or "
                        "verification, share of households checked; per worker: load "
                        "against the norm. `f=csv` gives the grid rows.")
async def responsibility(who: Who, lane: LaneDep, service: BlindSpotsDep,
                         options: OptionsDep, settings: SettingsDep, state: StateDep,
                         f: Annotated[str, Query(pattern="^(json|csv)$")] = "json"
                         ) -> Response:
    def answer() -> Response:
        report = service.responsibility(options)
        grids, workers = report.grids, report.workers
        if who.grid_ids is not None:
            grids = grids[grids["id"].isin(who.grid_ids)]
            codes = set(grids["code"])
            workers = workers[workers["grids"].map(lambda g: bool(set(g) & codes))]
        grid_rows = [aggregates.withhold_small(r, who, settings.auth.min_count)
                     for r in rows(grids)]
        if f == "csv":
            buffer = io.StringIO()
            pd.DataFrame(grid_rows, columns=grids.columns).to_csv(buffer, index=False)
            return Response(buffer.getvalue(), media_type=CSV)
        if who.may("read", "workers"):
            _audit_reads(state, who, {"workers": workers["worker_id"].astype(int).tolist()})
        else:
            workers = workers.drop(columns=["name", "employee_no"])
        worker_rows = [aggregates.withhold_small(r, who, settings.auth.min_count)
                       for r in rows(workers)]
        return JSONResponse({"plan": report.plan, "grids": grid_rows,
                             "workers": worker_rows})
    return await lane.run(answer)  # not kept: every reader's read of workers is audited


@router.get("/cameras", response_class=GeoJSONResponse,
            summary="Camera views, dead corners and suggested sites",
            response_model=LayerCollection, responses={200: {"content": {CSV: {}}}},
            description="Each online camera's view cut by buildings (`layer`: view), "
                        "hotspot cells no camera sees (dead_corner) and the suggested new "
                        "sites (site) with the incidents each newly covers (gain).")
async def cameras(who: Who, lane: LaneDep, keep: KeepDep, service: BlindSpotsDep,
                  options: OptionsDep, area: ScopeDep, f: LayerFormat = "geojson") -> Response:
    _needs_hotspots(who)

    def answer() -> Response:
        report = service.cameras(options)
        if f == "csv":
            return _grid_csv(report.grids, who, service, options)
        summary = {"cameras_online": len(report.views),
                   "sites": [{"rank": int(r), "gain": float(g)} for r, g in
                             zip(report.sites["rank"], report.sites["gain"], strict=True)]}
        return _layers([report.views.assign(layer="view"),
                        report.dead_corners.assign(layer="dead_corner"),
                        report.sites.assign(layer="site")], area, summary)
    return await keep(lambda: lane.run(answer))


@router.get("/reach", response_class=GeoJSONResponse,
            summary="Travel time from posts to every street",
            response_model=LayerCollection, responses={200: {"content": {CSV: {}}}},
            description="Every street (`layer`: street) with the minutes on foot and by car "
                        "from the nearest police post or patrol base (null: beyond four "
                        "times the threshold or unreachable), and the posts (post).")
async def reach(who: Who, lane: LaneDep, keep: KeepDep, service: BlindSpotsDep, options: OptionsDep,
                area: ScopeDep, f: LayerFormat = "geojson") -> Response:
    def answer() -> Response:
        report = service.reach(options)
        if f == "csv":
            return _grid_csv(report.grids, who, service, options)
        streets = report.streets.assign(layer="street")
        summary = {"posts": len(report.posts), "network_pieces": report.pieces,
                   "foot_min": options.foot_min, "car_min": options.car_min}
        return _layers([streets, report.posts.assign(layer="post")], area, summary)
    return await keep(lambda: lane.run(answer))


@router.get("/patrol", response_class=GeoJSONResponse,
            summary="Patrol presence at hotspots", response_model=LayerCollection,
            responses={200: {"content": {CSV: {}}}},
            description="Hotspot cells (`layer`: hotspot) ranked by Gi* z with the minutes "
                        "of patrol presence per week and the last fix; "
                        "`patrolled_recently` false marks an unpatrolled hotspot.")
async def patrol(who: Who, lane: LaneDep, keep: KeepDep, service: BlindSpotsDep,
                 options: OptionsDep, area: ScopeDep, f: LayerFormat = "geojson") -> Response:
    _needs_hotspots(who)

    def answer() -> Response:
        report = service.patrol(options)
        if f == "csv":
            return _grid_csv(report.grids, who, service, options)
        return _layers([report.cells.assign(layer="hotspot")], area,
                       {"has_patrol_data": report.has_data})
    return await keep(lambda: lane.run(answer))


def _layers(frames: list[gpd.GeoDataFrame], area: shapely.Geometry | None,
            summary: dict) -> Response:
    import json

    features = []
    for frame in frames:
        if frame.empty:
            continue
        frame = frame.to_crs(4326)
        if area is not None:
            frame = frame[frame.intersects(area)]
        for column in frame.columns:
            if pd.api.types.is_float_dtype(frame[column]):  # JSON has no infinity
                frame[column] = frame[column].where(np.isfinite(frame[column]))
            elif pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].map(
                    lambda t: None if pd.isna(t) else t.isoformat())
        features += json.loads(frame.to_json(drop_id=True, na="null"))["features"]
    return GeoJSONResponse({"type": "FeatureCollection", "features": features,
                            "summary": summary})

