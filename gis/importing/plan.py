"""The import plan: what one import decides once, before its first chunk.

Which source column feeds which field, the extra columns kept as properties, and the
transformation into the deployment CRS with its area of use are fixed for the whole
file, so every chunk (and every API record) is checked against the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyproj import CRS, Transformer

from ..crs import DeploymentArea, deployment_area
from ..errors import InvalidInput
from .convert import DateRange
from .kinds import Kind
from .mapping import GEOMETRY_FIELDS, Mapping


@dataclass
class ImportPlan:
    """Everything about one import that does not change from chunk to chunk."""

    kind: Kind
    columns: dict[str, str]  # field -> source column
    mapping: Mapping
    source_crs: CRS | None
    target_srid: int
    timezone: str = "UTC"
    repair: bool = True
    extra_columns: list[str] = field(default_factory=list)
    partial: bool = False  # an update: only the given fields, none required
    dates: DateRange = field(default_factory=DateRange.now)
    _transformer: Transformer | None = None

    @classmethod
    def build(cls, kind: Kind, source_columns: list[str], mapping: Mapping,
              source_crs: CRS | None, target_srid: int, *, timezone: str = "UTC",
              repair: bool = True, keep_extra: bool = True, partial: bool = False
              ) -> ImportPlan:
        columns: dict[str, str] = {}
        lowered = {c.lower(): c for c in source_columns}
        unknown_targets = set(mapping.fields) - set(kind.field_names) - set(GEOMETRY_FIELDS)
        if unknown_targets:
            raise InvalidInput(
                f"the mapping names fields that {kind.name} do not have: "
                f"{', '.join(sorted(unknown_targets))}. Fields: {', '.join(kind.field_names)}",
                field="--map")
        for f in kind.fields:
            if f.name in mapping.fields:
                source = mapping.fields[f.name]
                if source not in source_columns:
                    raise InvalidInput(
                        f"field {f.name} is mapped to column {source!r}, which the file does "
                        f"not have; its columns are: {', '.join(source_columns)}",
                        field=f.name)
                columns[f.name] = source
            elif f.name.lower() in lowered and f.name not in mapping.datetimes:
                columns[f.name] = lowered[f.name.lower()]
        for name, parts in mapping.datetimes.items():
            missing = [c for c in parts.values() if c not in source_columns]
            if missing:
                raise InvalidInput(f"date-time {name} uses columns the file does not have: "
                                   f"{', '.join(missing)}", field=name)
        if mapping.external_id and mapping.external_id not in source_columns:
            raise InvalidInput(f"--external-id names column {mapping.external_id!r}, which "
                               f"the file does not have; its columns are: "
                               f"{', '.join(source_columns)}", field="--external-id")
        for f in kind.fields:
            if partial:
                break
            if f.required and f.name not in columns and f.name not in mapping.constants \
                    and f.name not in mapping.datetimes:
                raise InvalidInput(
                    f"required field {f.name} of {kind.name} is missing: the file has no "
                    f"column {f.name!r}; map one with --map {f.name}=COLUMN",
                    field=f.name)
        used = set(columns.values()) | {c for p in mapping.datetimes.values()
                                        for c in p.values()}
        used |= {mapping.fields[g] for g in GEOMETRY_FIELDS if g in mapping.fields}
        if mapping.external_id:
            used.add(mapping.external_id)
        extra = [c for c in source_columns if c not in used
                 and c.lower() not in ("x", "y", "lon", "lat", "lng", "longitude",
                                       "latitude", "wkt", "geometry")] if keep_extra else []
        if kind.geometry is not None and source_crs is None:
            raise InvalidInput("the file's CRS is unknown; pass --crs", field="--crs")
        return cls(kind, columns, mapping, source_crs, target_srid, timezone, repair, extra,
                   partial)

    @property
    def transformer(self) -> Transformer:
        if self._transformer is None:
            assert self.source_crs is not None
            self._transformer = Transformer.from_crs(self.source_crs, CRS.from_epsg(
                self.target_srid), always_xy=True)
        return self._transformer

    @property
    def area(self) -> DeploymentArea:
        """Where the deployment CRS applies (degrees and metres)."""
        return deployment_area(self.target_srid)
