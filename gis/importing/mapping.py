"""How a file's columns become a kind's fields: ``--map`` and mapping files.

A mapping file is TOML::

    kind = "incidents"             # optional, checked against the command line
    crs = "EPSG:2913"              # the file's CRS when it does not say
    external_id = "final_case"     # column whose value identifies a row across imports
    timezone = "America/Los_Angeles"  # for date-times without an offset
    dissolve = true                # areas, grids: rows sharing a code become one
                                   # multipolygon (a district drawn in three parts)

    [fields]                       # field = "source column"
    category = "CATEGORY"
    occurred_at = "occ_date"
    x = "X"                        # CSV coordinates (or lon/lat); geometry = "WKT" for WKT
    y = "Y"

    [datetime.occurred_at]         # a date-time assembled from separate columns
    year = "YEAR"
    month = "MONTH"
    day = "DAY"
    hour = "HOUR"
    minute = "MINUTE"

    [values.category]              # source value = value to use, for any field:
    BURGLARY = "property_crime"    # taxonomy codes, and codes written differently
    [values.parent_code]           # ('01' in the file, '1' in the areas)
    "01" = "1"

    [constants]                    # the same value for every row
    source = "police_call"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInput

DATETIME_PARTS = ("year", "month", "day", "hour", "minute", "second")
GEOMETRY_FIELDS = ("x", "y", "geometry")


@dataclass
class Mapping:
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    datetimes: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    crs: str | None = None
    external_id: str | None = None
    timezone: str | None = None
    kind: str | None = None
    layer: str | None = None
    dissolve: bool = False  # rows sharing a code become one multipolygon (areas, grids)

    def merged(self, other: Mapping) -> Mapping:
        """``other`` (the command line) wins over self (the file)."""
        return Mapping(
            fields={**self.fields, **other.fields},
            values={**self.values, **other.values},
            datetimes={**self.datetimes, **other.datetimes},
            constants={**self.constants, **other.constants},
            crs=other.crs or self.crs,
            external_id=other.external_id or self.external_id,
            timezone=other.timezone or self.timezone,
            kind=other.kind or self.kind,
            layer=other.layer or self.layer,
            dissolve=other.dissolve or self.dissolve,
        )


def parse_map_option(text: str | None) -> dict[str, str]:
    """``name=NAME,category=TYPE`` to ``{"name": "NAME", "category": "TYPE"}``."""
    result: dict[str, str] = {}
    if not text:
        return result
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        target, sep, source = part.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInput(f"--map expects FIELD=COLUMN pairs separated by commas; "
                               f"got {part!r}", field="--map")
        result[target.strip()] = source.strip()
    return result


def load_mapping_file(path: Path) -> Mapping:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read mapping file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"mapping file {path} is not valid TOML: {exc}") from exc
    known = {"kind", "crs", "external_id", "timezone", "layer", "dissolve", "fields",
             "values", "datetime", "constants"}
    unknown = set(data) - known
    if unknown:
        raise InvalidInput(f"mapping file {path}: unknown keys {sorted(unknown)}; "
                           f"expected some of {sorted(known)}")
    for table in ("fields", "values", "datetime", "constants"):
        if not isinstance(data.get(table, {}), dict):
            raise InvalidInput(f"mapping file {path}: [{table}] must be a table")
    for name, parts in data.get("datetime", {}).items():
        bad = set(parts) - set(DATETIME_PARTS)
        if bad or not {"year", "month", "day"} <= set(parts):
            raise InvalidInput(
                f"mapping file {path}: [datetime.{name}] needs year, month and day columns "
                f"(and optionally hour, minute, second); got {sorted(parts)}")
    return Mapping(
        fields={k: str(v) for k, v in data.get("fields", {}).items()},
        values={k: {str(a): str(b) for a, b in v.items()}
                for k, v in data.get("values", {}).items()},
        datetimes={k: {p: str(c) for p, c in v.items()}
                   for k, v in data.get("datetime", {}).items()},
        constants=dict(data.get("constants", {})),
        crs=data.get("crs"),
        external_id=data.get("external_id"),
        timezone=data.get("timezone"),
        kind=data.get("kind"),
        dissolve=_flag(data.get("dissolve", False), path),
        layer=data.get("layer"),
    )


def _flag(value: object, path: Path) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"mapping file {path}: dissolve must be true or false")
    return value
