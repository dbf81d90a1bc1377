"""``gridgis export``: a kind's rows to GeoJSON, GeoPackage or CSV."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from .db import Database, table_columns
from .errors import InvalidInput
from .importing.kinds import get_kind
from .importing.readers import parse_crs

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV"}
CHUNK_ROWS = 50_000
Progress = Callable[[int, int], None]  # (rows read, rows in all)


def sensitive_columns(kind_name: str) -> set[str]:
    return {f.name for f in get_kind(kind_name).fields if f.sensitive}


def output_epsg(crs: str | int) -> int:
    """The EPSG code of an output CRS given as ``EPSG:4326``, ``4326`` or a CRS name."""
    parsed = parse_crs(str(crs), where="--crs")
    code = parsed.to_epsg()
    if code is None:
        raise InvalidInput(f"--crs {crs!r} has no EPSG code; give one such as EPSG:4326",
                           field="--crs")
    return code


def read_kind(db: Database, kind_name: str, *, epsg: int = 4326,
              include_sensitive: bool = False, progress: Progress | None = None
              ) -> gpd.GeoDataFrame | pd.DataFrame:
    """Every row of a kind, geometry in ``epsg``, read in chunks by id; sensitive
    personal fields left out unless asked for."""
    try:
        kind = get_kind(kind_name)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="KIND") from exc
    hidden = set() if include_sensitive else sensitive_columns(kind_name)
    parts: list[pd.DataFrame] = []
    with db.engine.connect() as conn:
        columns = [c for c in table_columns(conn, kind.table)
                   if c not in hidden and c != "geom"]
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


def export_kind(db: Database, kind_name: str, path: Path, *, crs: str | int = 4326,
                include_sensitive: bool = False, progress: Progress | None = None) -> int:
    """Write every row of a kind to ``path`` (the suffix picks the format)."""
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
    frame = read_kind(db, kind_name, epsg=epsg, include_sensitive=include_sensitive,
                      progress=progress)
    if "properties" in frame:
        frame["properties"] = frame["properties"].map(
            lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
    try:
        if driver == "CSV":
            _to_csv(frame, path, epsg)
        else:
            frame.to_file(path, driver=driver, engine="pyogrio")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}", field="FILE") from exc
    return len(frame)


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
