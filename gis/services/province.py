"""The province batch's cities read from their own gridgis databases, on the worker
that computes them (:mod:`gridgis.gis.hotspots.province`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..db import current_srid
from ..errors import ConfigurationError, NotFound
from ..hotspots.province import City
from ..times import recorded_time_zone
from . import hotspot_inputs as inputs


@dataclass(frozen=True)
class DatabaseCity:
    """A city that is its own gridgis deployment: the area its analyses cover (the
    district, or its published grids), and its incidents in [start, end), read from its
    database with a SQLAlchemy URL as the service reads them; its time zone is
    ``time_zone``, else the one its database records, else Asia/Shanghai (the worker's
    own ``GRIDGIS_TIMEZONE`` is not the city's)."""

    name: str
    url: str = field(repr=False)  # may carry a password; task arguments reach logs
    start: datetime | None = None
    end: datetime | None = None
    time_zone: str | None = None

    def load(self) -> City:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                srid = current_srid(conn)
                if srid is None:
                    raise ConfigurationError(f"{self.name}: not a gridgis database")
                time_zone = self.time_zone or recorded_time_zone(conn)
                try:
                    boundary = inputs.district(conn, srid)
                except NotFound as exc:
                    raise NotFound(f"{self.name}: {exc}") from None
                points = inputs.incidents(conn, srid, inputs.Selection(
                    start=self.start, end=self.end))
        finally:
            engine.dispose()
        return City(self.name, boundary.iloc[0],
                    np.column_stack([points.geometry.x, points.geometry.y]),
                    f"EPSG:{srid}", pd.DatetimeIndex(points["occurred_at"]), time_zone)
