"""Collections of what gridgis derives or keeps beside the grid model's resources: the
hotspot classes and areas and the blind-spot layers (analyses, staged in PostGIS per
data version by ``gis.services.feature_layers``), the patrol routes and the road network
(tables). Each is read as a SQL source with typed columns, so that paging, bbox,
datetime, CQL2 filters, sorting and vector tiles work on them as on the resources.

None of them carries a personal field. Who may read one is the roles' features it is
made of (a layer of hotspot cells also needs the right to read hotspots); a user with a
scope sees the features touching their grids, and the patrol routes of plans made
within it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from ..access.principal import Principal

Shape = Literal["point", "line", "polygon"]
CASTS: dict[str, Any] = {"text": sa.Text, "int": sa.BigInteger, "float": sa.Float,
                         "bool": sa.Boolean, "datetime": sa.DateTime(timezone=True),
                         "date": sa.Date}


@dataclass(frozen=True)
class Layer:
    id: str
    title_zh: str
    title_en: str
    description: str
    geometry: Shape
    fields: dict[str, str]  # name → queryable type
    needs: tuple[str, ...]  # every role feature it takes to read it
    analysis: bool = True  # staged from an analysis (else a table)
    time_field: str | None = None
    lists: tuple[str, ...] = field(default=())  # list values, staged as comma-joined text
    tables: tuple[str, ...] = ("derived_features", "grids")  # what its rows are read from


HOT_CELL = {"cell": "int", "code": "text", "incidents": "int", "z": "float", "p": "float",
            "class": "int"}
LAYERS: dict[str, Layer] = {layer.id: layer for layer in (
    Layer("hotspots-gi", "热点（Gi*）", "Hotspot classes (Gi*)",
          "Getis-Ord Gi* on the 150 m hexagon lattice of the district over the incidents "
          "of the default period, as GET /hotspots/gi gives it (which takes other "
          "parameters): class ±90/95/99 after false-discovery-rate correction.",
          "polygon", HOT_CELL, ("hotspots",)),
    Layer("hotspots-areas", "热点区域", "Hotspot areas",
          "Touching hot cells of class 95 or more merged, with their incidents, share, "
          "area, grids, communities, peak hours and weekdays (GET /hotspots/areas).",
          "polygon", {"incidents": "int", "share": "float", "area_m2": "float",
                      "peak_class": "int", "grids": "text", "communities": "text",
                      "peak_hours": "text", "peak_weekdays": "text"}, ("hotspots",),
          lists=("grids", "communities", "peak_hours", "peak_weekdays")),
    Layer("blindspots-gaps", "盲区：未覆盖区域", "Blind spots: land in no grid",
          "Land of the district no grid of the published plan covers, with its area and "
          "whether it is a sliver (GET /blindspots/coverage).",
          "polygon", {"area_m2": "float", "sliver": "bool", "community": "text",
                      "grids": "text"}, ("blindspots",), lists=("grids",)),
    Layer("blindspots-overlaps", "盲区：网格重叠", "Blind spots: grids overlapping",
          "Land two grids of the published plan both cover (GET /blindspots/coverage).",
          "polygon", {"grid_a": "text", "grid_b": "text", "area_m2": "float",
                      "sliver": "bool", "community": "text"}, ("blindspots",)),
    Layer("blindspots-dead-corners", "盲区：监控死角", "Blind spots: unwatched hotspots",
          "Hotspot cells no online camera sees, ranked (GET /blindspots/cameras).",
          "polygon", {"cell": "int", "rank": "int", "z": "float", "class": "int",
                      "incidents": "int", "grid": "text"}, ("blindspots", "hotspots")),
    Layer("blindspots-patrol", "盲区：巡逻覆盖", "Blind spots: patrol presence at hotspots",
          "Hotspot cells with the minutes of patrol presence per week and the last fix; "
          "patrolled_recently false marks an unpatrolled hotspot (GET /blindspots/patrol).",
          "polygon", {"cell": "int", "rank": "int", "z": "float", "class": "int",
                      "incidents": "int", "minutes_per_week": "float",
                      "last_seen": "datetime", "patrolled_recently": "bool",
                      "grid": "text"}, ("blindspots", "hotspots"), time_field="last_seen"),
    Layer("blindspots-reach", "盲区：出警时间", "Blind spots: minutes from the posts",
          "Every street with the minutes on foot and by car from the nearest police post "
          "or patrol base (null: beyond four times the threshold, or unreachable) "
          "(GET /blindspots/reach).",
          "line", {"highway": "text", "oneway": "bool", "foot_min": "float",
                   "car_min": "float", "grid": "text"}, ("blindspots",)),
    Layer("patrol-routes", "巡逻路线", "Patrol routes",
          "The route of each unit of every ready patrol plan, with its plan, shift and "
          "travel mode (GET /patrols/plans); id is plan × 1000 + unit.",
          "line", {"plan_id": "int", "plan": "text", "unit": "int", "name": "text",
                   "mode": "text", "minutes": "float", "metres": "float", "risk": "float",
                   "shift_start": "datetime", "shift_end": "datetime"}, ("patrols",),
          analysis=False, time_field="shift_start", tables=("patrol_routes", "patrol_plans")),
    Layer("roads", "道路", "Road network",
          "The streets routing and travel times use (gridgis import-roads).",
          "line", {"name": "text", "highway": "text", "oneway": "bool"}, ("maps",),
          analysis=False, tables=("roads",)),
)}
UNITS_PER_PLAN = 1000  # a patrol route's id: plan × 1000 + unit (a plan has ≤ 100 units)

DERIVED_FEATURES = sa.table("derived_features", sa.column("layer", sa.Text),
                            sa.column("fid", sa.BigInteger), sa.column("properties", JSONB),
                            sa.column("geom", Geometry()))
ROADS = sa.table("roads", sa.column("id", sa.BigInteger), sa.column("name", sa.Text),
                 sa.column("highway", sa.Text), sa.column("oneway", sa.Boolean),
                 sa.column("geom", Geometry()))
PATROL_ROUTES = sa.table("patrol_routes", sa.column("plan_id", sa.BigInteger),
                         sa.column("unit", sa.Integer), sa.column("name", sa.Text),
                         sa.column("minutes", sa.Float), sa.column("metres", sa.Float),
                         sa.column("risk", sa.Float), sa.column("geom", Geometry()))
PATROL_PLANS = sa.table("patrol_plans", sa.column("id", sa.BigInteger),
                        sa.column("name", sa.Text), sa.column("status", sa.Text),
                        sa.column("scope", ARRAY(sa.Text)), sa.column("mode", sa.Text),
                        sa.column("shift_start", sa.DateTime(timezone=True)),
                        sa.column("shift_end", sa.DateTime(timezone=True)))
GRIDS = sa.table("grids", sa.column("id", sa.BigInteger), sa.column("geom", Geometry()))


def readable(layer: Layer, who: Principal) -> bool:
    return all(who.may("read", feature) for feature in layer.needs)


def source(layer: Layer, who: Principal) -> sa.Subquery:
    """The layer's features as rows: ``id``, its fields, ``geom`` (storage CRS), only
    those ``who`` reaches."""
    query: Any
    if layer.id == "roads":
        query = sa.select(ROADS.c.id, ROADS.c.name, ROADS.c.highway, ROADS.c.oneway,
                          ROADS.c.geom)
    elif layer.id == "patrol-routes":
        query = _patrol_routes(who)
    else:
        props = DERIVED_FEATURES.c.properties
        query = sa.select(DERIVED_FEATURES.c.fid.label("id"), *(
            sa.cast(props[name].astext, CASTS[kind]).label(name)
            for name, kind in layer.fields.items()), DERIVED_FEATURES.c.geom).where(
            DERIVED_FEATURES.c.layer == layer.id)
        if who.grid_ids is not None:  # what touches their grids
            query = query.where(sa.exists().where(
                GRIDS.c.id.in_(sorted(who.grid_ids)),
                sa.func.ST_Intersects(GRIDS.c.geom, DERIVED_FEATURES.c.geom)))
    return query.subquery(layer.id.replace("-", "_"))


def _patrol_routes(who: Principal) -> sa.Select:
    routes, plans = PATROL_ROUTES, PATROL_PLANS
    query = sa.select(
        (routes.c.plan_id * UNITS_PER_PLAN + routes.c.unit).label("id"),
        routes.c.plan_id, plans.c.name.label("plan"), routes.c.unit, routes.c.name,
        plans.c.mode, routes.c.minutes, routes.c.metres, routes.c.risk, plans.c.shift_start,
        plans.c.shift_end, routes.c.geom
    ).join_from(routes, plans, plans.c.id == routes.c.plan_id).where(
        plans.c.status == "ready", routes.c.geom.isnot(None))
    if who.grid_ids is not None:  # plans made within their scope, as GET /patrols/plans
        query = query.where(plans.c.scope != sa.cast([], ARRAY(sa.Text)),
                            plans.c.scope.contained_by(sa.cast(list(who.scope),
                                                               ARRAY(sa.Text))))
    return query

