"""Statistics per grid, for tables and choropleths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from gridgis.gis import stats

from ..deps import CatalogDep, ConnDep, TimeRangeDep
from ..geojson import csv_response

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("/grids/ranking", summary="Grids ranked for accountability meetings",
            description="Per grid: incidents in [start, end), the previous period of the "
                        "same length and the change, the Gi* hotspot class on grids, and "
                        "the emerging-hotspot pattern over the preceding monthly bins.")
def grid_ranking(conn: ConnDep, catalog: CatalogDep, time_range: TimeRangeDep,
                 f: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    from gridgis.gis.hotspots.ranking import ranking

    rows = ranking(conn, catalog.srid, time_range.start, time_range.end)
    if f == "csv":
        return csv_response(rows, "grid-ranking.csv")
    return JSONResponse({"items": jsonable_encoder(rows), "numberReturned": len(rows)})


@router.get("/grids", summary="One row per grid with its counts",
            description="People (floating, special groups), households, buildings, places, "
                        "cameras, incidents in [start, end) and the rate per 1,000 residents, "
                        "workers. `f=csv` for CSV.")
def grid_stats(conn: ConnDep, time_range: TimeRangeDep,
               f: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    rows = stats.grid_stats(conn, time_range.start, time_range.end)
    if f == "csv":
        return csv_response(rows, "grid-stats.csv")
    return JSONResponse({"items": jsonable_encoder(rows), "numberReturned": len(rows)})
