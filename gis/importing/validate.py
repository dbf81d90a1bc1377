"""Turning raw chunks into typed, validated rows in the deployment CRS.

Every check is vectorised over a chunk; each bad row becomes a :class:`Rejection` with
its 1-based row number, the field and the reason. A row with any rejection is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import Rejection
from .convert import apply_value_map, assemble_datetime, convert_column, properties_problem
from .geometry import prepare_geometry
from .plan import ImportPlan
from .readers import RawChunk
from .row_errors import RowErrors


@dataclass
class PreparedChunk:
    frame: pd.DataFrame  # typed fields, 'geom' (metric shapely), '_row', optional extras
    rejections: list[Rejection]
    repaired: list[int]


def prepare_chunk(chunk: RawChunk, plan: ImportPlan) -> PreparedChunk:
    frame = chunk.frame
    n = len(frame)
    errors = RowErrors(chunk.first_row)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for f in plan.kind.fields:
        if plan.partial and f.name not in plan.columns:
            continue
        if f.name in plan.mapping.datetimes:
            out[f.name] = assemble_datetime(frame, plan.mapping.datetimes[f.name], f, errors,
                                            plan.timezone, plan.dates)
        elif f.name in plan.columns:
            raw = frame[plan.columns[f.name]].astype(str).str.strip()
            raw = apply_value_map(raw, plan.mapping.values.get(f.name))
            out[f.name] = convert_column(raw, f, errors, plan.timezone, plan.dates)
        elif f.name in plan.mapping.constants:
            raw = pd.Series([str(plan.mapping.constants[f.name])] * n)
            out[f.name] = convert_column(raw, f, errors, plan.timezone, plan.dates)
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
        encoded = extra.to_json(orient="records", lines=True,
                                force_ascii=False).splitlines() if n else []
        for position, text in enumerate(encoded):
            problem = properties_problem(text)
            if problem:
                errors.add(position, "properties", problem)
        out["properties"] = encoded
    repaired: list[int] = []
    if plan.kind.geometry is not None:
        out["geom"] = prepare_geometry(chunk, plan, errors, repaired)
    out["_row"] = np.arange(chunk.first_row, chunk.first_row + n)
    rejections = errors.rejections(frame)
    if rejections:
        out = out.drop(index=list(errors.by_position)).reset_index(drop=True)
    return PreparedChunk(out, rejections, [chunk.first_row + p for p in repaired])
