"""The feature collections of the OGC API: each located kind of the grid model as a
collection (areas by level, the grids of the published plan and of each draft plan,
buildings, places, things, organisations, incidents, households and people), with its
extent and queryables. What a user may read of each, and which fields they see
unmasked, is the resources' own access control (``gis.resources``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry

from ..access.masking import personal_fields
from ..access.principal import Principal
from ..errors import NotAuthenticated, NotFound
from ..resources import RESOURCES, ResourceSpec
from .cql2 import Queryable
from .layers import LAYERS, Layer, readable

AREA_LEVELS = {"district": ("区", "districts"), "subdistrict": ("街道/镇", "subdistricts"),
               "community": ("社区/村", "communities")}
TITLES = {"buildings": ("建筑", "Buildings"), "places": ("场所", "Places"),
          "things": ("物件", "Things"), "organisations": ("组织", "Organisations"),
          "incidents": ("事件", "Incidents"), "households": ("住户", "Households"),
          "people": ("人员", "People")}
GEOMETRY = "geometry"  # the geometry's queryable name
ESTIMATE_SEGMENT_M = 1000.0  # a box's edges are curves in degrees
EXACT_SEGMENT_M = 10.0


@dataclass(frozen=True)
class Collection:
    """One collection: its id, titles, the resource its rows are, and the constraint
    that picks its rows from the resource's table (a level, a plan)."""

    id: str
    title_zh: str
    title_en: str
    resource: str
    column: str | None = None  # the constraint's column
    value: Any = None  # and value
    draft: bool = False  # the grids of a draft plan (editable: api.routes.feature_edits)
    layer: Layer | None = None  # a derived layer or a table beside the resources

    @property
    def spec(self) -> ResourceSpec:
        return RESOURCES[self.resource]

    @property
    def geometry(self) -> str | None:
        return self.layer.geometry if self.layer else self.spec.kind.geometry

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"

    @property
    def time_field(self) -> str | None:
        return self.layer.time_field if self.layer else self.spec.time_column

    def where(self, table: sa.FromClause) -> list[Any]:
        return [] if self.column is None else [table.c[self.column] == self.value]


def collections(conn: sa.Connection, who: Principal) -> list[Collection]:
    """The collections ``who`` may read, in a stable order."""
    found: list[Collection] = []
    if who.may("read", "areas"):
        found += [Collection(f"areas-{level}", f"{zh}区划", f"Areas: {en}", "areas",
                             "level", level) for level, (zh, en) in AREA_LEVELS.items()]
    if who.may("read", "grids"):
        plans = conn.execute(sa.text(
            "SELECT id, name, state FROM grid_plans WHERE state IN ('published', 'draft') "
            "ORDER BY state DESC, id")).all()
        for plan_id, name, state in plans:
            if state == "published":
                found.append(Collection("grids", "网格（现行方案）",
                                        f"Grids of the published plan ({name})", "grids",
                                        "plan_id", plan_id))
            elif who.signed_in and who.may("read", "plans"):  # drafts are not public
                found.append(Collection(f"grids-plan-{plan_id}", f"网格（草案 {name}）",
                                        f"Grids of draft plan {name}", "grids", "plan_id",
                                        plan_id, draft=True))
    found += [Collection(name, zh, en, name) for name, (zh, en) in TITLES.items()
              if who.may("read", name)]
    found += [Collection(layer.id, layer.title_zh, layer.title_en, layer.id, layer=layer)
              for layer in LAYERS.values() if readable(layer, who)]
    return found


def collection(conn: sa.Connection, who: Principal, collection_id: str) -> Collection:
    for candidate in collections(conn, who):
        if candidate.id == collection_id:
            return candidate
    if not who.signed_in:  # it may be there for those who sign in
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>', to read "
                               f"collection {collection_id!r}")
    raise NotFound(f"no collection {collection_id!r} (GET /collections lists those you "
                   "may read)")


