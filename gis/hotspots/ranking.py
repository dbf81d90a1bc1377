"""The per-grid ranking for accountability meetings."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from . import service
from .emerging import emerging_hotspots
from .gistar import gi_star


def ranking(conn: sa.Connection, srid: int, start: datetime | None,
            end: datetime | None, months: int = 12) -> list[dict]:
    """Grids by incidents in [start, end) (default: the last 30 days of data), with the
    previous period of the same length, the change, the Gi* class and the emerging
    pattern over the ``months`` monthly bins before ``end``."""
    latest = conn.execute(sa.text("SELECT max(occurred_at) FROM incidents")).scalar()
    end = end or (latest or datetime.now(UTC))
    start = start or (pd.Timestamp(end) - pd.Timedelta(days=30)).to_pydatetime()
    length = pd.Timestamp(end) - pd.Timestamp(start)
    grids = service.units(conn, srid, service.Selection("grids"))
    everything = service.incidents(conn, srid, service.Selection(
        "grids", start=(pd.Timestamp(end) - pd.DateOffset(months=months)).to_pydatetime(),
        end=end))
    when = everything["occurred_at"]
    now = service.counts(grids, everything[(when >= pd.Timestamp(start))])
    earlier = everything[(when >= pd.Timestamp(start) - length) & (when < pd.Timestamp(start))]
    before = service.counts(grids, earlier)
    weights = service.contiguity(grids)
    classes = gi_star(now, weights).classes
    edges = service.time_bins(pd.Timestamp(end) - pd.DateOffset(months=months),
                              pd.Timestamp(end), "MS")
    patterns = emerging_hotspots(service.binned_counts(grids, everything, edges),
                                 weights)["pattern"]
    frame = pd.DataFrame({"id": grids["id"], "code": grids["code"], "name": grids["name"],
                          "incidents": now, "previous": before, "change": now - before,
                          "hotspot_class": classes, "emerging": patterns.to_numpy()})
    frame["change_pct"] = (100 * frame["change"] / frame["previous"].where(
        frame["previous"] > 0)).round(1)
    frame = frame.sort_values(["incidents", "change"], ascending=False, kind="stable")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["start"], frame["end"] = pd.Timestamp(start), pd.Timestamp(end)
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
