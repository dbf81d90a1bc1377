"""Validating one record (an API create or update) with the import rules.

A record is a dict of field values plus an optional GeoJSON geometry in WGS84. It goes
through exactly the checks a row of an imported file goes through, so the API and
``gridgis import`` accept and reject the same things.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from .errors import InvalidInput
from .importing.kinds import Kind
from .importing.mapping import Mapping
from .importing.plan import ImportPlan
from .importing.readers import RawChunk, _as_text, geometry_from_geojson
from .importing.validate import prepare_chunk

WGS84 = CRS.from_epsg(4326)


def validate_record(kind: Kind, values: dict[str, Any], geometry: dict | None, *, srid: int,
                    partial: bool = False, repair: bool = False) -> dict[str, Any]:
    """Typed column values (and ``geom``, a shapely geometry in the deployment CRS).

    Raises InvalidInput naming the field for the first problem found.
    """
    allowed = set(kind.field_names)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r} for {kind.name}; fields are: "
                           f"{', '.join(kind.field_names)}", field=unknown[0])
    errors: dict[int, str] = {}
    geoms = np.full(1, None, dtype=object)
    has_geometry = kind.geometry is not None and (geometry is not None or not partial)
    if has_geometry:
        geoms[0], reason = geometry_from_geojson(geometry)
        if reason:
            errors[0] = reason
    frame = pd.DataFrame([{k: _as_text(v) for k, v in values.items()}], columns=list(values))
    plan = ImportPlan.build(kind if has_geometry else _without_geometry(kind),
                            list(values), Mapping(), WGS84, srid, repair=repair,
                            keep_extra=False, partial=partial)
    prepared = prepare_chunk(RawChunk(1, frame, geoms, errors), plan)
    if prepared.rejections:
        first = prepared.rejections[0]
        raise InvalidInput(first.reason, field=first.field)
    row = prepared.frame.iloc[0].to_dict()
    row.pop("_row", None)
    return {k: _plain(v) for k, v in row.items()}


def _without_geometry(kind: Kind) -> Kind:
    from dataclasses import replace

    return replace(kind, geometry=None)


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to Python values for the database driver."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date | str | int | float | bool):
        return value
    return value
