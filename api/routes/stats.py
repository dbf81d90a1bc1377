"""Statistics per grid, for tables and choropleths."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from gridgis.gis import stats
from gridgis.gis.access.aggregates import in_scope, withhold_small
from gridgis.gis.access.principal import Principal

from ..auth import allow
from ..deps import (
    CategoriesDep,
    HotspotsDep,
    LaneDep,
    ReadConnDep,
    SettingsDep,
    StateDep,
    TimeRangeDep,
)
from ..geojson import csv_response, json_text
from ..models.analytics import GridStats, Ranking
from ..models.common import ERRORS, media
from ..routing import StrictQueryRoute

router = APIRouter(prefix="/stats", tags=["stats"], route_class=StrictQueryRoute,
                   responses=ERRORS)
Format = Annotated[Literal["json", "csv"], Query(description="output format")]
TABLE = media("text/csv")
Reader = Annotated[Principal, Depends(allow("stats"))]


def _table(rows: list[dict], f: str, filename: str) -> Response:
    if f == "csv":
        return csv_response(rows, filename)
    # orjson, not FastAPI's encoder: a city's 10,000 rows took it a second
    return Response(json_text({"items": rows, "numberReturned": len(rows)}),
                    media_type="application/json")


@router.get("/grids/ranking", summary="Grids ranked for accountability meetings",
            response_model=Ranking, responses=TABLE,
            description="Per grid: incidents in [start, end) (default: the last 30 days of "
                        "data), the previous period of the same length and the change, the "
                        "Gi* hotspot class on grids, and the emerging-hotspot pattern over "
                        "the preceding twelve monthly bins.")
async def grid_ranking(who: Reader, lane: LaneDep, hotspots: HotspotsDep,
                       time_range: TimeRangeDep, f: Format = "json") -> Response:
    rows = await lane.run(hotspots.ranking, time_range.start, time_range.end)
    return _table(in_scope(rows, who), f, "grid-ranking.csv")


@router.get("/grids", summary="One row per grid with its counts", response_model=GridStats,
            responses=TABLE,
            description="People (floating, special groups), households, buildings, places, "
                        "cameras, incidents in [start, end) of the chosen categories and the "
                        "rate per 1,000 residents, workers. `f=csv` for CSV.")
def grid_stats(who: Reader, conn: ReadConnDep, state: StateDep, settings: SettingsDep,
               time_range: TimeRangeDep, categories: CategoriesDep, f: Format = "json"
               ) -> Response:
    rows = in_scope(stats.grid_stats(conn, time_range.start, time_range.end, categories,
                                     cache=state.grid_stats), who)
    return _table([withhold_small(r, who, settings.auth.min_count) for r in rows], f,
                  "grid-stats.csv")
