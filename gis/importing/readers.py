"""Reading GeoJSON, GeoPackage, Shapefile (also zipped) and CSV in chunks.

Every reader yields :class:`RawChunk` objects: the attribute columns as text, a shapely
geometry per row (None where absent) and, per row, why its geometry could not be read.
Row numbers are 1-based positions of the feature (or data row) in the file.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from ..errors import InvalidInput

CHUNK_ROWS = 100_000
LON_NAMES = ("lon", "lng", "long", "longitude")
LAT_NAMES = ("lat", "latitude")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


@dataclass
class RawChunk:
    first_row: int
    frame: pd.DataFrame
    geometry: np.ndarray  # object array of shapely geometries or None
    geometry_errors: dict[int, str] = field(default_factory=dict)  # position -> reason


@dataclass
class Source:
    path: Path
    format: str
    crs: CRS | None
    columns: list[str]
    chunks: Iterator[RawChunk]
    rows: int | None = None  # known from the file's own header
    count_rows: Callable[[], int] | None = None  # counts by reading the file once more

    def total_rows(self) -> int | None:
        """The number of rows, for progress: known, counted, or unknown (None)."""
        if self.rows is None and self.count_rows is not None:
            self.rows = self.count_rows()
        return self.rows


def parse_crs(text: str, *, where: str = "--crs") -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise InvalidInput(f"{where}: {text!r} is not a coordinate reference system pyproj "
                           f"knows ({exc}). Use an EPSG code such as EPSG:4326.",
                           field=where) from exc


def open_source(path: Path, *, crs: str | None = None, layer: str | None = None,
                x_column: str | None = None, y_column: str | None = None,
                wkt_column: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Source:
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"{path} does not exist.")
    suffixes = "".join(path.suffixes[-2:]).lower()
    override = parse_crs(crs) if crs else None
    if suffixes.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        return _open_csv(path, override, x_column, y_column, wkt_column, chunk_rows)
    if path.suffix.lower() in (".geojson", ".json"):
        return _open_geojson(path, override, chunk_rows)
    if path.suffix.lower() in (".gpkg", ".shp", ".zip", ".fgb", ".gml", ".kml", ".gpx"):
        return _open_ogr(path, override, layer, chunk_rows)
    raise InvalidInput(
        f"{path.name}: unsupported file type; use GeoJSON (.geojson, .json), GeoPackage "
        "(.gpkg), Shapefile (.shp or zipped .zip), FlatGeobuf (.fgb), GML (.gml), KML "
        "(.kml), GPX (.gpx) or CSV (.csv, .csv.gz, .tsv, .txt)."
    )


# -- CSV -----------------------------------------------------------------------------

def _pick(columns: list[str], explicit: str | None, names: tuple[str, ...]) -> str | None:
    if explicit:
        if explicit not in columns:
            raise InvalidInput(f"the mapped column {explicit!r} is not in the file; its "
                               f"columns are: {', '.join(columns)}")
        return explicit
    lowered = {c.lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _open_csv(path: Path, crs: CRS | None, x_column: str | None, y_column: str | None,
              wkt_column: str | None, chunk_rows: int) -> Source:
    sep = "\t" if path.name.lower().endswith(".tsv") else ","
    try:
        header = pd.read_csv(path, nrows=0, sep=sep, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"{path.name} is not a readable UTF-8 CSV file: {exc}") from exc
    columns = [str(c) for c in header.columns]
    x = _pick(columns, x_column, LON_NAMES + ("x",))
    y = _pick(columns, y_column, LAT_NAMES + ("y",))
    wkt = _pick(columns, wkt_column, WKT_NAMES) if not (x and y) or wkt_column else None
    if not wkt and not (x and y):
        # A CSV without coordinates is fine for non-spatial kinds (workers).
        x = y = None
    if crs is None and x and y:
        if x.lower() in LON_NAMES and y.lower() in LAT_NAMES:
            crs = CRS.from_epsg(4326)
        else:
            raise InvalidInput(
                f"{path.name} has coordinate columns {x!r}/{y!r} but no CRS; pass --crs "
                "(for example --crs EPSG:32610), or name the columns lon/lat for WGS84.",
                field="--crs")
    if crs is None and wkt:
        crs = CRS.from_epsg(4326)

    def chunks() -> Iterator[RawChunk]:
        first = 1
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                             chunksize=chunk_rows, encoding="utf-8-sig")
        try:
            for frame in reader:
                yield _csv_chunk(frame, first, x, y, wkt)
                first += len(frame)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InvalidInput(f"{path.name}: cannot parse the CSV after data row "
                               f"{first - 1}: {exc}") from exc

    return Source(path, "csv", crs, columns, chunks(),
                  count_rows=lambda: count_data_lines(path))


def count_data_lines(path: Path) -> int:
    """The lines after the header: the row count for progress (a quoted value that spans
    lines makes it an overestimate, which a progress bar can live with)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lines, last = 0, b"\n"
    with opener(path, "rb") as stream:
        while block := stream.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(lines + (last != b"\n") - 1, 0)


