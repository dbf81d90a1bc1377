"""``gridgis export``: a kind's rows to GeoJSON, GeoPackage or CSV."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from .db import Database
from .errors import InvalidInput
from .importing.kinds import get_kind

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV"}


def sensitive_columns(kind_name: str) -> set[str]:
    return {f.name for f in get_kind(kind_name).fields if f.sensitive}


def read_kind(db: Database, kind_name: str, *, epsg: int = 4326,
              include_sensitive: bool = False) -> gpd.GeoDataFrame | pd.DataFrame:
    """Every row of a kind, geometry in ``epsg``; sensitive personal fields left out
    unless asked for."""
    try:
        kind = get_kind(kind_name)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="KIND") from exc
    hidden = set() if include_sensitive else sensitive_columns(kind_name)
    with db.engine.connect() as conn:
        columns = [c for (c,) in conn.execute(sa.text(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"t": kind.table})
            if c not in hidden and c != "geom"]
        select = ", ".join(columns)
        if kind.geometry is None:
            return pd.read_sql(sa.text(f"SELECT {select} FROM {kind.table} ORDER BY id"), conn)
        query = sa.text(f"SELECT {select}, ST_Transform(geom, {int(epsg)}) AS geom "
                        f"FROM {kind.table} ORDER BY id")
        frame = gpd.read_postgis(query, conn, geom_col="geom", crs=f"EPSG:{int(epsg)}")
    for column in frame.columns:
        if column.endswith("_id") and column != "external_id":
            frame[column] = frame[column].astype("Int64")
    return frame


def export_kind(db: Database, kind_name: str, path: Path, *, epsg: int = 4326,
                include_sensitive: bool = False) -> int:
    path = Path(path)
    driver = FORMATS.get(path.suffix.lower())
    if driver is None:
        raise InvalidInput(f"cannot export to {path.name}: use .geojson, .gpkg or .csv")
    if driver == "GeoJSON" and epsg != 4326:
        raise InvalidInput("GeoJSON is always WGS84 (RFC 7946); use .gpkg for other CRSs")
    frame = read_kind(db, kind_name, epsg=epsg, include_sensitive=include_sensitive)
    for column in ("properties",):
        if column in frame:
            frame[column] = frame[column].map(lambda v: None if v is None else
                                              json.dumps(v, ensure_ascii=False))
    if driver == "CSV":
        table = pd.DataFrame(frame.drop(columns="geom", errors="ignore"))
        if isinstance(frame, gpd.GeoDataFrame):
            points = frame.geom.geom_type == "Point"
            if points.all():
                table["lon" if epsg == 4326 else "x"] = frame.geom.x
                table["lat" if epsg == 4326 else "y"] = frame.geom.y
            else:
                table["wkt"] = frame.geom.to_wkt()
        table.to_csv(path, index=False)
    elif isinstance(frame, gpd.GeoDataFrame):
        frame.to_file(path, driver=driver, engine="pyogrio")
    else:
        raise InvalidInput(f"{kind_name} have no geometry; export them to .csv")
    return len(frame)
