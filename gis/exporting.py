"""``gridgis export``: a kind's rows to GeoJSON, GeoPackage or CSV.

Personal fields are masked by the API's rule (:mod:`gridgis.gis.access.masking`: the
same fields, the same masked values) unless the export asks for them unmasked, so that an
export and the API agree. Every export is recorded in the audit log, once its file is
written; if the record cannot be written, neither is the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from .access import audit
from .access.masking import PROPERTIES, mask_value, personal_fields
from .db import Database, table_columns
from .errors import InvalidInput
from .importing.kinds import get_kind
from .importing.readers import parse_crs

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV"}
CHUNK_ROWS = 50_000
MAX_AUDITED_IDS = 100_000  # an export of more people names them in the log by count only
Progress = Callable[[int, int], None]  # (rows read, rows in all)


def output_epsg(crs: str | int) -> int:
    """The EPSG code of an output CRS given as ``EPSG:4326``, ``4326`` or a CRS name."""
    parsed = parse_crs(str(crs), where="--crs")
    code = parsed.to_epsg()
    if code is None:
        raise InvalidInput(f"--crs {crs!r} has no EPSG code; give one such as EPSG:4326",
                           field="--crs")
    return code


def read_kind(db: Database, kind_name: str, *, epsg: int = 4326,
              progress: Progress | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
    """Every row of a kind, unmasked, geometry in ``epsg``, read in chunks by id."""
    try:
        kind = get_kind(kind_name)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="KIND") from exc
    parts: list[pd.DataFrame] = []
    with db.engine.connect() as conn:
        columns = [c for c in table_columns(conn, kind.table) if c != "geom"]
        select = ", ".join(columns)
        total = conn.execute(sa.text(f"SELECT count(*) FROM {kind.table}")).scalar_one()
        geometry = "" if kind.geometry is None else \
            f", ST_Transform(geom, {int(epsg)}) AS geom"
        query = sa.text(f"SELECT {select}{geometry} FROM {kind.table} WHERE id > :after "
                        f"ORDER BY id LIMIT {CHUNK_ROWS}")
        after, done = 0, 0
        while True:
            params = {"after": after}
            chunk = pd.read_sql(query, conn, params=params) if kind.geometry is None else \
                gpd.read_postgis(query, conn, geom_col="geom", crs=f"EPSG:{int(epsg)}",
                                 params=params)
            if chunk.empty:
                break
            parts.append(chunk)
            after, done = int(chunk["id"].iloc[-1]), done + len(chunk)
            if progress:
                progress(done, max(total, done))
    frame = pd.concat(parts, ignore_index=True) if parts else chunk
    if kind.geometry is not None:
        frame = gpd.GeoDataFrame(frame, geometry="geom", crs=f"EPSG:{int(epsg)}")
    for column in frame.columns:
        if column.endswith("_id") and column != "external_id":
            frame[column] = frame[column].astype("Int64")
    return frame


def mask_column(name: str, values: pd.Series) -> pd.Series:
    """A column with :func:`~gridgis.gis.access.masking.mask_value` applied to each value
    (missing values stay missing). The rule runs once per distinct value, so a column of
    half a million booleans or repeated names costs little more than factorising it."""
    if name == PROPERTIES:  # dicts: not hashable, one call each
        return values.map(lambda v: mask_value(name, v), na_action="ignore").astype(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    masked = np.empty(len(uniques) + 1, dtype=object)
    masked[:-1] = [mask_value(name, u) for u in uniques]
    masked[-1] = None  # code -1: a missing value
    return pd.Series(masked[codes], index=values.index, dtype=object, name=values.name)


def mask_frame(kind_name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the kind's personal fields masked as the API masks them."""
    for name in personal_fields(kind_name):
        if name in frame.columns:
            frame[name] = mask_column(name, frame[name])
    return frame


def export_kind(db: Database, kind_name: str, path: Path, *, actor: str,
                crs: str | int = 4326, include_sensitive: bool = False,
                progress: Progress | None = None) -> int:
    """Write every row of a kind to ``path`` (the suffix picks the format), personal
    fields masked unless ``include_sensitive``, and record the export in the audit log
    as ``actor`` (e.g. ``cli:alice``)."""
    path = Path(path)
    driver = FORMATS.get(path.suffix.lower())
    if driver is None:
        raise InvalidInput(f"cannot export to {path.name}: use .geojson, .gpkg or .csv",
                           field="FILE")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: the folder {path.parent} does not exist",
                           field="FILE")
    epsg = output_epsg(crs)
    if driver == "GeoJSON" and epsg != 4326:
        raise InvalidInput("GeoJSON is always WGS84 (RFC 7946); use .gpkg for other CRSs",
                           field="--crs")
    if driver != "CSV" and get_kind(kind_name).geometry is None:
        raise InvalidInput(f"{kind_name} have no geometry; export them to .csv", field="FILE")
    frame = read_kind(db, kind_name, epsg=epsg, progress=progress)
    ids = frame["id"].tolist()
    if not include_sensitive:
        frame = mask_frame(kind_name, frame)
    if PROPERTIES in frame:
        frame[PROPERTIES] = frame[PROPERTIES].map(
            lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
    try:
        if driver == "CSV":
            _to_csv(frame, path, epsg)
        else:
            frame.to_file(path, driver=driver, engine="pyogrio")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}", field="FILE") from exc
    try:
        with db.engine.begin() as conn:
            audit.record(conn, None, export_entry(kind_name, ids, path, include_sensitive),
                         user_name=actor)
    except BaseException:
        path.unlink(missing_ok=True)  # an export the log does not show must not exist
        raise
    return len(frame)


def export_entry(kind_name: str, ids: list[int], path: Path, unmasked: bool) -> audit.Entry:
    """The audit entry of an export: the kind, how personal fields were written, the row
    count and the file; the people exported, by id, up to ``MAX_AUDITED_IDS``."""
    people = kind_name == "people"
    listed = people and len(ids) <= MAX_AUDITED_IDS
    detail = f"{len(ids)} rows to {path.resolve()}"
    if people and not listed:
        detail += f" (more than {MAX_AUDITED_IDS} people: not listed by id)"
    return audit.Entry(
        "export", kind_name, person_ids=ids if listed else [],
        personal=("unmasked" if unmasked else "masked") if personal_fields(kind_name)
        else None,
        detail=detail)


def _to_csv(frame: pd.DataFrame, path: Path, epsg: int) -> None:
    """Points as lon/lat (x/y outside WGS84), other geometry as WKT."""
    table = pd.DataFrame(frame.drop(columns="geom", errors="ignore"))
    if isinstance(frame, gpd.GeoDataFrame):
        if (frame.geom.geom_type == "Point").all():
            table["lon" if epsg == 4326 else "x"] = frame.geom.x
            table["lat" if epsg == 4326 else "y"] = frame.geom.y
        else:
            table["wkt"] = frame.geom.to_wkt()
    table.to_csv(path, index=False)
