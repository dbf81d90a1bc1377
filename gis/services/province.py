"""The province batch's cities read from their own gridgis databases, on the worker
that computes them (:mod:`gridgis.gis.hotspots.province`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
import sqlalchemy as sa

from ..errors import ConfigurationError
from ..hotspots.province import City


@dataclass(frozen=True)
class DatabaseCity:
    """A city that is its own gridgis deployment: the area its published grids cover
    and its incidents in [start, end), read from its database with a SQLAlchemy URL."""

    name: str
    url: str = field(repr=False)  # may carry a password; task arguments reach logs
    start: datetime | None = None
    end: datetime | None = None

    def load(self) -> City:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                srid = conn.execute(sa.text(
                    "SELECT value::int FROM gridgis_meta WHERE key = 'srid'")).scalar_one()
                boundary = conn.execute(sa.text(
                    "SELECT ST_AsBinary(ST_Union(geom)) FROM grids g JOIN grid_plans p "
                    "ON p.id = g.plan_id AND p.state = 'published'")).scalar_one()
                points = conn.execute(sa.text(
                    "SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE "
                    "(CAST(:start AS timestamptz) IS NULL OR occurred_at >= :start) AND "
                    "(CAST(:end AS timestamptz) IS NULL OR occurred_at < :end) "
                    "ORDER BY id"), {"start": self.start, "end": self.end}).all()
        finally:
            engine.dispose()
        if boundary is None:
            raise ConfigurationError(f"{self.name}: its database has no published grid plan")
        return City(self.name, shapely.from_wkb(bytes(boundary)),
                    np.array(points, dtype=float).reshape(-1, 2), f"EPSG:{srid}")


