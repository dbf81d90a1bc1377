"""What the app keeps for its lifetime: the database and, once the schema exists, the
catalog of tables and the services with their result cache."""

from __future__ import annotations

import threading

from gridgis.gis.db import Database, current_srid
from gridgis.gis.errors import NotInitialised
from gridgis.gis.grid_index import GridLookup
from gridgis.gis.notifications import HeardChanges
from gridgis.gis.replica import Reads
from gridgis.gis.resources import Catalog
from gridgis.gis.services.blindspots import BlindSpotService
from gridgis.gis.services.cache import ResultCache, SizedCache
from gridgis.gis.services.feature_layers import FeatureLayers
from gridgis.gis.services.hotspots import HotspotService, init_worker
from gridgis.gis.services.patrols import PatrolService
from gridgis.gis.services.plan_reports import PlanReports
from gridgis.gis.services.roads import RoadService
from gridgis.gis.services.runner import ProcessRunner
from gridgis.gis.stats import GridStatsCache

from .kept import KeptAnswers
from .lane import AnalyticsLane
from .limits import SignInLimiter
from .principals import PrincipalCache
from .settings import ApiSettings, AuthSettings

COUNT_CACHE_BYTES = 2**20
GRID_STATS_CACHE_MB = 64  # a city's 10,000 grids: 20 MB of counts, 1.2 MB a period


class AppState:
    def __init__(self, database: Database, settings: ApiSettings | None = None,
                 auth: AuthSettings | None = None, reads: Reads | None = None) -> None:
        settings = settings or ApiSettings()
        auth = auth or AuthSettings()
        self.database = database
        # map pages and analyses read here: the replica, when there is one
        self.reads = reads or Reads(database.engine)
        self.sign_in_limiter = SignInLimiter(database.engine, auth.sign_in_per_minute)
        self.principals = PrincipalCache(auth.principal_cache_s)
        self.grid_lookup = GridLookup(database.engine.connect)
        self.heard_changes = HeardChanges()
        url = database.engine.url.render_as_string(hide_password=False)
        self.runner = ProcessRunner(settings.analytics_slots, settings.analytics_wait_s,
                                    settings.analytics_max_pending, initializer=init_worker,
                                    initargs=(url, database.session_role, *_replica(self.reads)))
        self.results = ResultCache(runner=self.runner)
        self.lane = AnalyticsLane(settings.analytics_threads, settings.analytics_wait_s)
        self.vector_tiles = SizedCache(int(settings.vector_tile_cache_mb * 2**20))
        self.counts = SizedCache(COUNT_CACHE_BYTES)  # of matches, per table version
        self.grid_stats = GridStatsCache.of(GRID_STATS_CACHE_MB)  # per table version
        self.answers = KeptAnswers(int(settings.answer_cache_mb * 2**20))
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._hotspots: HotspotService | None = None
        self._blindspots: BlindSpotService | None = None
        self._roads: RoadService | None = None
        self._patrols: PatrolService | None = None
        self._plan_reports: PlanReports | None = None
        self._feature_layers: FeatureLayers | None = None

    @property
    def srid(self) -> int:
        return self.catalog.srid

    def reflect(self) -> None:
        """Build the catalog now (at start-up)."""
        self.catalog  # noqa: B018 - the property reflects on first use

    @property
    def catalog(self) -> Catalog:
        """Reflected at start-up, or on first use when the schema is created later. No
        lock is held while reading (a request waiting on one would keep its pooled
        connection from the reader): concurrent first uses may both reflect; one wins."""
        if self._catalog is None:
            with self.database.engine.connect() as conn:
                srid = current_srid(conn)
            if srid is None:
                raise NotInitialised("the database has no gridgis schema yet: run "
                                     "`gridgis demo` or `gridgis init`, then import data")
            catalog = Catalog(self.database.engine, srid)
            with self._lock:
                if self._catalog is None:
                    self._catalog = catalog
        return self._catalog

    @property
    def hotspots(self) -> HotspotService:
        catalog = self.catalog
        with self._lock:
            if self._hotspots is None:
                self._hotspots = HotspotService(self.reads, catalog.srid,
                                                self.results)
            return self._hotspots

    @property
    def blindspots(self) -> BlindSpotService:
        hotspots = self.hotspots
        with self._lock:
            if self._blindspots is None:
                self._blindspots = BlindSpotService(self.reads, hotspots.srid,
                                                    self.results, hotspots)
            return self._blindspots

    @property
    def roads(self) -> RoadService:
        catalog = self.catalog
        with self._lock:
            if self._roads is None:
                self._roads = RoadService(self.reads, catalog.srid, self.results)
            return self._roads

    @property
    def patrols(self) -> PatrolService:
        hotspots = self.hotspots
        with self._lock:
            if self._patrols is None:
                self._patrols = PatrolService(self.database.engine, hotspots.srid,
                                              self.results, hotspots)
            return self._patrols

    @property
    def feature_layers(self) -> FeatureLayers:
        blindspots = self.blindspots
        with self._lock:
            if self._feature_layers is None:
                self._feature_layers = FeatureLayers(self.database.engine, blindspots.srid,
                                                     blindspots.hotspots, blindspots)
            return self._feature_layers

    @property
    def plan_reports(self) -> PlanReports:
        with self._lock:
            if self._plan_reports is None:
                self._plan_reports = PlanReports(self.reads, self.results)
            return self._plan_reports


def _replica(reads: Reads) -> tuple[str | None, float]:
    """The replica's URL and wait, for the analysis processes to read as this one."""
    if reads.replica is None:
        return None, reads.wait_s
    return reads.replica.url.render_as_string(hide_password=False), reads.wait_s
