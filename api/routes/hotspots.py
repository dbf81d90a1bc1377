"""Hotspot analytics over HTTP: Gi*, hotspot areas, emerging hotspots, near repeats,
forecasts and backtests. Results are cached per parameter set and data version; every
computation is bounded (permutations, time bins, incidents)."""

from __future__ import annotations

from typing import Annotated, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from api.deps import CatalogDep, ConnDep, TimeRange, TimeRangeDep
from gis import taxonomy
from gis.errors import InvalidInput
from gis.hotspots import service
from gis.hotspots.areas import hotspot_areas
from gis.hotspots.emerging import emerging_hotspots
from gis.hotspots.forecast import Incidents, backtest, forecast
from gis.hotspots.gistar import gi_star
from gis.hotspots.near_repeat import elevated_extent, knox, risk_zones

router = APIRouter(prefix="/hotspots", tags=["hotspots"])
GEOJSON = "application/geo+json"


def selection(time_range: TimeRangeDep,
              unit: Annotated[Literal["lattice", "grids"], Query(
                  description="fine lattice clipped to the district, or the grids")]
              = "lattice",
              cell: Annotated[float, Query(ge=50, le=2000, description="lattice cell, m")]
              = 150.0,
              category: Annotated[list[str] | None, Query()] = None) -> service.Selection:
    chosen = tuple(sorted(c for c in (category or []) if c))
    for c in chosen:
        if c not in taxonomy.INCIDENT_CATEGORIES:
            raise InvalidInput(f"unknown incident category {c!r}", field="category")
    return service.Selection(unit, cell, chosen, time_range.start, time_range.end)


SelectionDep = Annotated[service.Selection, Depends(selection)]


def _features(frame: gpd.GeoDataFrame) -> Response:
    return Response(frame.to_crs(4326).to_json(drop_id=True), media_type=GEOJSON)


def _cached(conn, name: str, params: tuple, compute):
    return service.CACHE.get_or_compute((name, params, service.data_version(conn)), compute)


def gi_units(conn, srid: int, sel: service.Selection, permutations: int, seed: int
             ) -> gpd.GeoDataFrame:
    def compute() -> gpd.GeoDataFrame:
        cells = service.units(conn, srid, sel)
        points = service.incidents(conn, srid, sel)
        observed = service.counts(cells, points)
        result = gi_star(observed, service.contiguity(cells), permutations=permutations,
                         seed=seed).frame()
        return cells.assign(incidents=observed, **{c: result[c].to_numpy()
                                                  for c in result.columns})
    return _cached(conn, "gi", (sel, permutations, seed), compute)


@router.get("/gi", summary="Getis-Ord Gi* hot and cold spots",
            description="Per unit: incidents, z, two-sided p (and p_sim with permutations), "
                        "class ±90/95/99 after false-discovery-rate correction.")
def gi(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
       permutations: Annotated[int, Query(ge=0, le=service.MAX_PERMUTATIONS)] = 0,
       seed: Annotated[int, Query(ge=0)] = 0) -> Response:
    return _features(gi_units(conn, catalog.srid, sel, permutations, seed))


@router.get("/areas", summary="Hotspot areas",
            description="Touching significant hot units merged, with incidents, share, "
                        "area, grids, communities, peak hours and weekdays.")
def areas(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
          min_class: Annotated[int, Query(description="90, 95 or 99")] = 95) -> Response:
    if min_class not in (90, 95, 99):
        raise InvalidInput("min_class must be 90, 95 or 99", field="min_class")

    def compute() -> gpd.GeoDataFrame:
        cells = gi_units(conn, catalog.srid, sel, 0, 0)
        grids = service.units(conn, catalog.srid, service.Selection("grids"))
        communities = gpd.read_postgis(
            "SELECT code, name, geom FROM areas WHERE level = 'community'",
            conn, geom_col="geom", crs=catalog.srid)
        return hotspot_areas(cells, service.incidents(conn, catalog.srid, sel), grids,
                             communities, min_class=min_class)
    return _features(_cached(conn, "areas", (sel, min_class), compute))


@router.get("/emerging", summary="Emerging hot spots",
            description="Gi* per time bin with FDR, Mann-Kendall trend per unit, and the "
                        "Emerging Hot Spot Analysis pattern (new, consecutive, "
                        "intensifying, persistent, diminishing, sporadic, oscillating, "
                        "historical; hot or cold; or no pattern).")
def emerging(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
             bin: Annotated[Literal["week", "month", "quarter"], Query()] = "month"
             ) -> Response:
    def compute() -> gpd.GeoDataFrame:
        cells = service.units(conn, catalog.srid, sel)
        points = service.incidents(conn, catalog.srid, sel)
        if points.empty:
            raise InvalidInput("no incidents match the selection", field="start")
        start = pd.Timestamp(sel.start) if sel.start else points["occurred_at"].min()
        end = pd.Timestamp(sel.end) if sel.end else points["occurred_at"].max() \
            + pd.Timedelta(seconds=1)
        edges = service.time_bins(start, end, {"week": "W-MON", "month": "MS",
                                               "quarter": "QS"}[bin])
        cube = service.binned_counts(cells, points, edges)
        result = emerging_hotspots(cube, service.contiguity(cells))
        return cells.assign(**{c: result[c].to_numpy() for c in result.columns})
    return _features(_cached(conn, "emerging", (sel, bin), compute))


