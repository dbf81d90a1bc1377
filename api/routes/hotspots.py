"""Hotspot analytics over HTTP: Gi*, hotspot areas, emerging hotspots, near repeats,
forecasts and backtests. Results are cached per parameter set and data version; every
computation is bounded (permutations, time bins, incidents)."""

from __future__ import annotations

from typing import Annotated, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from gridgis.gis import taxonomy
from gridgis.gis.errors import InvalidInput
from gridgis.gis.hotspots import service
from gridgis.gis.hotspots.forecast import Incidents, backtest

from ..deps import CatalogDep, ConnDep, TimeRange, TimeRangeDep

router = APIRouter(prefix="/hotspots", tags=["hotspots"])
GEOJSON = "application/geo+json"


def selection(time_range: TimeRangeDep,
              unit: Annotated[Literal["lattice", "grids"], Query(
                  description="fine lattice clipped to the district, or the grids")]
              = "lattice",
              cell: Annotated[float, Query(ge=50, le=2000, description="lattice cell, m")]
              = 150.0,
              category: Annotated[list[str] | None, Query()] = None,
              shape: Annotated[Literal["hex", "square"], Query(
                  description="lattice cell shape")] = "hex",
              weights: Annotated[Literal["contiguity", "distance"], Query(
                  description="queen contiguity, or a distance band between centroids")]
              = "contiguity",
              band: Annotated[float, Query(ge=10, le=10_000,
                                           description="distance band, m")] = 300.0,
              ) -> service.Selection:
    chosen = tuple(sorted(c for c in (category or []) if c))
    for c in chosen:
        if c not in taxonomy.INCIDENT_CATEGORIES:
            raise InvalidInput(f"unknown incident category {c!r}", field="category")
    return service.Selection(unit, cell, chosen, time_range.start, time_range.end, shape,
                             weights, band)


SelectionDep = Annotated[service.Selection, Depends(selection)]


def _features(frame: gpd.GeoDataFrame) -> Response:
    return Response(frame.to_crs(4326).to_json(drop_id=True), media_type=GEOJSON)


@router.get("/gi", summary="Getis-Ord Gi* hot and cold spots",
            description="Per unit: incidents, z, two-sided p (and p_sim with permutations), "
                        "class ±90/95/99 after false-discovery-rate correction.")
def gi(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
       permutations: Annotated[int, Query(ge=0, le=service.MAX_PERMUTATIONS)] = 0,
       seed: Annotated[int, Query(ge=0)] = 0) -> Response:
    return _features(service.gi_layer(conn, catalog.srid, sel, permutations, seed))


@router.get("/areas", summary="Hotspot areas",
            description="Touching significant hot units merged, with incidents, share, "
                        "area, grids, communities, peak hours and weekdays.")
def areas(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
          min_class: Annotated[int, Query(description="90, 95 or 99")] = 95) -> Response:
    if min_class not in (90, 95, 99):
        raise InvalidInput("min_class must be 90, 95 or 99", field="min_class")
    return _features(service.areas_layer(conn, catalog.srid, sel, min_class))


@router.get("/emerging", summary="Emerging hot spots",
            description="Gi* per time bin with FDR, Mann-Kendall trend per unit, and the "
                        "Emerging Hot Spot Analysis pattern (new, consecutive, "
                        "intensifying, persistent, diminishing, sporadic, oscillating, "
                        "historical; hot or cold; or no pattern).")
def emerging(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
             bin: Annotated[Literal["week", "month", "quarter"], Query()] = "month"
             ) -> Response:
    return _features(service.emerging_layer(conn, catalog.srid, sel, bin))


@router.get("/near-repeat", summary="Near-repeat (Knox) analysis and risk zones")
def near_repeat(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
                distance_bands: Annotated[str, Query(description="metres, edges")]
                = "0,100,200,300,400,500",
                time_bands: Annotated[str, Query(description="days, edges")]
                = "0,7,14,21,28,35",
                permutations: Annotated[int, Query(ge=19, le=service.MAX_PERMUTATIONS)] = 99,
                seed: Annotated[int, Query(ge=0)] = 0) -> JSONResponse:
    distances = _edges(distance_bands, "distance_bands")
    days = _edges(time_bands, "time_bands")
    result = service.near_repeat(conn, catalog.srid, sel, distances, days, permutations,
                                 seed)
    extent, zones = result["extent"], result["zones"]
    return JSONResponse(jsonable_encoder({
        "table": result["table"].to_dict(orient="records"),
        "elevated": {"distance_m": extent[0], "days": extent[1]} if extent else None,
        "zones": zones.to_crs(4326).__geo_interface__ if zones is not None else None}))


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
                        "latest incident), from the incidents in [start, end); "
                        "`top_area_share` ranks units: <= 0.05 is the top 5 % of the area.")
def forecast_units(conn: ConnDep, catalog: CatalogDep, sel: SelectionDep,
                   horizon_days: Annotated[int, Query(ge=1, le=365)] = 30) -> Response:
    return _features(service.forecast_layer(conn, catalog.srid, sel, horizon_days))


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
    return JSONResponse({"rows": jsonable_encoder(service.cached(conn, "backtest", key,
                                                                 compute))})
