"""What the app keeps for its lifetime: the database and, once the schema exists, the
catalog of tables and the services with their result cache."""

from __future__ import annotations

import threading

from gridgis.gis.db import Database, current_srid
from gridgis.gis.errors import NotInitialised
from gridgis.gis.resources import Catalog
from gridgis.gis.services.cache import ResultCache
from gridgis.gis.services.hotspots import HotspotService


class AppState:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.results = ResultCache()
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._hotspots: HotspotService | None = None

    @property
    def srid(self) -> int:
        return self.catalog.srid

    @property
    def catalog(self) -> Catalog:
        """Reflected on first use: the schema may be created after the app starts."""
        with self._lock:
            if self._catalog is None:
                with self.database.engine.connect() as conn:
                    srid = current_srid(conn)
                if srid is None:
                    raise NotInitialised("the database has no gridgis schema yet: run "
                                         "`gridgis demo` or `gridgis init`, then import data")
                self._catalog = Catalog(self.database.engine, srid)
            return self._catalog

    @property
    def hotspots(self) -> HotspotService:
        catalog = self.catalog
        with self._lock:
            if self._hotspots is None:
                self._hotspots = HotspotService(self.database.engine, catalog.srid,
                                                self.results)
            return self._hotspots