def _csv_chunk(frame: pd.DataFrame, first: int, x: str | None, y: str | None,
               wkt: str | None) -> RawChunk:
    n = len(frame)
    errors: dict[int, str] = {}
    geometry = np.full(n, None, dtype=object)
    if x and y:
        xs = pd.to_numeric(frame[x], errors="coerce").to_numpy(dtype=float)
        ys = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(xs) & np.isfinite(ys)
        geometry[ok] = shapely.points(xs[ok], ys[ok])
        for i in np.flatnonzero(~ok):
            raw_x, raw_y = frame[x].iat[i], frame[y].iat[i]
            if raw_x.strip() == "" or raw_y.strip() == "":
                errors[int(i)] = f"missing coordinates ({x}={raw_x!r}, {y}={raw_y!r})"
            else:
                errors[int(i)] = f"coordinates are not numbers ({x}={raw_x!r}, {y}={raw_y!r})"
    elif wkt:
        for pos, text in enumerate(frame[wkt].tolist()):
            if not text.strip():
                errors[pos] = f"missing geometry in column {wkt!r}"
                continue
            try:
                geometry[pos] = shapely.from_wkt(text)
            except shapely.errors.GEOSException as exc:
                errors[pos] = f"column {wkt!r} is not valid WKT: {exc}"
    return RawChunk(first, frame.reset_index(drop=True), geometry, errors)


# -- GeoJSON ---------------------------------------------------------------------------

def _open_geojson(path: Path, crs: CRS | None, chunk_rows: int) -> Source:
    """A FeatureCollection is streamed (ijson), twice: once to check the whole document
    and learn its type, CRS, columns and feature count, once to read the features chunk
    by chunk; memory stays flat in the file's size. A bare Feature or geometry is small
    and read whole."""
    outline = _geojson_outline(path)
    if outline is None or outline.kind != "FeatureCollection":
        return _whole_geojson(path, crs)
    if not outline.has_features:
        raise InvalidInput(f"{path.name}: a FeatureCollection needs a 'features' array.")
    declared = parse_crs(outline.crs_name, where=f"{path.name}: crs") \
        if outline.crs_name else None
    crs = crs or declared or CRS.from_epsg(4326)
    columns = sorted(outline.columns)

    def chunks() -> Iterator[RawChunk]:
        batch: list = []
        first = 1
        with path.open("rb") as stream:
            for feature in ijson.items(stream, "features.item", use_float=True):
                batch.append(feature)
                if len(batch) == chunk_rows:
                    yield features_chunk(batch, first, columns)
                    first += len(batch)
                    batch = []
        if batch:
            yield features_chunk(batch, first, columns)

    return Source(path, "geojson", crs, columns, chunks(), rows=outline.features)


VALUE_STARTS = ("start_map", "start_array", "string", "number", "boolean", "null")


@dataclass
class _Outline:
    kind: object = None  # the top-level "type"
    crs_name: str | None = None  # a legacy "crs" member's name
    has_features: bool = False  # a top-level "features" array
    features: int = 0
    columns: set[str] = field(default_factory=set)  # every feature's property names


def _whole_geojson(path: Path, crs: CRS | None) -> Source:
    """The document read at once: a bare Feature or geometry, or what the streaming
    parser refuses and Python's json reads (a byte-order mark, UTF-16, NaN)."""
    try:
        document = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not valid JSON: {exc}") from exc
    features, declared = geojson_features(document, where=path.name)
    crs = crs or declared or CRS.from_epsg(4326)
    columns = sorted({k for f in features if isinstance(f, dict)
                      and isinstance(f.get("properties"), dict) for k in f["properties"]})
    return Source(path, "geojson", crs, columns, iter([features_chunk(features, 1, columns)]),
                  rows=len(features))


def _geojson_outline(path: Path) -> _Outline | None:
    """One streaming pass over the document (syntax checked throughout); None when the
    streaming parser cannot read it."""
    outline = _Outline()
    try:
        with path.open("rb") as stream:
            for prefix, event, value in ijson.parse(stream):
                if prefix == "features.item" and event in VALUE_STARTS:
                    outline.features += 1  # a feature, or something else to refuse
                elif prefix == "features.item.properties" and event == "map_key":
                    outline.columns.add(value)
                elif prefix == "type" and outline.kind is None:
                    outline.kind = value
                elif prefix == "features" and event == "start_array":
                    outline.has_features = True
                elif prefix == "crs.properties.name" and event == "string":
                    outline.crs_name = value
    except (ijson.JSONError, UnicodeDecodeError):
        return None
    if outline.kind is None and not outline.has_features:
        raise InvalidInput(f"{path.name}: not a GeoJSON object (no 'type' member).")
    return outline


