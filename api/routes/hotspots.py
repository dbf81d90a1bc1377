"""Hotspot analytics over HTTP: Gi*, hotspot areas, emerging hotspots, near repeats,
forecasts and backtests, all through the app's hotspot service (cached per parameter
set and data version; every computation bounded: permutations, time bins, incidents)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gridgis.gis.access import aggregates
from gridgis.gis.access.principal import Principal
from gridgis.gis.errors import InvalidInput
from gridgis.gis.hotspots.accuracy import RANKED_BY
from gridgis.gis.hotspots.defaults import (
    DEFAULT_BAND_M,
    DEFAULT_CELL_M,
    MAX_BAND_M,
    MAX_CELL_M,
    MIN_BAND_M,
    MIN_CELL_M,
)
from gridgis.gis.hotspots.near_repeat import DEFAULT_DISTANCE_BANDS, DEFAULT_TIME_BANDS
from gridgis.gis.services.hotspot_inputs import Selection
from gridgis.gis.services.hotspots import MAX_PERMUTATIONS, BacktestWindow
from gridgis.gis.services.study_area import StudyArea
from gridgis.gis.times import required_instant
from gridgis.gis.versions import MAP_TABLES

from ..auth import allow
from ..deps import CategoriesDep, HotspotsDep, KeepDep, LaneDep, StateDep, TimeRangeDep
from ..geojson import GEOJSON, GeoJSONResponse
from ..models.analytics import (
    AreasCollection,
    Backtest,
    EmergingCollection,
    ForecastCollection,
    GiCollection,
    NearRepeatResult,
)
from ..models.common import ERRORS
from ..routing import StrictQueryRoute
from ..state import AppState

router = APIRouter(prefix="/hotspots", tags=["hotspots"], route_class=StrictQueryRoute,
                   responses=ERRORS)


async def scope_area(who: Annotated[Principal, Depends(allow("hotspots"))],
                     state: StateDep) -> shapely.Geometry | None:
    """Where the user's scope lies (None: no scope); results are limited to it."""
    if who.grid_ids is None:
        return None
    return await run_in_threadpool(read_scope_area, state, who)


def read_scope_area(state: AppState, who: Principal) -> shapely.Geometry:
    with state.database.engine.connect() as conn:
        return aggregates.scope_area(conn, who)


ScopeDep = Annotated[shapely.Geometry | None, Depends(scope_area)]


async def selection(time_range: TimeRangeDep, categories: CategoriesDep,
              unit: Annotated[Literal["lattice", "grids"], Query(
                  description="fine lattice clipped to the district, or the grids")]
              = "lattice",
              cell: Annotated[float, Query(ge=MIN_CELL_M, le=MAX_CELL_M,
                                           description="lattice cell, m")] = DEFAULT_CELL_M,
              shape: Annotated[Literal["hex", "square"], Query(
                  description="lattice cell shape")] = "hex",
              weights: Annotated[Literal["contiguity", "distance"], Query(
                  description="queen contiguity, or a distance band between centroids")]
              = "contiguity",
              band: Annotated[float, Query(ge=MIN_BAND_M, le=MAX_BAND_M,
                                           description="distance band, m")] = DEFAULT_BAND_M,
              ) -> Selection:
    return Selection(unit, cell, categories, time_range.start, time_range.end, shape,
                     weights, band)


SelectionDep = Annotated[Selection, Depends(selection)]
Permutations = Annotated[int, Query(ge=0, le=MAX_PERMUTATIONS,
                                    description="conditional permutations for p_sim")]
Seed = Annotated[int, Query(ge=0, description="random seed of the permutations")]


def _features(frame: gpd.GeoDataFrame, area: shapely.Geometry | None) -> Response:
    return Response(_within(frame, area).to_json(drop_id=True), media_type=GEOJSON)


def _within(frame: gpd.GeoDataFrame, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    """The units in WGS84, only those touching ``area`` if given."""
    frame = frame.to_crs(4326)
    return frame if area is None else frame[frame.intersects(area)]


@router.get("/gi", summary="Getis-Ord Gi* hot and cold spots", response_model=GiCollection,
            response_class=GeoJSONResponse,
            description="Per unit: incidents, z, two-sided p (and p_sim with permutations), "
                        "class ±90/95/99 after false-discovery-rate correction.")
async def gi(area: ScopeDep, lane: LaneDep, hotspots: HotspotsDep, sel: SelectionDep,
             keep: KeepDep, permutations: Permutations = 0, seed: Seed = 0) -> Response:
    return await keep(lambda: lane.run(
        lambda: _features(hotspots.gi(sel, permutations, seed), area)), MAP_TABLES)


@router.get("/areas", summary="Hotspot areas", response_model=AreasCollection,
            response_class=GeoJSONResponse,
            description="Touching significant hot units merged, with incidents, share, "
                        "area, grids, communities, peak hours and weekdays.")
async def areas(area: ScopeDep, lane: LaneDep, hotspots: HotspotsDep, sel: SelectionDep,
                keep: KeepDep,
          min_class: Annotated[int, Query(description="weakest hot class merged: 90, 95 "
                                                      "or 99",
                                          json_schema_extra={"enum": [90, 95, 99]})] = 95
          ) -> Response:
    return await keep(lambda: lane.run(
        lambda: _features(hotspots.areas(sel, min_class), area)), MAP_TABLES)


@router.get("/emerging", summary="Emerging hot spots", response_model=EmergingCollection,
            response_class=GeoJSONResponse,
            description="Gi* per time bin with FDR, Mann-Kendall trend per unit, and the "
                        "Emerging Hot Spot Analysis pattern (new, consecutive, "
                        "intensifying, persistent, diminishing, sporadic, oscillating, "
                        "historical; hot or cold; or no pattern).")
async def emerging(area: ScopeDep, lane: LaneDep, hotspots: HotspotsDep, sel: SelectionDep,
                   keep: KeepDep,
             bin: Annotated[Literal["week", "month", "quarter"], Query(
                 description="time bin")] = "month") -> Response:
    return await keep(lambda: lane.run(
        lambda: _features(hotspots.emerging(sel, bin), area)), MAP_TABLES)


def _edges(text: str, name: str) -> list[float]:
    try:
        edges = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput(f"{name} must be comma-separated numbers", field=name) from None
    if not all(math.isfinite(e) for e in edges):
        raise InvalidInput(f"{name} must be finite numbers", field=name)
    if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:],
                                                                       strict=False)):
        raise InvalidInput(f"{name} must start at 0 and increase", field=name)
    return edges