@router.get("/near-repeat", summary="Near-repeat (Knox) analysis and risk zones")
def near_repeat(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
                distance_bands: Annotated[str, Query(description="metres, edges")]
                = "0,100,200,300,400,500",
                time_bands: Annotated[str, Query(description="days, edges")]
                = "0,7,14,21,28,35",
                permutations: Annotated[int, Query(ge=19, le=service.MAX_PERMUTATIONS)] = 99,
                seed: Annotated[int, Query(ge=0)] = 0) -> JSONResponse:
    distances, days = _edges(distance_bands, "distance_bands"), _edges(time_bands,
                                                                       "time_bands")

    def compute() -> dict:
        points = service.incidents(conn, catalog.srid, sel)
        if len(points) > service.MAX_KNOX_INCIDENTS:
            raise InvalidInput(f"{len(points):,} incidents; near-repeat analysis takes at "
                               f"most {service.MAX_KNOX_INCIDENTS:,} — narrow the time range "
                               "or the categories", field="start")
        xy = np.column_stack([points.geometry.x, points.geometry.y])
        t = (points["occurred_at"] - pd.Timestamp("1970-01-01", tz="UTC")) \
            .dt.total_seconds().to_numpy() / 86400
        table = knox(xy, t, distance_bands=distances, time_bands=days,
                     permutations=permutations, seed=seed)
        extent = elevated_extent(table)
        zones = None
        if extent and len(points):
            now = points["occurred_at"].max()
            zones = risk_zones(points, now, extent[0], extent[1]).to_crs(4326)
        return {"table": table.to_dict(orient="records"),
                "elevated": {"distance_m": extent[0], "days": extent[1]} if extent else None,
                "zones": zones.__geo_interface__ if zones is not None else None}
    key = (sel, tuple(distances), tuple(days), permutations, seed)
    return JSONResponse(jsonable_encoder(_cached(conn, "knox", key, compute)))


def _edges(text: str, name: str) -> list[float]:
    try:
        edges = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput(f"{name} must be comma-separated numbers", field=name) from None
    if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:],
                                                                       strict=False)):
        raise InvalidInput(f"{name} must start at 0 and increase", field=name)
    return edges


@router.get("/forecast", summary="Hotspot forecast for the next period",
            description="Scores per unit for the `horizon_days` after `end` (default: the "
                        "latest incident), from the incidents in [start, end); the top "
                        "cells covering 1/5/10 % of the area are flagged.")
def forecast_units(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
                   horizon_days: Annotated[int, Query(ge=1, le=365)] = 30) -> Response:
    def compute() -> gpd.GeoDataFrame:
        cells = service.units(conn, catalog.srid, sel)
        points = service.incidents(conn, catalog.srid, sel)
        if points.empty:
            raise InvalidInput("no incidents match the selection", field="start")
        start = pd.Timestamp(sel.start) if sel.start else points["occurred_at"].min()
        end = pd.Timestamp(sel.end) if sel.end else points["occurred_at"].max() \
            + pd.Timedelta(seconds=1)
        score = forecast(cells, Incidents.from_frame(points), start, end,
                         pd.Timedelta(days=horizon_days))
        area = cells.area.to_numpy()
        order = np.argsort(-score / area, kind="stable")
        share = np.empty(len(cells))
        share[order] = np.cumsum(area[order]) / area.sum()
        return cells.assign(score=score, top_area_share=share)
    return _features(_cached(conn, "forecast", (sel, horizon_days), compute))


@router.get("/backtest", summary="Backtest the forecast against baselines",
            description="Trains on [train_start, train_end), scores [train_end, test_end): "
                        "hit rate, PAI and PEI at 1/5/10 % coverage for the default method, "
                        "last-period counts, a KDE, and the oracle.")
def backtest_table(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
                   train_start: str, train_end: str, test_end: str) -> JSONResponse:
    window = TimeRange(train_start, test_end)
    middle = TimeRange(train_end, None).start
    assert window.start is not None and window.end is not None and middle is not None
    if not window.start < middle < window.end:
        raise InvalidInput("need train_start < train_end < test_end", field="train_end")

    def compute() -> list:
        cells = service.units(conn, catalog.srid, sel)
        points = service.incidents(conn, catalog.srid, service.Selection(
            sel.unit, sel.cell_m, sel.categories, window.start, window.end))
        table = backtest(cells, Incidents.from_frame(points), pd.Timestamp(window.start),
                         pd.Timestamp(middle), pd.Timestamp(window.end))
        return table.to_dict(orient="records")
    key = (sel, window.start, middle, window.end)
    return JSONResponse({"rows": jsonable_encoder(_cached(conn, "backtest", key, compute))})