def geojson_features(document: object, *, where: str) -> tuple[list[dict], CRS | None]:
    """The features of a FeatureCollection, a Feature or a bare geometry, and the CRS
    of a legacy ``crs`` member."""
    if not isinstance(document, dict) or "type" not in document:
        raise InvalidInput(f"{where}: not a GeoJSON object (no 'type' member).")
    kind = document["type"]
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise InvalidInput(f"{where}: a FeatureCollection needs a 'features' array.")
    elif kind == "Feature":
        features = [document]
    elif kind in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"):
        features = [{"type": "Feature", "geometry": document, "properties": {}}]
    else:
        raise InvalidInput(f"{where}: unknown GeoJSON type {kind!r}.")
    declared = None
    legacy = document.get("crs")
    if isinstance(legacy, dict):
        name = (legacy.get("properties") or {}).get("name")
        if name:
            declared = parse_crs(str(name), where=f"{where}: crs")
    return features, declared


def features_chunk(features: list, first: int, columns: list[str]) -> RawChunk:
    n = len(features)
    geometry = np.full(n, None, dtype=object)
    errors: dict[int, str] = {}
    records: list[dict] = []
    for i, feature in enumerate(features):
        props: dict = {}
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors[i] = "not a GeoJSON Feature object"
        else:
            raw_props = feature.get("properties")
            if isinstance(raw_props, dict):
                props = raw_props
            elif raw_props is not None:
                errors[i] = "'properties' must be an object or null"
            geometry[i], reason = geometry_from_geojson(feature.get("geometry"))
            if reason:
                errors[i] = reason
        records.append({c: _as_text(props.get(c)) for c in columns})
    frame = pd.DataFrame.from_records(records, columns=columns) if records else \
        pd.DataFrame(columns=columns)
    return RawChunk(first, frame, geometry, errors)


def geometry_from_geojson(value: object) -> tuple[object, str | None]:
    """(geometry, None) or (None, reason)."""
    if value is None:
        return None, "the feature has no geometry"
    if not isinstance(value, dict) or "type" not in value:
        return None, "'geometry' is not a GeoJSON geometry object"
    try:
        geom = shapely.geometry.shape(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            shapely.errors.GEOSException) as exc:
        return None, f"malformed {value.get('type')} geometry: {exc or type(exc).__name__}"
    if geom.is_empty:
        return None, "the geometry is empty"
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return None, "the geometry has non-finite coordinates"
    return geom, None


def _as_text(value: object) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# -- GDAL formats ----------------------------------------------------------------------

def _open_ogr(path: Path, crs: CRS | None, layer: str | None, chunk_rows: int) -> Source:
    try:
        layers = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise InvalidInput(f"{path.name} cannot be opened as a vector data set: {exc}") from exc
    names = [str(row[0]) for row in layers]
    if not names:
        raise InvalidInput(f"{path.name} contains no vector layer.")
    if layer is None:
        if len(names) > 1:
            raise InvalidInput(f"{path.name} holds several layers ({', '.join(names)}); "
                               "choose one with --layer.", field="--layer")
        layer = names[0]
    elif layer not in names:
        raise InvalidInput(f"{path.name} has no layer {layer!r}; it has: {', '.join(names)}",
                           field="--layer")
    info = pyogrio.read_info(path, layer=layer)
    declared = parse_crs(info["crs"], where=f"{path.name}: CRS") if info.get("crs") else None
    crs = crs or declared
    if crs is None and info.get("geometry_type"):
        raise InvalidInput(f"{path.name} does not say which CRS it uses (no .prj file?); "
                           "pass --crs, for example --crs EPSG:2913.", field="--crs")
    total = int(info["features"])
    if total < 0:  # drivers that do not know their count (GPX) count on request
        total = int(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    columns = [str(c) for c in info["fields"]]

    def chunks() -> Iterator[RawChunk]:
        for start in range(0, total, chunk_rows):
            frame = pyogrio.read_dataframe(path, layer=layer, skip_features=start,
                                           max_features=chunk_rows, read_geometry=True)
            geoms = np.asarray(frame.geometry.array if "geometry" in frame else
                               [None] * len(frame), dtype=object)
            errors = {int(i): "the feature has no geometry"
                      for i in np.flatnonzero(pd.isna(geoms))}
            attrs = pd.DataFrame({c: frame[c].map(_as_text) for c in columns})
            yield RawChunk(start + 1, attrs, geoms, errors)

    return Source(path, "ogr", crs, columns, chunks(), rows=total)
