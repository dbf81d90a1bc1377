"""Reading a collection's features for the OGC API: a checked request (paging, bbox in
either CRS, datetime, property filters, CQL2 filter, sortby, properties, output CRS)
turned into conditions on the collection's rows. A resource's rows are read through its
repository, so that scope, masking and the audit of personal reads apply as on every
other route; a layer's (``gis.features.layers``) from its source, which keeps the rows
its reader reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
import sqlalchemy as sa

from ..access import audit
from ..access.masking import personal_fields
from ..access.principal import Principal
from ..errors import InvalidInput, NotFound
from ..resources import Catalog, ListQuery, Repository
from ..resources.repository import (
    Counter,
    OutputCrs,
    count_rows,
    geojson_column,
    parsed_geometry,
)
from ..services.cache import SizedCache
from ..versions import CachedCounts
from .collections import Collection, hidden, queryables
from .cql2 import Queryable, Translator
from .layers import source
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


class FeatureSource:
    """What items, queryables and tiles read of one collection as ``who`` may: its rows
    as a table (``id``, fields, ``geom`` in the storage CRS), its queryables, and the
    conditions an items request puts on them."""

    catalog: Catalog
    found: Collection
    table: sa.FromClause
    queryables: dict[str, Queryable]
    hidden: frozenset[str]
    tables: tuple[str, ...]  # the tables its rows are read from
    who: Principal
    counts: SizedCache | None = None  # counts of matches kept per table version

    def _counter(self) -> Counter:
        return CachedCounts(self.counts, self.tables) if self.counts is not None \
            else count_rows

    def read(self, conn: sa.Connection, request: FeatureRequest) -> tuple[list[dict], int]:
        raise NotImplementedError

    def one(self, conn: sa.Connection, feature_id: int, crs: OutputCrs,
            properties: tuple[str, ...] | None = None) -> dict:
        raise NotImplementedError

    def check_read(self) -> None:
        """Raises when ``who`` may not read these rows at all."""

    def view(self) -> tuple:
        """What, besides the data, decides which rows ``who`` reaches: their scope (its
        grids, and its codes: a patrol plan is kept to the codes it was made within)."""
        grids = None if self.who.grid_ids is None else tuple(sorted(self.who.grid_ids))
        return grids, tuple(sorted(self.who.scope))

    def visible(self) -> list[Any]:
        """The conditions that keep the rows ``who`` reaches."""
        return []

    def tile_fields(self) -> dict[str, str]:
        """The properties a vector tile carries (name → queryable type)."""
        return {name: q.type for name, q in self.queryables.items()
                if q.type != "geometry" and name not in self.hidden}

    def audit_tile(self, conn: sa.Connection, features: int, tile: str) -> None:
        """Record a tile's read where reads of these rows are audited."""

    def conditions(self, request: FeatureRequest) -> list[Any]:
        where = self.found.where(self.table)
        if request.bbox is not None and request.bbox_srid != 4326:
            where.append(self._in_box(request.bbox, request.bbox_srid))
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

    def _in_box(self, bbox: tuple[float, ...], srid: int) -> Any:
        """A bbox as a condition, the box moved into the table's CRS."""
        box = to_table_crs(shapely.box(*bbox[:4]), srid, self.catalog.srid, field="bbox")
        return sa.func.ST_Intersects(self.table.c.geom, sa.func.ST_GeomFromText(
            sa.literal(box.wkt), self.catalog.srid))

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


class Features(FeatureSource):
    """The features of one resource's collection as ``who`` may read them."""

    def __init__(self, catalog: Catalog, who: Principal, found: Collection) -> None:
        self.catalog = catalog
        self.found = found
        self.who = who
        self.repository = Repository(catalog, found.spec, who)
        self.table = self.repository.table
        self.tables = (found.spec.table,)
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
                                           crs=request.crs, count=self._counter())
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

    def check_read(self) -> None:
        self.repository.guard.check_read()

    def visible(self) -> list[Any]:
        return self.repository.guard.visible()

    def tile_fields(self) -> dict[str, str]:
        """No tile carries a personal field (a map needs none, and the items, which do,
        are where reading them is asked for and audited)."""
        personal = set(personal_fields(self.found.resource))
        return {name: kind for name, kind in super().tile_fields().items()
                if name not in personal}

    def audit_tile(self, conn: sa.Connection, features: int, tile: str) -> None:
        who = self.who
        if features and who.audited_read(self.found.resource):  # where they are is personal
            audit.record(conn, who, audit.Entry("read", self.found.resource,
                                                detail=f"vector tile {tile}: {features} features"))


class LayerFeatures(FeatureSource):
    """The features of a layer (``gis.features.layers``) as ``who`` may read them."""

    def __init__(self, catalog: Catalog, who: Principal, found: Collection) -> None:
        assert found.layer is not None
        self.catalog = catalog
        self.found = found
        self.who = who
        self.tables = found.layer.tables
        self.table = source(found.layer, who)
        self.queryables = queryables(found, self.table)
        self.hidden = frozenset()

    def visible(self) -> list[Any]:
        # the source keeps a scoped reader's rows itself; the condition here only says
        # that there is a scope (an extent is then measured, never the table's estimate)
        return [] if self.who.grid_ids is None else [sa.true()]

    def read(self, conn: sa.Connection, request: FeatureRequest) -> tuple[list[dict], int]:
        self._check_properties(request.properties)
        where = self.conditions(request)
        if request.bbox is not None and request.bbox_srid == 4326:  # no list query here
            where.append(self._in_box(request.bbox, 4326))
        total = self._counter()(conn, sa.select(sa.func.count()).select_from(self.table)
                                .where(*where))
        rows = conn.execute(sa.select(*self._columns(request.crs)).where(*where)
                            .order_by(*self._order(request.sortby), self.table.c.id)
                            .limit(request.limit).offset(request.offset))
        return [self._shown(parsed_geometry(r._mapping), request.properties)
                for r in rows], total

    def one(self, conn: sa.Connection, feature_id: int, crs: OutputCrs,
            properties: tuple[str, ...] | None = None) -> dict:
        self._check_properties(properties)
        row = conn.execute(sa.select(*self._columns(crs))
                           .where(self.table.c.id == feature_id)).first()
        if row is None:
            raise NotFound(f"no feature {feature_id} in collection {self.found.id}")
        return self._shown(parsed_geometry(row._mapping), properties)

    def _columns(self, crs: OutputCrs) -> list[Any]:
        return [c for c in self.table.c if c.name != "geom"] + [
            geojson_column(self.table.c.geom, crs, self.catalog.srid)]

    def _order(self, sortby: tuple[str, ...]) -> list[Any]:
        order = []
        for item in sortby:
            name = item.lstrip("+-")
            queryable: Queryable | None = self.queryables.get(name)
            if queryable is None or queryable.type == "geometry":
                raise InvalidInput(f"sortby names {name!r}, which {self.found.id} cannot be "
                                   "sorted by; it has: " + ", ".join(
                                       n for n in self.queryables if n != "geometry"),
                                   field="sortby")
            column = queryable.column
            order.append(column.desc().nulls_last() if item.startswith("-")
                         else column.asc().nulls_last())
        return order


def features_of(catalog: Catalog, who: Principal, found: Collection,
                counts: SizedCache | None = None) -> FeatureSource:
    """The features of ``found`` as ``who`` may read them (``counts``: where counts of
    matches are kept)."""
    features: FeatureSource = LayerFeatures(catalog, who, found) if found.layer is not None \
        else Features(catalog, who, found)
    features.counts = counts
    return features
