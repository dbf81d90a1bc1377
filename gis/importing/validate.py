"""Turning raw chunks into typed, validated rows in the deployment CRS.

Every check is vectorised over a chunk; each bad row becomes a :class:`Rejection` with
its 1-based row number, the field and the reason. A row with any rejection is dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from ..errors import InvalidInput, Rejection
from .kinds import Field, Kind
from .mapping import GEOMETRY_FIELDS, Mapping
from .readers import RawChunk

TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "off"}
AREA_MARGIN_DEG = 2.0


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
    _transformer: Transformer | None = None
    _area: tuple[float, float, float, float] | None = None
    _area_deg: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)

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
    def area(self) -> tuple[float, float, float, float]:
        """The deployment CRS's area of use plus a margin, in its own metres."""
        if self._area is None:
            target = CRS.from_epsg(self.target_srid)
            aou = target.area_of_use
            west, south, east, north = (aou.west, aou.south, aou.east, aou.north) if aou \
                else (-180.0, -90.0, 180.0, 90.0)
            self._area_deg = (max(west - AREA_MARGIN_DEG, -180), max(south - AREA_MARGIN_DEG,
                              -90), min(east + AREA_MARGIN_DEG, 180),
                              min(north + AREA_MARGIN_DEG, 90))
            to_target = Transformer.from_crs(4326, target, always_xy=True)
            self._area = to_target.transform_bounds(*self._area_deg, densify_pts=50)
        return self._area


@dataclass
class PreparedChunk:
    frame: pd.DataFrame  # typed fields, 'geom' (metric shapely), '_row', optional extras
    rejections: list[Rejection]
    repaired: list[int]


class _Errors:
    def __init__(self, first_row: int) -> None:
        self.first_row = first_row
        self.by_position: dict[int, list[tuple[str | None, str]]] = defaultdict(list)

    def add(self, positions, field_name: str | None, reason) -> None:
        for pos in np.atleast_1d(positions):
            text = reason(int(pos)) if callable(reason) else reason
            self.by_position[int(pos)].append((field_name, text))

    def rejections(self, frame: pd.DataFrame) -> list[Rejection]:
        result = []
        for pos in sorted(self.by_position):
            reasons = self.by_position[pos]
            result.append(Rejection(
                row=self.first_row + pos,
                field=reasons[0][0],
                reason="; ".join(f"{f}: {r}" if f else r for f, r in reasons),
                values=frame.iloc[pos].to_dict(),
            ))
        return result


def prepare_chunk(chunk: RawChunk, plan: ImportPlan) -> PreparedChunk:
    frame = chunk.frame
    n = len(frame)
    errors = _Errors(chunk.first_row)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for f in plan.kind.fields:
        if plan.partial and f.name not in plan.columns:
            continue
        if f.name in plan.mapping.datetimes:
            out[f.name] = _assemble_datetime(frame, plan.mapping.datetimes[f.name], f, errors,
                                             plan.timezone)
        elif f.name in plan.columns:
            raw = frame[plan.columns[f.name]].astype(str).str.strip()
            raw = _apply_value_map(raw, plan.mapping.values.get(f.name))
            out[f.name] = _convert(raw, f, errors, plan.timezone)
        elif f.name in plan.mapping.constants:
            raw = pd.Series([str(plan.mapping.constants[f.name])] * n)
            out[f.name] = _convert(raw, f, errors, plan.timezone)
        else:
            out[f.name] = None
        if f.required:
            already = {p for p, rs in errors.by_position.items() for fn, _ in rs if fn == f.name}
            missing = [int(p) for p in np.flatnonzero(out[f.name].isna().to_numpy())
                       if p not in already]
            if missing:
                errors.add(missing, f.name, "required value is missing")
    if plan.mapping.external_id:
        ids = frame[plan.mapping.external_id].astype(str).str.strip()
        empty = np.flatnonzero((ids == "").to_numpy())
        errors.add(empty, "external_id",
                   f"column {plan.mapping.external_id!r} is empty (it identifies the row)")
        out["external_id"] = ids.where(ids != "", None)
    if plan.extra_columns:
        extra = frame[plan.extra_columns].replace("", None)
        out["properties"] = extra.to_json(orient="records", lines=True,
                                          force_ascii=False).splitlines() if n else []
    repaired: list[int] = []
    if plan.kind.geometry is not None:
        out["geom"] = _prepare_geometry(chunk, plan, errors, repaired)
    out["_row"] = np.arange(chunk.first_row, chunk.first_row + n)
    rejections = errors.rejections(frame)
    if rejections:
        out = out.drop(index=list(errors.by_position)).reset_index(drop=True)
    return PreparedChunk(out, rejections, [chunk.first_row + p for p in repaired])


def _apply_value_map(raw: pd.Series, values: dict[str, str] | None) -> pd.Series:
    if not values:
        return raw
    lowered = {k.lower(): v for k, v in values.items()}
    mapped = raw.map(values)
    missing = mapped.isna()
    if missing.any():
        mapped[missing] = raw[missing].str.lower().map(lowered)
    return mapped.fillna(raw)


