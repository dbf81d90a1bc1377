"""What each resource is: its kind (fields, geometry), what a list may be filtered and
sorted by, which fields are masked and which are internal. The API builds its query
parameters and models from these specs, so a filter cannot be documented but ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..importing.kinds import KINDS, Field, Kind

PLAN_KIND = Kind("grid_plans", "grid_plans", (
    Field("name", required=True),
    Field("description"),
    Field("state", choices=("draft", "published", "retired")),
    Field("valid_from", "datetime"),
    Field("valid_to", "datetime"),
), None, linked=False)

FilterType = Literal["codes", "text", "id", "code", "bool", "bbox", "time", "special"]


@dataclass(frozen=True)
class Filter:
    """A list filter: the query parameter, what it matches and how."""

    name: str
    type: FilterType
    description: str
    column: str | None = None  # the column it compares (codes, text, id, bool)
    table: str | None = None  # code filters: the table whose code (or name) it names
    key: str = "code"  # code filters: that table's key column


BBOX = Filter("bbox", "bbox", "minLon,minLat,maxLon,maxLat in WGS84: rows whose geometry "
              "intersects the box")
TIME = Filter("time", "time", "start/end: ISO 8601 date or date-time; [start, end)")
GRID = Filter("grid", "code", "grid code in the published plan", "grid_id", "grids")
GRID_ID = Filter("grid_id", "id", "grid id", "grid_id")
COMMUNITY = Filter("community", "code", "community (area) code: rows in its grids",
                   "community_id", "areas")
COMMUNITY_ID = Filter("community_id", "id", "community (area) id: rows in its grids",
                      "community_id")
SYNTHETIC = Filter("synthetic", "bool", "true: only synthetic (demo) rows; false: only "
                   "real ones", "synthetic")
LOCATED = (BBOX, GRID, GRID_ID, COMMUNITY, COMMUNITY_ID, SYNTHETIC)


def codes(name: str, what: str) -> Filter:
    return Filter(name, "codes", f"{what}: one or more codes, comma-separated or repeated",
                  name)


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    kind: Kind
    sortable: tuple[str, ...]
    filters: tuple[Filter, ...] = ()
    id_fields: tuple[str, ...] = ()  # foreign keys a client may set by id
    masked: tuple[str, ...] = ()
    time_column: str | None = None
    hidden: tuple[str, ...] = ()  # import-only fields (references by code)

    @property
    def table(self) -> str:
        return self.kind.table

    @property
    def spatial(self) -> bool:
        return self.kind.geometry is not None

    @property
    def fields(self) -> tuple[Field, ...]:
        """The fields a client reads and writes (import-only references left out)."""
        return tuple(f for f in self.kind.fields if f.name not in self.hidden)

    def filter(self, name: str) -> Filter | None:
        return next((f for f in self.filters if f.name == name), None)


RESOURCES: dict[str, ResourceSpec] = {r.name: r for r in (
    ResourceSpec("areas", KINDS["areas"], ("id", "code", "name", "level"), (
        BBOX, codes("level", "area level"),
        Filter("parent", "code", "parent area code", "parent_id", "areas"),
        Filter("parent_id", "id", "parent area id", "parent_id"),
    ), id_fields=("parent_id",), hidden=("parent_code",)),
    ResourceSpec("plans", PLAN_KIND, ("id", "name", "state", "valid_from"), (
        codes("state", "plan state"),)),
    ResourceSpec("grids", KINDS["grids"], ("id", "code", "name"), (
        BBOX, Filter("plan", "code", "grid plan name", "plan_id", "grid_plans", "name"),
        Filter("plan_id", "id", "grid plan id", "plan_id"),
        Filter("community", "code", "community (area) code", "community_id", "areas"),
        Filter("community_id", "id", "community (area) id", "community_id"),
    ), id_fields=("plan_id", "community_id"), hidden=("community_code",)),
    ResourceSpec("people", KINDS["people"], ("id", "name", "birth_date", "residence_type"), (
        *LOCATED, codes("residence_type", "registered or floating residents"),
        Filter("special", "special", "special groups (comma-separated or repeated), or "
               "'any' for people in any of them"),
        Filter("household_id", "id", "household id", "household_id"),
        Filter("building_id", "id", "building id", "building_id"),
    ), id_fields=("building_id", "household_id"), masked=("id_number", "phone"),
        hidden=("building_id_ref", "household_id_ref")),
    ResourceSpec("buildings", KINDS["buildings"], ("id", "name", "levels", "households"), (
        *LOCATED, Filter("use", "text", "building use (OpenStreetMap building=* value): "
                         "comma-separated or repeated", "use"),
    )),
    ResourceSpec("households", KINDS["households"], ("id", "unit", "members"), (
        *LOCATED, Filter("building_id", "id", "building id", "building_id"),
    ), id_fields=("building_id",), hidden=("building_id_ref",)),
    ResourceSpec("places", KINDS["places"], ("id", "name", "category", "risk_level"), (
        *LOCATED, codes("category", "place category"), codes("risk_level", "risk level"),
    )),
    ResourceSpec("things", KINDS["things"], ("id", "name", "type", "status"), (
        *LOCATED, codes("type", "thing type"), codes("status", "status"),
    )),
    ResourceSpec("organisations", KINDS["organisations"], ("id", "name", "kind"), (
        *LOCATED, codes("kind", "organisation kind"),
    )),
    ResourceSpec("incidents", KINDS["incidents"],
                 ("id", "occurred_at", "reported_at", "category", "status"), (
        *LOCATED, codes("category", "incident category"), codes("status", "status"),
        codes("source", "source"), TIME,
    ), time_column="occurred_at"),
    ResourceSpec("workers", KINDS["workers"], ("id", "name", "employee_no"), (
        Filter("grid", "code", "grid code in the published plan: its assigned workers",
               "grid_id", "grids"),
        Filter("grid_id", "id", "grid id: its assigned workers", "grid_id"),
        Filter("active", "bool", "true: active workers only; false: inactive only",
               "active"),
        SYNTHETIC,
    ), masked=("phone",), hidden=("grid_codes",)),
)}
