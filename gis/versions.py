"""The version of a set of tables: a sum of counters the database moves in every
transaction that changes one of them (migration 0018), read from 16 small rows at any
size of the data. Caches of what is made from tables key their entries by it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from .services.cache import SizedCache

# Every table a map page or an analysis may read (migration 0018's, but the staged
# analyses, which are themselves made from these).
DATA_TABLES = ("areas", "grid_plans", "grids", "workers", "grid_assignments", "buildings",
               "households", "people", "places", "things", "organisations", "incidents",
               "roads", "patrol_plans", "patrol_routes", "visits", "patrol_points")

# What patrol cars and grid workers write all day (GPS fixes, visits, patrol plans):
# only the blind-spot audit and the patrol pages read them, so a kept map page or
# hotspot analysis is not dropped at every fix.
FIELD_TABLES = ("visits", "patrol_points", "patrol_plans", "patrol_routes")
MAP_TABLES = tuple(t for t in DATA_TABLES if t not in FIELD_TABLES)

TABLE_VERSION = sa.text(
    "SELECT coalesce(sum((v.tables ->> t.name)::bigint), 0) "
    "FROM gridgis_data_version v, unnest(CAST(:tables AS text[])) AS t (name)")


def table_version(conn: sa.Connection, tables: Iterable[str]) -> int:
    """Moves whenever a committed statement changed one of ``tables`` (counters only
    grow, so their sum does too)."""
    return int(conn.execute(TABLE_VERSION, {"tables": sorted(set(tables))}).scalar_one())


def kept_per_version(cache: SizedCache, conn: sa.Connection, tables: Iterable[str],
                     key: tuple, make: Callable[[], Any], size: Callable[[Any], int]) -> Any:
    """What ``make`` reads from ``tables``, kept in ``cache`` under ``key`` and their
    version, which is read before the data, so that a kept value is never older than
    its key; ``size`` gives a made value's bytes."""
    key = (*key, table_version(conn, tables))
    found = cache.get(key)
    if found is None:
        found = make()
        cache.put(key, found, size(found))
    return found


class CachedCounts:
    """Counts of rows matching a statement, kept per version of the tables they count:
    paging through a large result, or asking the same page again, counts once per
    change of the data. The statement's SQL and bound values are the key (a user's
    scope is among them)."""

    def __init__(self, cache: SizedCache, tables: Iterable[str]) -> None:
        self.cache = cache
        self.tables = tuple(tables)

    def __call__(self, conn: sa.Connection, statement: sa.Select) -> int:
        compiled = statement.compile(dialect=conn.dialect)
        sql, params = str(compiled), repr(sorted(compiled.params.items()))
        return kept_per_version(self.cache, conn, self.tables, ("count", sql, params),
                                lambda: int(conn.execute(statement).scalar_one()),
                                lambda _: len(sql) + len(params) + 100)