def _convert(raw: pd.Series, f: Field, errors: _Errors, timezone: str) -> pd.Series:
    empty = (raw == "") | raw.isna()
    if f.type == "text":
        result = raw.where(~empty, None)
        if f.choices is not None:
            allowed = set(f.choices.keys() if isinstance(f.choices, MappingABC) else f.choices)
            bad = np.flatnonzero((~empty & ~raw.isin(allowed)).to_numpy())
            if len(bad):
                options = ", ".join(sorted(allowed))
                errors.add(bad, f.name, lambda p: f"unknown value {raw.iat[p]!r}; expected one "
                           f"of: {options} (map source values under [values.{f.name}] in a "
                           "mapping file)")
        return result
    if f.type in ("int", "float"):
        numbers = pd.to_numeric(raw.where(~empty, None), errors="coerce")
        bad = ~empty & numbers.isna()
        if f.type == "int":
            bad |= ~empty & numbers.notna() & (numbers % 1 != 0)
        positions = np.flatnonzero(bad.to_numpy())
        errors.add(positions, f.name, lambda p: f"{raw.iat[p]!r} is not "
                   f"{'a whole number' if f.type == 'int' else 'a number'}")
        numbers = numbers.where(~bad, None)
        return numbers.astype("Int64") if f.type == "int" else numbers
    if f.type == "bool":
        low = raw.str.lower()
        result = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        result[low.isin(TRUE_WORDS)] = True
        result[low.isin(FALSE_WORDS)] = False
        bad = np.flatnonzero((~empty & result.isna()).to_numpy())
        errors.add(bad, f.name, lambda p: f"{raw.iat[p]!r} is not true/false")
        return result
    if f.type in ("date", "datetime"):
        parsed = _parse_datetimes(raw.where(~empty, None), timezone)
        bad = np.flatnonzero((~empty & parsed.isna()).to_numpy())
        errors.add(bad, f.name, lambda p: f"{raw.iat[p]!r} is not a "
                   f"{'date (YYYY-MM-DD)' if f.type == 'date' else 'date-time (ISO 8601)'}")
        if f.type == "date":
            return parsed.dt.tz_convert(timezone).dt.date.where(parsed.notna(), None)
        return parsed
    raise AssertionError(f.type)


def _parse_datetimes(values: pd.Series, timezone: str) -> pd.Series:
    """ISO 8601 (fast path) or other common layouts; naive values are in ``timezone``."""
    def parse(series: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=False)
        if parsed.isna().sum() > series.isna().sum():
            retry = parsed.isna() & series.notna()
            parsed = parsed.astype(object)
            parsed[retry] = pd.to_datetime(series[retry], errors="coerce", format="mixed")
        return parsed

    parsed = parse(values)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert("UTC")
    if parsed.dtype == object:  # a mix of naive and aware values
        return pd.Series([_to_utc(v, timezone) for v in parsed], index=values.index,
                         dtype="datetime64[ns, UTC]")
    return _localise(parsed, timezone)


def _to_utc(value, timezone: str):
    if value is None or pd.isna(value):
        return pd.NaT
    stamp = pd.Timestamp(value)
    return stamp.tz_localize(timezone) if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _assemble_datetime(frame: pd.DataFrame, parts: dict[str, str], f: Field,
                       errors: _Errors, timezone: str) -> pd.Series:
    numbers = {part: pd.to_numeric(frame[column].astype(str).str.strip(), errors="coerce")
               for part, column in parts.items()}
    stamp = pd.to_datetime(pd.DataFrame(numbers), errors="coerce")
    bad = np.flatnonzero(stamp.isna().to_numpy())
    if len(bad):
        errors.add(bad, f.name, lambda p: "not a valid date-time: " + ", ".join(
            f"{part}={frame[column].iat[p]!r}" for part, column in parts.items()))
    return _localise(stamp, timezone)


def _localise(naive: pd.Series, timezone: str) -> pd.Series:
    """Local wall-clock times to UTC. A time that occurs twice (the hour repeated when
    clocks go back) is taken as its first occurrence; one that never occurs (skipped when
    clocks go forward) moves forward by the one-hour gap, as a clock not yet changed
    would have read it."""
    first = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(timezone, ambiguous=first,
                                nonexistent=pd.Timedelta(hours=1)).dt.tz_convert("UTC")


