"""The published grids in memory, for the question asked most: which grid is this
location in (``/grids/at``, every grid worker's phone and patrol car).

The database stays the source: the index is read from it whole, answers exactly what
``grid_at.sql`` answers (the same columns, workers in the same order, ties at a shared
edge broken by grid code as ``gridgis_grid_at`` breaks them), and is dropped at every
change of grids, plans, areas, workers or assignments (``NOTIFY gridgis_grids``,
migration 0019). While no index is ready, or while changes cannot be heard, the lookup
goes to the database."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import shapely
import sqlalchemy as sa
from pyproj import Transformer

from .db import current_srid
from .sqlfiles import read_query

log = logging.getLogger(__name__)
GRIDS_CHANNEL = "gridgis_grids"
RETRY_S = 1.0  # after a failed read, lookups go to the database this long
WORKERS_SQL = sa.text(
    "SELECT a.grid_id, w.id, w.name, w.employee_no, a.role FROM grid_assignments a "
    "JOIN workers w ON w.id = a.worker_id JOIN grids g ON g.id = a.grid_id "
    "JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published' "
    "WHERE w.active ORDER BY a.grid_id, a.role, w.name, w.id")


@dataclass(frozen=True)
class GridIndex:
    srid: int
    tree: shapely.STRtree  # of the grids, in the order ties are broken
    answers: list[bytes]  # per grid, the JSON /grids/at answers
    to_srid: Transformer

    @classmethod
    def build(cls, srid: int, grids: list[dict], workers: list[tuple]) -> GridIndex:
        """From the rows of :func:`read_published` (no connection needed)."""
        by_grid: dict[int, list[dict]] = {}
        for grid_id, *worker in workers:
            by_grid.setdefault(grid_id, []).append(
                dict(zip(("id", "name", "employee_no", "role"), worker, strict=True)))
        geoms = shapely.from_wkb([bytes(g["geom"]) for g in grids])
        answers = [json.dumps({**{k: v for k, v in g.items() if k != "geom"},
                               "workers": by_grid.get(g["id"], [])},
                              ensure_ascii=False, separators=(",", ":")).encode()
                   for g in grids]
        return cls(srid, shapely.STRtree(geoms), answers,
                   Transformer.from_crs(4326, srid, always_xy=True))

    def at(self, lon: float, lat: float) -> bytes | None:
        """The answer (JSON) for the grid at ``lon``, ``lat`` (checked to lie in the
        deployment area), or None outside every grid."""
        x, y = self.to_srid.transform(lon, lat)
        hits = self.tree.query(shapely.points((x, y)), predicate="intersects")
        return self.answers[int(hits.min())] if len(hits) else None


def read_published(conn: sa.Connection) -> tuple[list[dict], list[tuple]]:
    """The published grids (with geometry as WKB) and their active workers."""
    grids = [dict(r._mapping) for r in conn.execute(sa.text(read_query("published_grids.sql")))]
    return grids, [tuple(r) for r in conn.execute(WORKERS_SQL)]


class GridLookup:
    """The current index, read again after every change in a thread of its own (no
    request waits for it: until it is ready, lookups go to the database)."""

    def __init__(self, connect: Callable[[], sa.Connection]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._index: GridIndex | None = None
        self._generation = 0
        self._listening = False
        self._reading = False
        self._retry_at = 0.0

    def current(self) -> GridIndex | None:
        with self._lock:
            index = self._index
            if (index is None and self._listening and not self._reading
                    and time.monotonic() >= self._retry_at):
                self._reading = True
                threading.Thread(target=self._read, args=(self._generation,),
                                 name="grid-index", daemon=True).start()
        return index

    def changed(self) -> None:
        with self._lock:
            self._generation += 1
            self._index = None

    def set_listening(self, listening: bool) -> None:
        with self._lock:
            self._generation += 1
            self._index = None
            self._listening = listening

    def _read(self, generation: int) -> None:
        index = None
        try:
            with self._connect() as conn:
                srid = current_srid(conn)
                rows = read_published(conn) if srid is not None else None
            if srid is not None and rows is not None:
                index = GridIndex.build(srid, *rows)
        except Exception as exc:  # the database answers until the next try
            log.warning("could not read the published grids: %s", type(exc).__name__)
            index = None
        finally:
            with self._lock:
                self._reading = False
                if index is None:
                    self._retry_at = time.monotonic() + RETRY_S
                elif generation == self._generation and self._listening:
                    self._index = index
