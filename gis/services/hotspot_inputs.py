"""What the hotspot analytics read from PostGIS: the selection of incidents and units,
the units (the published grids, or the district a lattice is laid over), the
incidents, the communities, and the version of the data that keys every cached result.

Every reader takes an open connection and returns plain frames in the deployment's
metric CRS and computes nothing heavy, so connections are held only while reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

from .. import taxonomy
from ..db import copy_frame
from ..errors import InvalidInput, NotFound
from ..hotspots.defaults import (
    DEFAULT_BAND_M,
    DEFAULT_CELL_M,
    MAX_BAND_M,
    MAX_CELL_M,
    MIN_BAND_M,
    MIN_CELL_M,
)
from ..hotspots.lattice import lattice
from ..hotspots.weights import WeightsKind
from ..importing.convert import DateRange
from ..sqlfiles import incident_filter_params, read_query

Unit = Literal["lattice", "grids"]
Shape = Literal["hex", "square"]


@dataclass(frozen=True)
class Selection:
    """Which incidents and units an analysis uses; part of every cache key. Invalid
    values are refused here, whoever builds the selection."""

    unit: Unit = "lattice"
    cell_m: float = DEFAULT_CELL_M
    categories: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    shape: Shape = "hex"
    weights: WeightsKind = "contiguity"
    band_m: float = DEFAULT_BAND_M  # distance band for distance weights, between centroids

    def __post_init__(self) -> None:
        if self.unit not in ("lattice", "grids"):
            raise InvalidInput(f"unit must be lattice or grids, not {self.unit!r}",
                               field="unit")
        if not MIN_CELL_M <= self.cell_m <= MAX_CELL_M:
            raise InvalidInput(f"cell size must be between {MIN_CELL_M:,.0f} and "
                               f"{MAX_CELL_M:,.0f} m", field="cell")
        if not MIN_BAND_M <= self.band_m <= MAX_BAND_M:
            raise InvalidInput(f"distance band must be between {MIN_BAND_M:,.0f} and "
                               f"{MAX_BAND_M:,.0f} m", field="band")
        object.__setattr__(self, "categories", taxonomy.check_codes(
            self.categories, taxonomy.INCIDENT_CATEGORIES, "category"))
        if self.start and self.end and self.end <= self.start:
            raise InvalidInput("end must be after start", field="end")

    def within(self, start: datetime | None, end: datetime | None) -> Selection:
        """The same selection over another period."""
        from dataclasses import replace

        return replace(self, start=start, end=end)

    @property
    def units_key(self) -> tuple:
        return (self.unit, self.cell_m, self.shape) if self.unit == "lattice" else ("grids",)


def data_version(conn: sa.Connection) -> int:
    """Moves whenever incidents, areas, grids or plans change (a counter the database
    keeps in the writing transaction: reading it costs the same at any size)."""
    return int(conn.execute(sa.text(
        "SELECT sum(changes) FROM gridgis_data_version")).scalar_one())


def latest_incident(conn: sa.Connection) -> pd.Timestamp | None:
    """The latest plausible occurrence: a row dated in the future (written around the
    checks, by SQL) must not move every default period there."""
    latest = conn.execute(sa.text("SELECT max(occurred_at) FROM incidents WHERE "
                                  "occurred_at <= :bound"),
                          {"bound": DateRange.now().latest.to_pydatetime()}).scalar()
    return pd.Timestamp(latest).tz_convert("UTC") if latest is not None else None


def district(conn: sa.Connection, srid: int) -> gpd.GeoSeries:
    """The area under analysis: the district polygons, or the published grids' union."""
    rows = conn.execute(sa.text("""
        SELECT ST_AsBinary(ST_Union(geom)) FROM areas WHERE level = 'district'
        HAVING count(*) > 0
        UNION ALL
        SELECT ST_AsBinary(ST_Union(geom)) FROM published_grids""")).scalars().all()
    wkb = next((r for r in rows if r is not None), None)
    if wkb is None:
        raise NotFound("there is no district or published grid to analyse")
    return gpd.GeoSeries([shapely.from_wkb(bytes(wkb))], crs=srid)


def published_grids(conn: sa.Connection, srid: int) -> gpd.GeoDataFrame:
    rows = conn.execute(sa.text("SELECT id, code, name, ST_AsBinary(geom) AS wkb "
                                "FROM published_grids ORDER BY code")).all()
    if not rows:
        raise NotFound("there are no published grids")
    return gpd.GeoDataFrame({"id": [r.id for r in rows], "code": [r.code for r in rows],
                             "name": [r.name for r in rows]},
                            geometry=shapely.from_wkb([bytes(r.wkb) for r in rows]), crs=srid)


def lattice_units(boundary: gpd.GeoSeries, selection: Selection) -> gpd.GeoDataFrame:
    """The lattice of the selection over the district, with a code per cell."""
    cells = lattice(boundary, selection.cell_m, selection.shape)
    cells["code"] = cells["cell"].astype(str)
    return cells


def communities(conn: sa.Connection, srid: int) -> gpd.GeoDataFrame:
    return gpd.read_postgis("SELECT code, name, geom FROM areas WHERE level = 'community'",
                            conn, geom_col="geom", crs=srid)


def incidents(conn: sa.Connection, srid: int, selection: Selection) -> gpd.GeoDataFrame:
    """The selected incidents: id, category, occurred_at (UTC) and the point."""
    frame = copy_frame(conn, read_query("hotspot_incidents.sql"), incident_filter_params(
        selection.categories, selection.start, selection.end),
        {"id": "int64", "category": object, "occurred_at": "float64", "x": "float64",
         "y": "float64"})
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], unit="s", utc=True)
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=srid)
