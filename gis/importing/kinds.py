"""What each importable KIND looks like: its table, fields, geometry and keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .. import taxonomy

FieldType = Literal["text", "int", "float", "bool", "date", "datetime"]
GeometryKind = Literal["point", "polygon", "point_or_polygon", "line"]


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = "text"
    required: bool = False
    choices: Mapping[str, object] | tuple[str, ...] | None = None
    sensitive: bool = False
    future: bool = False  # dates: may lie in the future (plans), else not past the clock
    blank: bool | None = None  # bools: what an empty value means (None: unknown, NULL)


@dataclass(frozen=True)
class Reference:
    """A source field naming another row by code, stored as that row's id."""

    field: str  # the field in the file, e.g. parent_code
    column: str  # the column it fills, e.g. parent_id
    table: str  # the table it points into
    key: str  # the referenced column, e.g. code or external_id
    same_plan: bool = False  # grids: look the code up in the import's plan


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    fields: tuple[Field, ...]
    geometry: GeometryKind | None
    references: tuple[Reference, ...] = ()
    natural_key: tuple[str, ...] = ()  # upsert key when --external-id is not given
    linked: bool = True  # carries grid_id
    track: bool = False  # GPS fixes: checked as tracks once the whole file is in

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


_SYNTHETIC = Field("synthetic", "bool", blank=False)

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("areas", "areas", (
        Field("level", required=True, choices=("district", "subdistrict", "community")),
        Field("code", required=True),
        Field("name", required=True),
        Field("name_en"),
        Field("parent_code"),
    ), "polygon", references=(Reference("parent_code", "parent_id", "areas", "code"),),
        natural_key=("code",), linked=False),
    Kind("grids", "grids", (
        Field("code", required=True),
        Field("name"),
        Field("community_code"),
    ), "polygon", references=(Reference("community_code", "community_id", "areas", "code"),),
        natural_key=("plan_id", "code"), linked=False),
    Kind("workers", "workers", (
        Field("name", required=True),
        Field("phone", sensitive=True),
        Field("employee_no"),
        Field("active", "bool", blank=True),
        Field("grid_codes"),
        _SYNTHETIC,
    ), None, linked=False),
    Kind("buildings", "buildings", (
        Field("name"),
        Field("address"),
        Field("use"),
        Field("levels", "int"),
        Field("households", "int"),
        _SYNTHETIC,
    ), "polygon"),
    Kind("households", "households", (
        Field("unit"),
        Field("members", "int"),
        Field("building_id_ref"),
        _SYNTHETIC,
    ), "point", references=(
        Reference("building_id_ref", "building_id", "buildings", "external_id"),)),
    Kind("people", "people", (
        Field("name", required=True, sensitive=True),
        Field("id_number", sensitive=True),
        Field("phone", sensitive=True),
        Field("sex", choices=("male", "female", "unknown")),
        Field("birth_date", "date", sensitive=True),
        Field("residence_type", choices=("registered", "floating")),
        *(Field(group, "bool", sensitive=True, blank=False)
          for group in taxonomy.SPECIAL_GROUPS),
        Field("building_id_ref"),
        Field("household_id_ref"),
        _SYNTHETIC,
    ), "point", references=(
        Reference("building_id_ref", "building_id", "buildings", "external_id"),
        Reference("household_id_ref", "household_id", "households", "external_id"))),
    Kind("places", "places", (
        Field("name"),
        Field("category", required=True, choices=taxonomy.PLACE_CATEGORIES),
        Field("risk_level", choices=("low", "medium", "high")),
        Field("address"),
        _SYNTHETIC,
    ), "point_or_polygon"),
    Kind("things", "things", (
        Field("type", required=True, choices=taxonomy.THING_TYPES),
        Field("name"),
        Field("status", choices=("online", "offline", "unknown")),
        Field("range_m", "float"),
        Field("fov_deg", "float"),
        Field("bearing_deg", "float"),
        _SYNTHETIC,
    ), "point"),
    Kind("organisations", "organisations", (
        Field("name", required=True),
        Field("kind", choices=("enterprise", "social_organisation", "public_institution",
                               "other")),
        Field("address"),
        _SYNTHETIC,
    ), "point"),
    Kind("incidents", "incidents", (
        Field("category", required=True, choices=taxonomy.INCIDENT_CATEGORIES),
        Field("subcategory"),
        Field("occurred_at", "datetime", required=True),
        Field("reported_at", "datetime"),
        Field("status", choices=("reported", "dispatched", "in_progress", "resolved",
                                 "closed")),
        Field("source", choices=("police_call", "grid_worker", "hotline", "citizen",
                                 "camera", "other")),
        Field("description", sensitive=True),  # free text: may name people
        _SYNTHETIC,
    ), "point"),
    # The street network (OpenStreetMap-style highway classes), for reach and routing.
    Kind("roads", "roads", (
        Field("name"),
        Field("highway", required=True),
        Field("oneway", "bool", blank=False),
    ), "line", linked=False),
    # A grid worker's visit to, or verification of, a household or a person.
    Kind("visits", "visits", (
        Field("visited_at", "datetime", required=True),
        Field("kind", choices=taxonomy.VISIT_KINDS),
        Field("outcome", choices=taxonomy.VISIT_OUTCOMES),
        Field("worker_ref"),
        Field("household_id_ref"),
        Field("person_id_ref"),
        Field("note", sensitive=True),
        _SYNTHETIC,
    ), None, references=(
        Reference("worker_ref", "worker_id", "workers", "employee_no"),
        Reference("household_id_ref", "household_id", "households", "external_id"),
        Reference("person_id_ref", "person_id", "people", "external_id")), linked=False),
    # GPS fixes of patrol units (CSV, or a GPX file's track_points layer).
    Kind("patrol_points", "patrol_points", (
        Field("unit", required=True),
        Field("shift"),
        Field("recorded_at", "datetime", required=True),
        _SYNTHETIC,
    ), "point", linked=False, track=True),
)}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown kind {name!r}; choose one of: {', '.join(KINDS)}"
        ) from None
