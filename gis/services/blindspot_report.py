"""The blind-spot results as plain rows (JSON, CSV, tables) and in words."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..access.principal import Principal
from ..blindspots.coverage import Coverage
from ..blindspots.scorecard import without_hotspots


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records with NaN as None, timestamps as ISO 8601, numpy scalars as Python ones
    and lists kept (JSON-ready)."""
    return [{k: _plain(v) for k, v in record.items()}
            for record in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def coverage_problem(coverage: Coverage) -> str | None:
    """What stops a plan from being published, in words (None: nothing)."""
    gaps = coverage.gaps[~coverage.gaps["sliver"]]
    overlaps = coverage.overlaps[~coverage.overlaps["sliver"]]
    problems = []
    if len(gaps):
        touching = gaps["grids"].iloc[0][:3]
        where = f"next to grids {', '.join(touching)}" if touching else "touching no grid"
        problems.append(f"{len(gaps)} uncovered area(s) of {gaps['area_m2'].sum():,.0f} m² "
                        f"(the largest {where})")
    if len(overlaps):
        first = overlaps.iloc[0]
        problems.append(f"{len(overlaps)} overlap(s) of {overlaps['area_m2'].sum():,.0f} m² "
                        f"(largest between grids {first['grid_a']} and {first['grid_b']})")
    return "; ".join(problems) or None


def visible_scorecard(grids: pd.DataFrame, who: Principal) -> pd.DataFrame:
    """The scorecard rows ``who`` may see: their grids only when scoped, and without the
    measures made of hotspot cells unless they may read hotspots."""
    if who.grid_ids is not None:
        grids = grids[grids["id"].isin(who.grid_ids)]
    return grids if who.may("read", "hotspots") else without_hotspots(grids)
