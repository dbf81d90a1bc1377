"""Reading a collection's features for the OGC API: a checked request (paging, bbox in
either CRS, datetime, property filters, CQL2 filter, sortby, properties, output CRS)
turned into conditions on the resource's table and read through the resource's
repository, so that scope, masking and the audit of personal reads apply as on every
other route."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
import sqlalchemy as sa

from ..access.principal import Principal
from ..errors import InvalidInput, NotFound
from ..resources import Catalog, ListQuery, Repository
from ..resources.repository import OutputCrs
from .collections import Collection, hidden, queryables
from .cql2 import Translator
from .literals import to_table_crs

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class FeatureRequest:
    """What an items request asks for, its values parsed (the API parses the text)."""

    limit: int = 10
    offset: int = 0
    bbox: tuple[float, ...] | None = None  # minx, miny, maxx, maxy in bbox_srid
    bbox_srid: int = 4326
    start: datetime | None = None  # datetime: [start, end], either open
    end: datetime | None = None
    timed: bool = False  # a datetime was given
    equals: dict[str, str] = field(default_factory=dict)  # property=value filters
    sortby: tuple[str, ...] = ()
    filter: Any = None  # CQL2 JSON
    filter_srid: int = 4326
    filter_lat_first: bool = False  # filter-crs is EPSG:4326 proper
    crs: OutputCrs = field(default_factory=OutputCrs)
    properties: tuple[str, ...] | None = None  # the properties to return


class Features:
    """The features of one collection as ``who`` may read them."""

    def __init__(self, catalog: Catalog, who: Principal, found: Collection) -> None:
        self.catalog = catalog
        self.found = found
        self.repository = Repository(catalog, found.spec, who)
        self.table = self.repository.table
        self.queryables = queryables(found, self.table)
        self.hidden = hidden(found, who)

    def read(self, conn: sa.Connection, request: FeatureRequest) -> tuple[list[dict], int]:
        """A page of features (rows with ``_geometry``) and how many match in all."""
        self._check_properties(request.properties)
        bbox_filter = {"bbox": request.bbox} if request.bbox is not None and \
            request.bbox_srid == 4326 else {}
        try:
            query = ListQuery.build(self.found.spec, limit=request.limit,
                                    offset=request.offset, sort=request.sortby,
                                    filters=bbox_filter)
        except InvalidInput as refused:  # named as the OGC API names it
            if refused.details.get("field") != "sort":
                raise
            raise InvalidInput(refused.message, field="sortby") from None
        rows, total = self.repository.list(conn, query, extra=self.conditions(request),
                                           crs=request.crs)
        return [self._shown(r, request.properties) for r in rows], total

    def one(self, conn: sa.Connection, feature_id: int, crs: OutputCrs,
            properties: tuple[str, ...] | None = None) -> dict:
        self._check_properties(properties)
        try:
            row = self.repository.get(conn, feature_id, extra=self.found.where(self.table),
                                      crs=crs)
        except NotFound:
            raise NotFound(f"no feature {feature_id} in collection {self.found.id}") from None
        return self._shown(row, properties)

    def conditions(self, request: FeatureRequest) -> list[Any]:
        where = self.found.where(self.table)
        if request.bbox is not None and request.bbox_srid != 4326:
            box = to_table_crs(shapely.box(*request.bbox[:4]), request.bbox_srid,
                               self.catalog.srid, field="bbox")
            where.append(sa.func.ST_Intersects(self.table.c.geom, sa.func.ST_GeomFromText(
                sa.literal(box.wkt), self.catalog.srid)))
        if request.timed:
            if not self.found.time_field:
                raise InvalidInput(f"collection {self.found.id} has no time: datetime "
                                   "cannot filter it", field="datetime")
            column = self.table.c[self.found.time_field]
            if request.start is not None:
                where.append(column >= request.start)
            if request.end is not None:
                where.append(column <= request.end)
        translator = Translator(self.queryables, self.catalog.srid, request.filter_srid,
                                self.hidden, request.filter_lat_first)
        for name, text in request.equals.items():
            where.append(translator.clause({"op": "=", "args": [
                {"property": name}, self._typed(name, text)]}))
        if request.filter is not None:
            where.append(translator.clause(request.filter))
        return where

    def is_queryable(self, name: str) -> bool:
        return name in self.queryables and name != "geometry"

    def _typed(self, name: str, text: str) -> Any:
        """A property filter's value (query text) as the CQL2 JSON value of its type."""
        kind = self.queryables[name].type
        try:
            if kind == "int":
                return int(text)
            if kind == "float":
                return float(text)
            if kind == "bool":
                if text.lower() not in (*TRUE, *FALSE):
                    raise ValueError
                return text.lower() in TRUE
        except ValueError:
            raise InvalidInput(f"{name} is of type {kind}; {text!r} is not one",
                               field=name) from None
        if kind in ("date", "datetime"):
            return {"date" if len(text) == 10 else "timestamp": text}
        return text

    def _check_properties(self, properties: tuple[str, ...] | None) -> None:
        unknown = [p for p in properties or () if p not in self.queryables
                   or p == "geometry"]
        if unknown:
            raise InvalidInput(f"properties names {unknown[0]!r}, which {self.found.id} "
                               "does not have; it has: " + ", ".join(
                                   n for n in self.queryables if n != "geometry"),
                               field="properties")

    @staticmethod
    def _shown(row: dict, properties: tuple[str, ...] | None) -> dict:
        if properties is None:
            return row
        keep = {"id", "_geometry", *properties}
        return {k: v for k, v in row.items() if k in keep}
