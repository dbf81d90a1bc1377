"""Grid statistics: where a location is, what a grid holds, a row per grid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from .crs import deployment_area
from .db import require_id
from .errors import InvalidInput, NotFound
from .services.cache import SizedCache
from .sqlfiles import incident_filter_params, read_query
from .versions import kept_per_version

# What a grid's counts but its incidents are made from (grid_stats.sql)
TALLIED_TABLES = ("areas", "grid_plans", "grids", "people", "households", "buildings",
                  "places", "things", "workers", "grid_assignments")
COUNTED_TABLES = ("grid_plans", "grids", "incidents")
TALLY_BYTES = 2_000  # a grid's row of counts kept, as a Python dict (measured: 1.5-2 KB)
COUNT_BYTES = 120  # a grid's incidents kept (a dict entry of two ints)


@dataclass
class GridStatsCache:
    """The per-grid counts kept: the tallies (one entry per change of the data) apart
    from the incidents per period, so that asking for many periods does not push
    out the tallies, which take seconds to count on a city."""

    tallies: SizedCache
    incidents: SizedCache

    @classmethod
    def of(cls, megabytes: float) -> GridStatsCache:
        budget = int(megabytes * 2**20)
        return cls(SizedCache(budget // 2), SizedCache(budget // 2))


def grid_at(conn: sa.Connection, srid: int, lon: float, lat: float,
            at: datetime | None = None) -> dict:
    """The grid (and its community, subdistrict, district and workers) at a location:
    in the published plan, or with ``at`` in the plan that was published then."""
    check_location(srid, lon, lat)
    if at is not None:
        return _grid_at_on(conn, srid, lon, lat, at)
    row = conn.execute(sa.text(read_query("grid_at.sql")),
                       {"lon": lon, "lat": lat, "srid": srid}).first()
    if row is None:
        raise outside_every_grid(lon, lat)
    result = dict(row._mapping)
    result["workers"] = workers_of(conn, result["id"])
    return result


def check_location(srid: int, lon: float, lat: float) -> None:
    """A WGS84 location that can be in a grid of this deployment, or the error saying
    why not."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(f"lon {lon}, lat {lat} is not a WGS84 location"
                           + (" (lon and lat look swapped)" if abs(lat) > 90 >= abs(lon)
                              else ""), field="lat" if abs(lat) > 90 else "lon")
    if not deployment_area(srid).contains(lon, lat):  # nor could it be projected
        raise NotFound(f"lon {lon}, lat {lat} lies outside the area this deployment covers, "
                       "so outside every grid")


def outside_every_grid(lon: float, lat: float) -> NotFound:
    return NotFound(f"lon {lon}, lat {lat} lies outside every grid of the published plan "
                    "(an unassigned location)")


def _grid_at_on(conn: sa.Connection, srid: int, lon: float, lat: float,
                at: datetime) -> dict:
    if at.tzinfo is None:
        raise InvalidInput("the date needs a time zone (or give a date alone)", field="date")
    published = conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM grid_plan_periods WHERE valid_from <= :at "
        "AND (valid_to IS NULL OR valid_to > :at))"), {"at": at}).scalar_one()
    if not published:
        raise NotFound(f"no grid plan was published on {at.isoformat()}")
    row = conn.execute(sa.text(read_query("grid_at_on.sql")),
                       {"lon": lon, "lat": lat, "srid": srid, "at": at}).first()
    if row is None:
        raise NotFound(f"lon {lon}, lat {lat} lay outside every grid of the plan published "
                       f"on {at.isoformat()}")
    result = dict(row._mapping)
    result["workers"] = workers_of(conn, result["id"])
    return result


def workers_of(conn: sa.Connection, grid_id: int) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.text(
        "SELECT w.id, w.name, w.employee_no, a.role FROM grid_assignments a "
        "JOIN workers w ON w.id = a.worker_id WHERE a.grid_id = :g AND w.active "
        "ORDER BY a.role, w.name, w.id"), {"g": grid_id})]


def grid_summary(conn: sa.Connection, grid_id: int, start: datetime | None = None,
                 end: datetime | None = None, categories: tuple[str, ...] = ()) -> dict:
    require_id(grid_id, "grid")
    exists = conn.execute(sa.text("SELECT code, name FROM grids WHERE id = :g"),
                          {"g": grid_id}).first()
    if exists is None:
        raise NotFound(f"no grid with id {grid_id}")
    row = conn.execute(sa.text(read_query("grid_summary.sql")),
                       {"grid_id": grid_id,
                        **incident_filter_params(categories, start, end)}).one()
    return {"grid_id": grid_id, "code": exists.code, "name": exists.name,
            "start": start, "end": end, **dict(row._mapping)}


def grid_stats(conn: sa.Connection, start: datetime | None = None,
               end: datetime | None = None, categories: tuple[str, ...] = (),
               cache: GridStatsCache | None = None) -> list[dict]:
    """A row per published grid; incidents counted in [start, end) of ``categories``
    (all when empty). With ``cache``, the counts are kept per version of the tables
    they are made from: a city's people, households and buildings are counted once
    per change of them, not at every request, and its incidents once per period asked
    for and change of the incidents."""
    tallies = _kept(conn, cache.tallies if cache else None, (), TALLIED_TABLES, TALLY_BYTES,
                    lambda: [
                        dict(r._mapping)
                        for r in conn.execute(sa.text(read_query("grid_stats.sql")))])
    params = incident_filter_params(tuple(sorted(set(categories))), start, end)
    counted = _kept(conn, cache.incidents if cache else None, (repr(sorted(params.items())),),
                    COUNTED_TABLES, COUNT_BYTES, lambda: dict(conn.execute(
                        sa.text(read_query("grid_incidents.sql")), params).all()))
    return [_with_incidents(row, counted.get(row["id"], 0)) for row in tallies]


def _kept(conn: sa.Connection, cache: SizedCache | None, key: tuple, tables: tuple[str, ...],
          row_bytes: int, make: Callable[[], Any]) -> Any:
    if cache is None:
        return make()
    return kept_per_version(cache, conn, tables, key, make,
                            lambda found: row_bytes * len(found) + 200)


def _with_incidents(tallies: dict, incidents: int) -> dict:
    """A new row (kept rows are never handed out): the incidents and their rate per
    1,000 residents (rounded as PostgreSQL's numeric round) after the cameras."""
    row: dict[str, Any] = {}
    for name, value in tallies.items():
        if name == "workers":
            people = tallies["people"]
            row["incidents"] = incidents
            row["incidents_per_1000"] = (Decimal(1000 * incidents) / Decimal(people)).quantize(
                Decimal("0.01"), ROUND_HALF_UP) if people > 0 else None
        row[name] = value
    return row
