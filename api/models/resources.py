"""Per-resource models, generated from the resource specs (the importer's field types,
required fields and vocabularies), so that the API documents exactly what the domain
checks: the properties a row shows, its Feature and list forms, and the bodies that
create and update it. Unknown fields are refused (422 naming the field)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from geojson_pydantic import MultiPolygon, Point
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    create_model,
)

from gridgis.gis.access.masking import personal_fields
from gridgis.gis.importing.convert import TEXT_MAX_CHARS, check_text
from gridgis.gis.importing.kinds import Field as KindField
from gridgis.gis.partitions import DISTRICT_PARTITIONED
from gridgis.gis.resources import RESOURCES, ResourceSpec

from .common import FEATURE_TAG, FIELDS_TAG, Page
from .geometry import MultiPolygonIn, PointIn, PolygonIn, geometry_in

# Bodies take JSON types as they are: a number is not a string, true is not 1.
Text = Annotated[StrictStr, Field(max_length=TEXT_MAX_CHARS), AfterValidator(check_text)]
BODY_TYPES: dict[str, Any] = {"text": Text, "int": StrictInt, "float": StrictFloat,
                              "bool": StrictBool,
                              "date": dt.date, "datetime": dt.datetime}
ROW_TYPES: dict[str, Any] = {"text": str, "int": int, "float": float, "bool": bool,
                             "date": dt.date, "datetime": dt.datetime}
GEOMETRY_IN: dict[str, Any] = {
    "point": geometry_in(PointIn), "polygon": geometry_in(PolygonIn, MultiPolygonIn),
    "point_or_polygon": geometry_in(PointIn, PolygonIn, MultiPolygonIn)}
GEOMETRY_OUT: dict[str, Any] = {"point": Point, "polygon": MultiPolygon,
                                "point_or_polygon": Point | MultiPolygon}
STRICT = ConfigDict(extra="forbid")


def _title(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


MASKED = ("personal data: masked unless your roles and scope allow (an identifier keeps "
          "its first three and last four characters, a name its first, a date its year; "
          "anything else reads ***)")


def _value_type(field: KindField, *, body: bool = False) -> Any:
    if field.choices is not None:
        return Literal[tuple(field.choices)]
    return (BODY_TYPES if body else ROW_TYPES)[field.type]


def _description(field: KindField) -> str | None:
    notes = []
    if field.sensitive:
        notes.append("personal data")
    if field.type == "datetime":
        notes.append("ISO 8601; without an offset it is UTC")
    return "; ".join(notes) or None


@dataclass(frozen=True)
class ResourceModels:
    """The models of one resource."""

    row: type[BaseModel]  # a row as read (the properties of a Feature)
    one: type[BaseModel]  # GET /{id}: a Feature, or the row
    many: type[BaseModel]  # GET list: a FeatureCollection, or items, with paging
    create: type[BaseModel]  # POST body
    update: type[BaseModel]  # PATCH body


def _row_model(spec: ResourceSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {"id": (int, ...)}
    personal = personal_fields(spec.name)
    for f in spec.fields:
        masked = f.name in personal
        value: Any = _value_type(f) | str if masked and f.type != "text" else _value_type(f)
        fields[f.name] = (value | None, Field(
            None, description=MASKED if masked else _description(f)))
    for name in spec.id_fields:
        fields[name] = (int | None, None)
    if spec.kind.linked:
        fields["grid_id"] = (int | None, Field(None, description=(
            "the published grid the row lies in (maintained by the database)")))
    if spec.table in DISTRICT_PARTITIONED:
        fields["district_id"] = (int | None, Field(None, description=(
            "the district area the row lies in, which it is stored by (maintained by "
            "the database)")))
    if spec.name != "plans":
        fields["external_id"] = (str | None, None)
        fields["properties"] = (dict[str, Any], Field(
            default_factory=dict, description="columns of the source kept as they were" + (
                "; their values are personal data, masked as ***" if "properties" in personal
                else "")))
    fields["version"] = (int, Field(description="send it back (If-Match) to update"))
    fields["created_at"] = (dt.datetime, ...)
    fields["updated_at"] = (dt.datetime, ...)
    return create_model(f"{_title(spec.name)}Row", __config__=STRICT, **fields)


def _body_model(spec: ResourceSpec, *, creating: bool) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for f in spec.fields:
        required = creating and f.required
        kind = _value_type(f, body=True)
        if f.required and kind is Text:  # a required text must say something
            kind = Annotated[Text, Field(pattern=r"\S")]
        fields[f.name] = (kind if required else kind | None,
                          Field(... if required else None, description=_description(f)))
    for name in spec.id_fields:
        fields[name] = (StrictInt | None, None)
    if spec.name != "plans":
        fields["external_id"] = (Text | None, Field(
            None, description="the row's id in its source system (imports upsert on it)"))
        fields["properties"] = (dict[str, Any] | None, Field(
            None, description="extra attributes kept with the row"))
    if not creating:
        fields["version"] = (StrictInt | None, Field(
            None, description="the version you edited (or send If-Match / ?version=)"))
    suffix = "Create" if creating else "Update"
    return create_model(f"{_title(spec.name)}{suffix}Properties", __config__=STRICT,
                        **fields)


def _feature_body(spec: ResourceSpec, properties: type[BaseModel], *, creating: bool
                  ) -> type[BaseModel]:
    geometry: Any = GEOMETRY_IN[spec.kind.geometry or "point"]
    name = f"{_title(spec.name)}{'Create' if creating else 'Update'}"
    fields: dict[str, Any] = {
        "type": (Literal["Feature"], ...),
        "geometry": (geometry if creating else geometry | None,
                     Field(... if creating else None, description="WGS84 (RFC 7946)")),
        "properties": (properties if creating else properties | None,
                       ... if creating else None),
        "id": (int | str | None, None), "bbox": (list[float] | None, None)}
    feature: Any = create_model(f"{name}Feature", __config__=STRICT, **fields)
    if creating:
        return feature
    # An update may also be the plain object of changed fields (with a geometry).
    plain: Any = create_model(f"{name}Fields", __base__=properties,
                              geometry=(geometry | None, Field(None, description="WGS84")))
    either: Any = Annotated[Annotated[feature, Tag(FEATURE_TAG)]
                            | Annotated[plain, Tag(FIELDS_TAG)], Discriminator(_shape)]
    return type(name, (RootModel[either],), {"__module__": __name__})


def _shape(value: Any) -> str:
    return FEATURE_TAG if isinstance(value, dict) and value.get("type") == "Feature" \
        else FIELDS_TAG


def build(spec: ResourceSpec) -> ResourceModels:
    row: Any = _row_model(spec)
    title = _title(spec.name)
    one: Any = row
    if spec.spatial:
        geometry: Any = GEOMETRY_OUT[spec.kind.geometry or "point"]
        feature: dict[str, Any] = {"type": (Literal["Feature"], ...), "id": (int, ...),
                                   "geometry": (geometry | None, ...),
                                   "properties": (row, ...)}
        one = create_model(f"{title}Feature", **feature)
        listing: dict[str, Any] = {"type": (Literal["FeatureCollection"], ...),
                                   "features": (list[one], ...)}
        many = create_model(f"{title}Collection", __base__=Page, **listing)
    else:
        many = create_model(f"{title}List", __base__=Page, items=(list[row], ...))
    create_fields = _body_model(spec, creating=True)
    update_fields = _body_model(spec, creating=False)
    if spec.spatial:
        return ResourceModels(row, one, many, _feature_body(spec, create_fields,
                                                            creating=True),
                              _feature_body(spec, update_fields, creating=False))
    return ResourceModels(row, one, many, create_fields, update_fields)


MODELS: dict[str, ResourceModels] = {name: build(spec) for name, spec in RESOURCES.items()}
