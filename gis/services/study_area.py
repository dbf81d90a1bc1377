"""What a backtest scores: the study area. All units (the default); the units with an
incident in the training window (``active``: parks, airports and industrial land where
nothing happens would inflate PAI); or the units clipped to an area of the database (by
code) or to a polygon (a file's, in the deployment CRS)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import geopandas as gpd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from ..errors import InvalidInput

MIN_SHARE_M2 = 1.0  # a unit clipped to less than this is not in the study area


@dataclass(frozen=True)
class StudyArea:
    kind: Literal["all", "active", "area", "polygon"] = "all"
    code: str | None = None  # kind "area"
    wkb: bytes | None = None  # kind "polygon"
    within: bytes | None = None  # a user's scope (WGS84): nothing outside it is scored

    @classmethod
    def parse(cls, text: str) -> StudyArea:
        """``all``, ``active`` or an area code."""
        text = text.strip()
        if not text:
            raise InvalidInput("the study area is empty: all, active or an area code",
                               field="study_area")
        if text in ("all", "active"):
            return cls(text)  # type: ignore[arg-type]
        return cls("area", code=text)

    @classmethod
    def polygon(cls, shape: BaseGeometry) -> StudyArea:
        if shape.is_empty or shape.area <= 0:
            raise InvalidInput("the study area polygon has no area", field="study_area")
        return cls("polygon", wkb=shapely.to_wkb(shape))

    def limited_to(self, scope: BaseGeometry | None) -> StudyArea:
        """The same study area within a user's scope (WGS84; None: no scope)."""
        return self if scope is None else replace(self, within=shapely.to_wkb(scope))

    def describe(self) -> str:
        what = {"all": "all units", "active": "units with an incident in the training "
                "window", "area": f"area {self.code}", "polygon": "a polygon"}[self.kind]
        return what + (" within your scope" if self.within is not None else "")

    def clip(self, conn: sa.Connection, units: gpd.GeoDataFrame, srid: int
             ) -> gpd.GeoDataFrame:
        """The units of the study area: clipped to its area or polygon, and to the
        user's scope."""
        if self.code is not None or self.wkb is not None:
            units = clip_units(units, self.shape(conn, srid))
        if self.within is not None:
            scope = gpd.GeoSeries([shapely.from_wkb(self.within)], crs=4326).to_crs(srid)
            units = clip_units(units, scope.iloc[0])
        return units

    def shape(self, conn: sa.Connection, srid: int) -> BaseGeometry:
        if self.wkb is not None:
            return shapely.from_wkb(self.wkb)
        row = conn.execute(sa.text("SELECT ST_AsBinary(ST_Transform(geom, :srid)) "
                                   "FROM areas WHERE code = :code"),
                           {"srid": srid, "code": self.code}).first()
        if row is None:
            raise InvalidInput(f"no area has code {self.code!r} (give all, active or the "
                               "code of an area)", field="study_area")
        return shapely.from_wkb(bytes(row[0]))


def clip_units(units: gpd.GeoDataFrame, shape: BaseGeometry) -> gpd.GeoDataFrame:
    """The units cut to ``shape``, those left with some area."""
    clipped = units.assign(geometry=units.geometry.intersection(shape))
    clipped = clipped[clipped.area >= MIN_SHARE_M2].reset_index(drop=True)
    if clipped.empty:
        raise InvalidInput("the study area covers none of the units", field="study_area")
    return clipped