def queryables(found: Collection, table: sa.FromClause) -> dict[str, Queryable]:
    """What a filter, a property filter or ``sortby`` may name: the resource's (or the
    layer's) fields, its ids, and the geometry."""
    if found.layer is not None:
        return {"id": Queryable(table.c.id, "int"),
                **{name: Queryable(table.c[name], kind)
                   for name, kind in found.layer.fields.items()},
                GEOMETRY: Queryable(table.c.geom, "geometry")}
    spec = found.spec
    names: dict[str, Queryable] = {"id": Queryable(table.c.id, "int")}
    for field in spec.fields:
        if field.name in table.c:
            names[field.name] = Queryable(table.c[field.name], field.type)
    for name in (*spec.id_fields, "grid_id"):
        if name in table.c:
            names[name] = Queryable(table.c[name], "int")
    names[GEOMETRY] = Queryable(table.c.geom, "geometry")
    return names


def hidden(found: Collection, who: Principal) -> frozenset[str]:
    """The queryables this user may not filter or sort by (personal fields masked for
    them)."""
    if found.layer is not None or who.sees_personal(found.resource):
        return frozenset()
    return frozenset(personal_fields(found.resource))


Box = tuple[float, float, float, float]
# PostGIS estimates the extent of a table with storage only: a partitioned table's is
# the union of its partitions' (never-written ones left out). A partition with rows but
# no statistics yet has no estimate: then there is none, and the extent is measured.
ESTIMATED_EXTENT_SQL = sa.text("""
    SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
    FROM (SELECT CASE WHEN bool_and(e IS NOT NULL) THEN ST_Transform(ST_Segmentize(
                     ST_SetSRID(ST_Extent(e), :srid), :step), 4326) END AS b
          FROM (SELECT ST_EstimatedExtent(c.relnamespace::regnamespace::text, c.relname,
                                          'geom')::geometry AS e
                FROM pg_class c
                WHERE (c.oid = CAST(:t AS regclass) AND c.relkind = 'r'
                       OR c.oid IN (SELECT relid FROM pg_partition_tree(CAST(:t AS regclass))
                                    WHERE isleaf))
                  AND pg_relation_size(c.oid) > 0) leaves) e
    WHERE b IS NOT NULL""")


def extent(conn: sa.Connection, found: Collection, table: sa.FromClause, srid: int,
           visible: list[Any] | None = None) -> tuple[Box | None, tuple[Any, Any] | None]:
    """The collection's bounding box in CRS84 and its time span (either None when there
    are no rows). Whole tables use PostGIS's estimate from the planner's statistics,
    which is instant (and a little larger than the data); constrained collections are
    measured (the box of their boxes: no geometry is transformed, so a city's grids
    take milliseconds)."""
    box = None
    visible = visible or []  # a scoped user's rows: the extent of what they reach
    if found.layer is not None and found.layer.analysis:
        # an analysis covers the district: its extent, known without computing it
        table = sa.table("areas", sa.column("level", sa.Text), sa.column("geom", Geometry()))
        found, visible = Collection("", "", "", "areas", "level", "district"), []
    if found.column is None and not visible:  # a whole table: its planner's estimate
        name = found.layer.tables[0] if found.layer is not None else found.spec.table
        box = conn.execute(ESTIMATED_EXTENT_SQL,
                           {"t": name, "srid": srid, "step": ESTIMATE_SEGMENT_M}).first()
    if box is None:
        envelope = sa.func.ST_Transform(sa.func.ST_Segmentize(sa.func.ST_SetSRID(
            sa.cast(sa.func.ST_Extent(table.c.geom), Geometry), srid), EXACT_SEGMENT_M), 4326)
        box = conn.execute(sa.select(
            sa.func.ST_XMin(envelope), sa.func.ST_YMin(envelope), sa.func.ST_XMax(envelope),
            sa.func.ST_YMax(envelope)).where(*found.where(table), *visible)).first()
    span = None
    if found.time_field:
        column = table.c[found.time_field]
        span = conn.execute(sa.select(sa.func.min(column), sa.func.max(column))
                            .where(*found.where(table), *visible)).first()
    bbox = tuple(float(v) for v in box) if box is not None and box[0] is not None else None
    times = (span[0], span[1]) if span is not None and span[0] is not None else None
    return bbox, times  # type: ignore[return-value]