@router.get("/near-repeat", summary="Near-repeat (Knox) analysis and risk zones",
            response_model=NearRepeatResult)
async def near_repeat(area: ScopeDep, lane: LaneDep, hotspots: HotspotsDep,
                      sel: SelectionDep, keep: KeepDep,
                distance_bands: Annotated[str, Query(description="band edges, metres")]
                = ",".join(map(str, DEFAULT_DISTANCE_BANDS)),
                time_bands: Annotated[str, Query(description="band edges, days")]
                = ",".join(map(str, DEFAULT_TIME_BANDS)),
                permutations: Annotated[int, Query(ge=19, le=MAX_PERMUTATIONS,
                                                   description="Monte Carlo permutations")]
                = 99, seed: Seed = 0) -> Response:
    distances, days = _edges(distance_bands, "distance_bands"), _edges(time_bands,
                                                                       "time_bands")

    def answer() -> Response:
        result = hotspots.near_repeat(sel, distances, days, permutations, seed)
        table = result.table.astype(object).where(result.table.notna(), None)  # NaN: null
        return JSONResponse(jsonable_encoder({
            "table": table.to_dict(orient="records"),
            "elevated": {"distance_m": result.extent[0], "days": result.extent[1]}
            if result.extent else None,
            "zones": _within(result.zones, area).__geo_interface__
            if result.zones is not None else None}))
    return await keep(lambda: lane.run(answer), MAP_TABLES)


@router.get("/forecast", summary="Hotspot forecast for the next period",
            response_model=ForecastCollection, response_class=GeoJSONResponse,
            description="Scores per unit for the `horizon_days` after `end` (default: the "
                        "latest incident), from the incidents in [start, end); "
                        "`top_area_share` ranks units: <= 0.05 is the top 5 % of the area.")
async def forecast_units(area: ScopeDep, lane: LaneDep, hotspots: HotspotsDep,
                         sel: SelectionDep, keep: KeepDep,
                   horizon_days: Annotated[int, Query(ge=1, le=365,
                                                      description="days forecast")] = 30
                   ) -> Response:
    return await keep(lambda: lane.run(
        lambda: _features(hotspots.forecast(sel, horizon_days), area)), MAP_TABLES)


@router.get("/backtest", summary="Backtest the forecast against baselines",
            response_model=Backtest,
            description="Trains on [train_start, train_end), scores [train_end, test_end): "
                        "hit rate, PAI and PEI at 1/5/10 % coverage of the study area "
                        "(cells ranked by density, the last one counted in part) for the "
                        "default method, the baselines (recency-weighted counts, counts "
                        "over the whole window, the last 3 years and the last year, the "
                        "last period's counts, a KDE) and the oracle, with each method's "
                        "tuned parameters. `start`/`end` are not used here: the window "
                        "is the three dates, in the deployment's time zone when they have "
                        "no offset. A user with a scope is scored within it.")
async def backtest_table(area: ScopeDep, lane: LaneDep, hotspots: HotspotsDep,
                         sel: SelectionDep, keep: KeepDep,
                   train_start: Annotated[str, Query(description="ISO 8601, inclusive")],
                   train_end: Annotated[str, Query(description="ISO 8601: scoring starts")],
                   test_end: Annotated[str, Query(description="ISO 8601, exclusive")],
                   study_area: Annotated[str, Query(
                       description="what is scored: `all` units, the units with an "
                                   "incident in the training window (`active`), or the "
                                   "units clipped to the area with this code")] = "all"
                   ) -> Response:
    if sel.start is not None or sel.end is not None:
        raise InvalidInput("backtest takes train_start, train_end and test_end, not "
                           "start/end", field="start" if sel.start else "end")
    study = StudyArea.parse(study_area).limited_to(area)

    def answer() -> pd.DataFrame:
        zone = hotspots.time_zone()  # dates without an offset are local, as in the CLI
        first, middle, last = (pd.Timestamp(required_instant(value, name, zone))
                               for name, value in (("train_start", train_start),
                                                   ("train_end", train_end),
                                                   ("test_end", test_end)))
        return hotspots.backtest(sel, BacktestWindow(first, middle, last, study=study))

    async def made() -> Response:
        table = await lane.run(answer)
        return JSONResponse({"ranked_by": RANKED_BY,
                             "rows": jsonable_encoder(table.to_dict(orient="records"))})
    return await keep(made, MAP_TABLES)