def _prepare_geometry(chunk: RawChunk, plan: ImportPlan, errors: _Errors,
                      repaired: list[int]) -> np.ndarray:
    geoms = chunk.geometry.copy()
    for pos, reason in chunk.geometry_errors.items():
        errors.add(pos, "geometry", reason)
        geoms[pos] = None
    present = np.flatnonzero(pd.notna(geoms))
    if len(present) == 0:
        return geoms
    wanted = plan.kind.geometry
    source_crs = plan.source_crs.to_string() if plan.source_crs else "unknown CRS"
    assert wanted is not None
    types = shapely.get_type_id(geoms[present])
    # Single-part multi-points are points; polygons are stored as multipolygons.
    single_mp = present[(types == 4) & (shapely.get_num_geometries(geoms[present]) == 1)]
    geoms[single_mp] = shapely.get_geometry(geoms[single_mp], 0)
    types = shapely.get_type_id(geoms[present])
    is_point = types == 0
    is_polygon = (types == 3) | (types == 6)
    allowed = {"point": is_point, "polygon": is_polygon,
               "point_or_polygon": is_point | is_polygon}[wanted]
    names = {"point": "a Point", "polygon": "a Polygon or MultiPolygon",
             "point_or_polygon": "a Point, Polygon or MultiPolygon"}[wanted]
    wrong = present[~allowed]
    errors.add(wrong, "geometry",
               lambda p: f"expected {names}, got {getattr(geoms[p], 'geom_type', '?')}")
    geoms[wrong] = None
    polygons = present[allowed & is_polygon]
    if len(polygons):
        _check_polygons(geoms, polygons, plan, errors, repaired)
    present = np.flatnonzero(pd.notna(geoms))
    if plan.source_crs is not None and plan.source_crs.is_geographic:
        _check_lonlat(geoms, present, errors)
        present = np.flatnonzero(pd.notna(geoms))
    if len(present) == 0:
        return geoms
    moved = _transform(geoms[present], plan.transformer)
    bounds = shapely.bounds(moved)
    finite = np.isfinite(bounds).all(axis=1)
    errors.add(present[~finite], "geometry",
               f"cannot be transformed from {source_crs} to "
               f"EPSG:{plan.target_srid}; check --crs")
    xmin, ymin, xmax, ymax = plan.area
    inside = finite & (bounds[:, 0] >= xmin) & (bounds[:, 2] <= xmax) \
        & (bounds[:, 1] >= ymin) & (bounds[:, 3] <= ymax)
    outside = present[finite & ~inside]
    if len(outside):
        w, s, e, n = plan._area_deg
        errors.add(outside, "geometry",
                   f"lies outside the area this deployment covers (EPSG:{plan.target_srid}: "
                   f"lon {w:.0f}..{e:.0f}, lat {s:.0f}..{n:.0f}); check the CRS "
                   f"({source_crs}) and whether x and y are swapped")
    result = np.full(len(geoms), None, dtype=object)
    keep = finite & inside
    result[present[keep]] = moved[keep]
    if wanted != "point":
        polygons_left = np.flatnonzero(pd.notna(result))
        polygons_left = polygons_left[shapely.get_type_id(result[polygons_left]) == 3]
        for p in polygons_left:
            result[p] = shapely.MultiPolygon([result[p]])
    return result


def _transform(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    if (shapely.get_type_id(geoms) == 0).all():  # points: skip per-geometry rebuilding
        coords = shapely.get_coordinates(geoms)
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return shapely.points(x, y)
    return shapely.transform(geoms, lambda x, y: transformer.transform(x, y, errcheck=False),
                             interleaved=False)


def _check_lonlat(geoms: np.ndarray, present: np.ndarray, errors: _Errors) -> None:
    bounds = shapely.bounds(geoms[present])
    bad_lon = (bounds[:, 0] < -180) | (bounds[:, 2] > 180)
    bad_lat = (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
    swapped = bad_lat & ~bad_lon & (np.abs(bounds[:, [0, 2]]).max(axis=1) <= 90)
    for i in np.flatnonzero(bad_lon | bad_lat):
        pos = present[i]
        if swapped[i]:
            reason = (f"latitude {bounds[i, 3] if bounds[i, 3] > 90 else bounds[i, 1]:g} is "
                      "outside -90..90; longitude and latitude look swapped")
        elif bad_lat[i]:
            reason = "latitude outside -90..90"
        else:
            reason = "longitude outside -180..180"
        errors.add(pos, "geometry", reason + " (the file is in WGS84 lon/lat; if it is "
                   "projected, pass --crs)")
        geoms[pos] = None


def _check_polygons(geoms: np.ndarray, positions: np.ndarray, plan: ImportPlan,
                    errors: _Errors, repaired: list[int]) -> None:
    valid = shapely.is_valid(geoms[positions])
    for pos in positions[~valid]:
        reason = shapely.is_valid_reason(geoms[pos])
        if not plan.repair:
            errors.add(pos, "geometry", f"invalid polygon: {reason}")
            geoms[pos] = None
            continue
        fixed = shapely.make_valid(geoms[pos])
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon",
                                                                          "MultiPolygon")]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        if not polys or sum(p.area for p in polys) == 0:
            errors.add(pos, "geometry", f"invalid polygon that cannot be repaired: {reason}")
            geoms[pos] = None
        else:
            geoms[pos] = shapely.MultiPolygon(polys)
            repaired.append(int(pos))
