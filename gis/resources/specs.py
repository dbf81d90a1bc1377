"""What each resource is: its kind (fields, geometry), what a list may be filtered and
sorted by, and which fields are internal (the personal ones: gis.access.masking). The
API builds its query parameters and models from these specs, so a filter cannot be
documented but ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..importing.kinds import KINDS, Field, Kind

PLAN_KIND = Kind("grid_plans", "grid_plans", (
    Field("name", required=True),
    Field("description"),
    Field("state", choices=("draft", "published", "retired")),
    Field("valid_from", "datetime", future=True),
    Field("valid_to", "datetime", future=True),
), None, linked=False)

FilterType = Literal["codes", "text", "ref", "bool", "bbox", "time", "special"]


@dataclass(frozen=True)
class Filter:
    """A list filter: the query parameter, what it matches and how.

    ``codes`` match a column against its vocabulary; ``text`` against the values the
    column holds; ``ref`` name rows of another table (``table``) by its ``key`` column
    (a code, a name or the id) and match ``column`` against their ids. Every kind but
    ``bool``, ``bbox`` and ``time`` takes several values, repeated or comma-separated, and
    a value that names nothing is refused."""

    name: str
    type: FilterType
    description: str
    column: str | None = None  # the column it compares
    table: str | None = None  # ref: the table it names rows of
    key: str = "id"  # ref: that table's column the values are


def ref(name: str, description: str, column: str, table: str, key: str = "id") -> Filter:
    return Filter(name, "ref", description, column, table, key)


BBOX = Filter("bbox", "bbox", "minLon,minLat,maxLon,maxLat in WGS84: rows whose geometry "
              "intersects the box")
TIME = Filter("time", "time", "start/end: ISO 8601 date or date-time; [start, end)")
# Grid codes name grids of the published plan, whose view the database keeps.
GRID = ref("grid", "grid codes in the published plan", "grid_id", "published_grids", "code")
GRID_ID = ref("grid_id", "grid ids", "grid_id", "grids")
COMMUNITY = ref("community", "community (area) codes: rows in their grids", "community_id",
                "areas", "code")
COMMUNITY_ID = ref("community_id", "community (area) ids: rows in their grids",
                   "community_id", "areas")
SYNTHETIC = Filter("synthetic", "bool", "true: only synthetic (demo) rows; false: only "
                   "real ones", "synthetic")
LOCATED = (BBOX, GRID, GRID_ID, COMMUNITY, COMMUNITY_ID, SYNTHETIC)


def codes(name: str, what: str) -> Filter:
    return Filter(name, "codes", what, name)


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    kind: Kind
    sortable: tuple[str, ...]
    filters: tuple[Filter, ...] = ()
    id_fields: tuple[str, ...] = ()  # foreign keys a client may set by id
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
        ref("parent", "parent area codes", "parent_id", "areas", "code"),
        ref("parent_id", "parent area ids", "parent_id", "areas"),
    ), id_fields=("parent_id",), hidden=("parent_code",)),
    ResourceSpec("plans", PLAN_KIND, ("id", "name", "state", "valid_from"), (
        codes("state", "plan state"),)),
    ResourceSpec("grids", KINDS["grids"], ("id", "code", "name"), (
        BBOX, ref("plan", "grid plan names", "plan_id", "grid_plans", "name"),
        ref("plan_id", "grid plan ids", "plan_id", "grid_plans"),
        ref("community", "community (area) codes", "community_id", "areas", "code"),
        ref("community_id", "community (area) ids", "community_id", "areas"),
    ), id_fields=("plan_id", "community_id"), hidden=("community_code",)),
    ResourceSpec("people", KINDS["people"], ("id", "name", "birth_date", "residence_type"), (
        *LOCATED, codes("residence_type", "registered or floating residents"),
        Filter("special", "special", "special groups, or 'any' for people in any of them"),
        ref("household_id", "household ids", "household_id", "households"),
        ref("building_id", "building ids", "building_id", "buildings"),
    ), id_fields=("building_id", "household_id"),
        hidden=("building_id_ref", "household_id_ref")),
    ResourceSpec("buildings", KINDS["buildings"], ("id", "name", "levels", "households"), (
        *LOCATED, Filter("use", "text", "building uses (OpenStreetMap building=* values)",
                         "use"),
    )),
    ResourceSpec("households", KINDS["households"], ("id", "unit", "members"), (
        *LOCATED, ref("building_id", "building ids", "building_id", "buildings"),
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
        ref("grid", "grid codes in the published plan: their assigned workers", "grid_id",
            "published_grids", "code"),
        ref("grid_id", "grid ids: their assigned workers", "grid_id", "grids"),
        Filter("active", "bool", "true: active workers only; false: inactive only",
               "active"),
        SYNTHETIC,
    ), hidden=("grid_codes",)),
)}
