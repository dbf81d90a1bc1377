"""The landing page and the Folium map pages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from gridgis.gis import taxonomy
from gridgis.gis.errors import InvalidInput
from gridgis.maps import pages

from ..deps import CatalogDep, ConnDep, SettingsDep, TimeRangeDep

router = APIRouter(tags=["maps"])
LangQuery = Annotated[Literal["zh", "en"] | None, Query(description="zh or en")]


def _options(settings, lang) -> pages.PageOptions:
    return pages.PageOptions(lang=lang or settings.api.lang, tile_url=settings.api.tile_url,
                             tile_attribution=settings.api.tile_attribution,
                             max_features=settings.api.map_max_features)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing(settings: SettingsDep, lang: LangQuery = None) -> HTMLResponse:
    return HTMLResponse(pages.landing_page(lang or settings.api.lang))


@router.get("/maps/grids", response_class=HTMLResponse, summary="Grid map")
def grids_map(conn: ConnDep, settings: SettingsDep, time_range: TimeRangeDep,
              lang: LangQuery = None,
              measure: Annotated[Literal["people", "households", "incidents", "incident_rate"],
                                 Query()] = "incidents") -> HTMLResponse:
    return HTMLResponse(pages.grids_page(conn, _options(settings, lang), measure,
                                         time_range.start, time_range.end))


@router.get("/maps/incidents", response_class=HTMLResponse, summary="Incident map")
def incidents_map(conn: ConnDep, settings: SettingsDep, time_range: TimeRangeDep,
                  lang: LangQuery = None,
                  category: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
    chosen = [c for c in (category or []) if c]
    unknown = [c for c in chosen if c not in taxonomy.INCIDENT_CATEGORIES]
    if unknown:
        raise InvalidInput(f"unknown incident category {unknown[0]!r}; use one of "
                           f"{', '.join(taxonomy.INCIDENT_CATEGORIES)}", field="category")
    return HTMLResponse(pages.incidents_page(conn, _options(settings, lang), chosen,
                                             time_range.start, time_range.end))


@router.get("/maps/hotspots", response_class=HTMLResponse, summary="Hotspot map")
def hotspots_map(conn: ConnDep, settings: SettingsDep, catalog: CatalogDep,
                 time_range: TimeRangeDep, lang: LangQuery = None,
                 unit: Annotated[Literal["lattice", "grids"], Query()] = "lattice",
                 category: Annotated[list[str] | None, Query()] = None,
                 print: Annotated[Literal["a4"] | None, Query()] = None) -> HTMLResponse:
    from gridgis.maps.hotspots import hotspots_page

    chosen = [c for c in (category or []) if c]
    unknown = [c for c in chosen if c not in taxonomy.INCIDENT_CATEGORIES]
    if unknown:
        raise InvalidInput(f"unknown incident category {unknown[0]!r}", field="category")
    return HTMLResponse(hotspots_page(conn, catalog.srid, _options(settings, lang), unit,
                                      chosen, time_range.start, time_range.end,
                                      printable=print == "a4"))
