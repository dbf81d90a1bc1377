"""Fast text encodings for COPY: hex EWKB points and ISO date-times, vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"),
                        ("x", "<f8"), ("y", "<f8")])
_EWKB_POINT_WITH_SRID = 0x20000001  # wkbPoint with the PostGIS SRID flag


def ewkb_hex(geoms: np.ndarray, srid: int) -> np.ndarray:
    """Hex EWKB with SRID, as PostGIS reads it; points skip shapely's per-object path."""
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        coords = shapely.get_coordinates(geoms)
        records = np.empty(len(geoms), dtype=_EWKB_POINT)
        records["order"] = 1
        records["type"] = _EWKB_POINT_WITH_SRID
        records["srid"] = srid
        records["x"] = coords[:, 0]
        records["y"] = coords[:, 1]
        text = records.tobytes().hex().upper().encode("ascii")
        return np.frombuffer(text, dtype=f"S{2 * _EWKB_POINT.itemsize}").astype(str)
    return shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)


def iso_utc(values: pd.Series) -> np.ndarray:
    """UTC date-times as ISO 8601 text ('' for missing), much faster than strftime."""
    stamps = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    text = np.char.add(np.datetime_as_string(stamps, unit="s"), "Z")
    return np.where(np.isnat(stamps), "", text)
