"""The hotspot service: Gi*, hotspot areas, emerging hotspots, near repeats, forecasts,
backtests and the grid ranking, fed from PostGIS and cached per data version.

Each analysis reads its inputs in short transactions, computes with no connection held,
and keeps its result in the cache its owner passes in (the app's, or a command's own),
keyed by the analysis, its parameters and the data version; a change to the incidents,
the areas, the grids or the plans starts a new version. A miss is computed by the
cache's runner: in this thread (a command), or in one of the service's worker processes,
so that analyses never compete with the requests the service answers. The API, the map
pages and ``gridgis backtest`` all call this one class.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import InvalidInput
from ..hotspots.areas import hotspot_areas
from ..hotspots.cube import BIN_FREQUENCIES, binned_counts, counts, time_bins
from ..hotspots.defaults import RANKING_DAYS
from ..hotspots.emerging import emerging_hotspots
from ..hotspots.forecast import METHODS, EmptyStudyArea, Incidents, backtest, forecast
from ..hotspots.gistar import gi_star
from ..hotspots.near_repeat import elevated_extent, knox, risk_zones
from ..hotspots.periods import Length, resolve_period
from ..hotspots.ranking import grid_ranking
from ..hotspots.weights import spatial_weights
from ..importing.convert import DateRange
from ..replica import WAIT_S, Connects, Reads, primary_of
from ..times import deployment_time_zone
from . import hotspot_inputs as inputs
from .cache import ResultCache
from .hotspot_inputs import Selection
from .study_area import StudyArea

MAX_PERMUTATIONS = 999
MAX_KNOX_INCIDENTS = 20_000
# A Knox test of 20,000 incidents takes tens of seconds: an asker waits this long, then
# is told to come back (503, Retry-After) while it computes; the result is kept.
NEAR_REPEAT_WAIT_S = 5.0
BACKTEST_STEPS = 2 + len(METHODS)  # reading, tuning, then each method
ANALYSIS_NICENESS = 10  # added to an analysis worker's nice value
T = TypeVar("T")


@dataclass(frozen=True)
class BacktestWindow:
    """Train on [train_start, train_end), score [train_end, test_end) on ``study``."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_end: pd.Timestamp
    study: StudyArea = StudyArea()

    def __post_init__(self) -> None:
        if not self.train_start < self.train_end < self.test_end:
            raise InvalidInput("the dates must be in order: train start < train end < test end",
                               field="train_end")


@dataclass
class NearRepeat:
    table: pd.DataFrame  # a row per (distance band, time band)
    extent: tuple[float, float] | None  # (metres, days) of elevated risk
    zones: gpd.GeoDataFrame | None  # risk zones around the latest incidents


class HotspotService:
    def __init__(self, engine: Connects, srid: int, cache: ResultCache | None = None
                 ) -> None:
        self.engine = engine
        self.srid = srid
        self.cache = cache if cache is not None else ResultCache()

    # -- inputs ------------------------------------------------------------------------

    def version(self) -> int:
        with primary_of(self.engine).connect() as conn:
            return inputs.data_version(conn)

    def _cached(self, name: str, params: tuple, version: int,
                compute: Callable[[], T]) -> T:
        """A cached read (computed where asked: reads are short)."""
        return self.cache.get_or_compute((name, params, version), compute)

    def time_zone(self) -> str:
        """The district's local time zone (``times.deployment_time_zone``)."""
        with primary_of(self.engine).connect() as conn:
            return deployment_time_zone(conn)

    def units(self, sel: Selection, version: int | None = None) -> gpd.GeoDataFrame:
        version = self.version() if version is None else version

        def read() -> gpd.GeoDataFrame:
            with self.engine.connect() as conn:
                if sel.unit == "grids":
                    return inputs.published_grids(conn, self.srid)
                boundary = inputs.district(conn, self.srid)
            return inputs.lattice_units(boundary, sel)
        return self._cached("units", sel.units_key, version, read).copy()

    def incidents(self, sel: Selection, version: int | None = None) -> gpd.GeoDataFrame:
        """The selected incidents (every layer of a page reads them: cached)."""
        version = self.version() if version is None else version

        def read() -> gpd.GeoDataFrame:
            with self.engine.connect() as conn:
                return inputs.incidents(conn, self.srid, sel)
        key = (sel.categories, sel.start, sel.end)
        return self._cached("incidents", key, version, read).copy()

    def period(self, start: datetime | None, end: datetime | None, length: Length
               ) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[start, end) with the defaults every page and table shares: ``length`` back
        from just after the latest incident."""
        with primary_of(self.engine).connect() as conn:
            latest = inputs.latest_incident(conn)
        return resolve_period(start, end, latest=latest, length=length)

    def _data_period(self, points: gpd.GeoDataFrame, sel: Selection
                     ) -> tuple[pd.Timestamp, pd.Timestamp]:
        plausible = DateRange.now()
        when = points["occurred_at"]
        when = when[(when >= plausible.earliest) & (when <= plausible.latest)]
        if when.empty:
            raise InvalidInput("no incidents match the selection", field="start")
        return resolve_period(sel.start, sel.end, latest=when.max(), earliest=when.min())

    # -- analyses ----------------------------------------------------------------------

    def gi(self, sel: Selection, permutations: int = 0, seed: int = 0,
           version: int | None = None) -> gpd.GeoDataFrame:
        """Gi* per unit: incidents, z, p (and p_sim), class."""
        _check_permutations(permutations)
        return self._analysis("gi", (sel, permutations, seed), version)

    def areas(self, sel: Selection, min_class: int = 95) -> gpd.GeoDataFrame:
        """Touching hot units merged into hotspot areas."""
        if min_class not in (90, 95, 99):
            raise InvalidInput("min_class must be 90, 95 or 99", field="min_class")
        return self._analysis("areas", (sel, min_class))

    def emerging(self, sel: Selection, bin: str = "month") -> gpd.GeoDataFrame:
        """The emerging-hotspot pattern per unit over bins of ``bin``."""
        if bin not in BIN_FREQUENCIES:
            raise InvalidInput(f"bin must be one of {', '.join(BIN_FREQUENCIES)}",
                               field="bin")
        return self._analysis("emerging", (sel, bin))

    def near_repeat(self, sel: Selection, distances: list[float], days: list[float],
                    permutations: int = 99, seed: int = 0) -> NearRepeat:
        """The Knox table, the extent of elevated risk and the current risk zones."""
        _check_permutations(permutations)
        return self._analysis("near_repeat", (sel, tuple(distances), tuple(days),
                                              permutations, seed), wait_s=NEAR_REPEAT_WAIT_S)

    def forecast(self, sel: Selection, horizon_days: int = 30) -> gpd.GeoDataFrame:
        """Scores per unit for the ``horizon_days`` after the selection's end, and each
        unit's place in the ranking as the share of the area ranked at or above it."""
        return self._analysis("forecast", (sel, horizon_days))

    def backtest(self, sel: Selection, window: BacktestWindow,
                 progress: Callable[[str], None] | None = None) -> pd.DataFrame:
        """Hit rate, PAI and PEI of the forecast, the baselines and the oracle;
        ``progress`` (which keeps the computation in this process) is told each of the
        ``BACKTEST_STEPS`` steps as it ends."""
        if progress is None:
            return self._analysis("backtest", (sel, window))
        version = self.version()
        return self.cache.get_or_compute(
            ("backtest", (sel, window), version),
            lambda: self._compute_backtest(version, sel, window, progress))

    def ranking(self, start: datetime | None = None, end: datetime | None = None,
                months: int = 12) -> list[dict[str, Any]]:
        """Grids by incidents in [start, end) (default: the last 30 days of data), with
        the previous period of the same length, the change, the Gi* class and the
        emerging pattern over the ``months`` monthly bins before the end."""
        start_ts, end_ts = self.period(start, end, pd.Timedelta(days=RANKING_DAYS))
        return self._analysis("ranking", (start_ts, end_ts, months))

    def _analysis(self, name: str, args: tuple, version: int | None = None,
                  wait_s: float | None = None) -> Any:
        """A cached analysis, computed by the cache's runner on a miss: here, or in a
        worker process that runs :func:`run_analysis` with the same arguments."""
        version = self.version() if version is None else version
        compute = getattr(self, f"_compute_{name}")
        return self.cache.get_or_compute(
            (name, args, version), lambda: compute(version, *args),
            job=functools.partial(run_analysis, name, args, version), wait_s=wait_s)

    # -- the computations (here, or in a worker process) -------------------------------

    def _compute_gi(self, version: int, sel: Selection, permutations: int,
                    seed: int) -> gpd.GeoDataFrame:
        cells = self.units(sel, version)
        observed = counts(cells, self.incidents(sel, version))
        result = gi_star(observed, spatial_weights(cells, sel.weights, sel.band_m),
                         permutations=permutations, seed=seed).frame()
        return cells.assign(incidents=observed, **{c: result[c].to_numpy()
                                                  for c in result.columns})

    def _compute_areas(self, version: int, sel: Selection, min_class: int
                       ) -> gpd.GeoDataFrame:
        with self.engine.connect() as conn:
            communities = inputs.communities(conn, self.srid)
        grids = self.units(Selection("grids"), version)
        return hotspot_areas(self.gi(sel, version=version), self.incidents(sel, version),
                             grids, communities, min_class=min_class)

    def _compute_emerging(self, version: int, sel: Selection, bin: str) -> gpd.GeoDataFrame:
        cells = self.units(sel, version)
        points = self.incidents(sel, version)
        start, end = self._data_period(points, sel)
        edges = time_bins(start, end, BIN_FREQUENCIES[bin])
        result = emerging_hotspots(binned_counts(cells, points, edges),
                                   spatial_weights(cells, sel.weights, sel.band_m))
        return cells.assign(**{c: result[c].to_numpy() for c in result.columns})

    def _compute_near_repeat(self, version: int, sel: Selection, distances: tuple,
                             days: tuple, permutations: int, seed: int) -> NearRepeat:
        points = self.incidents(sel, version)
        if len(points) > MAX_KNOX_INCIDENTS:
            raise InvalidInput(f"{len(points):,} incidents; near-repeat analysis takes at "
                               f"most {MAX_KNOX_INCIDENTS:,} — narrow the time range or the "
                               "categories", field="start")
        xy = np.column_stack([points.geometry.x, points.geometry.y])
        t = (points["occurred_at"] - pd.Timestamp("1970-01-01", tz="UTC")) \
            .dt.total_seconds().to_numpy() / 86400
        table = knox(xy, t, distance_bands=list(distances), time_bands=list(days),
                     permutations=permutations, seed=seed)
        extent = elevated_extent(table)
        zones = risk_zones(points, points["occurred_at"].max(), *extent) \
            if extent and len(points) else None
        return NearRepeat(table, extent, zones)

    def _compute_forecast(self, version: int, sel: Selection, horizon_days: int
                          ) -> gpd.GeoDataFrame:
        cells = self.units(sel, version)
        points = self.incidents(sel, version)
        start, end = self._data_period(points, sel)
        score = forecast(cells, Incidents.from_frame(points), start, end,
                         pd.Timedelta(days=horizon_days))
        area = cells.area.to_numpy()
        order = np.argsort(-score / area, kind="stable")
        share = np.empty(len(cells))
        share[order] = np.cumsum(area[order]) / area.sum()
        return cells.assign(score=score, top_area_share=share)

    def _compute_backtest(self, version: int, sel: Selection, window: BacktestWindow,
                          progress: Callable[[str], None] | None = None) -> pd.DataFrame:
        scored = sel.within(window.train_start.to_pydatetime(),
                            window.test_end.to_pydatetime())
        cells = self.units(sel, version)
        study = window.study
        with self.engine.connect() as conn:
            cells = study.clip(conn, cells, self.srid)
        points = self.incidents(scored, version)
        if progress:
            progress("read the units and incidents")
        try:
            table = backtest(cells, Incidents.from_frame(points), window.train_start,
                             window.train_end, window.test_end, progress=progress,
                             active_only=study.kind == "active")
        except EmptyStudyArea as exc:
            raise InvalidInput(str(exc), field="study_area") from None
        return table.assign(study_area=study.describe())

    def _compute_ranking(self, version: int, start: pd.Timestamp, end: pd.Timestamp,
                         months: int) -> list[dict[str, Any]]:
        grids = self.units(Selection("grids"), version)
        history_start = end - pd.DateOffset(months=months)
        everything = self.incidents(Selection(
            "grids", start=min(history_start, start - (end - start)).to_pydatetime(),
            end=end.to_pydatetime()), version)
        return grid_ranking(grids, everything, start, end, history_start)


# -- worker processes -------------------------------------------------------------------
# A process of the service's pool (:class:`~.runner.ProcessRunner`) computes with a
# service of its own, over its own connection: set up once per process.

ANALYSIS_SESSIONS = "gridgis-analysis"  # the analysis processes' application_name
_worker_url: str | None = None
_worker_role: str | None = None
_worker_replica: tuple[str | None, float] = (None, 0.0)
_worker_service: HotspotService | None = None


def init_worker(database_url: str, role: str | None = None, replica_url: str | None = None,
                replica_wait_s: float = WAIT_S) -> None:
    """Set up an analysis worker process (connecting as ``role`` when given, and reading
    from ``replica_url`` when given: :mod:`~gridgis.gis.replica`). It runs at a lower
    scheduling priority, so that on a busy machine the light requests get the CPU
    first."""
    global _worker_url, _worker_role, _worker_replica
    _worker_url, _worker_role = database_url, role
    _worker_replica = (replica_url, replica_wait_s)
    with contextlib.suppress(OSError, AttributeError):
        os.nice(ANALYSIS_NICENESS)


def warm_worker() -> None:
    """Load the analytics libraries (seconds) before the first analysis needs them."""
    import esda  # noqa: F401
    import libpysal.weights  # noqa: F401
    import scipy.spatial  # noqa: F401


def worker_service() -> HotspotService:
    """This worker process's service (made on first use, over its own connections):
    it reads through :class:`~gridgis.gis.replica.Reads`; ``worker_primary()`` writes."""
    global _worker_service
    if _worker_service is None:
        from ..db import APP_ROLE, create_db_engine, current_srid

        if _worker_url is None:
            raise RuntimeError("an analysis outside an initialised worker process")
        engine = create_db_engine(_worker_url, pool_size=1, role=_worker_role,
                                  application_name=ANALYSIS_SESSIONS)
        replica_url, wait_s = _worker_replica
        replica = None if replica_url is None else create_db_engine(
            replica_url, pool_size=1, role=APP_ROLE, application_name=ANALYSIS_SESSIONS)
        with engine.connect() as conn:
            srid = current_srid(conn)
        if srid is None:
            raise RuntimeError("the worker's database has no gridgis schema")
        _worker_service = HotspotService(Reads(engine, replica, wait_s), srid)
    return _worker_service


def worker_primary() -> sa.Engine:
    """This worker process's engine on the primary (for what it writes)."""
    reads = worker_service().engine
    if not isinstance(reads, Reads):
        raise RuntimeError("the worker's service reads through no Reads")
    return reads.primary


def run_analysis(name: str, args: tuple, version: int) -> Any:
    """Compute one analysis in a worker process (its nested analyses and inputs cached
    in the process)."""
    return getattr(worker_service(), f"_compute_{name}")(version, *args)


def _check_permutations(permutations: int) -> None:
    if not 0 <= permutations <= MAX_PERMUTATIONS:
        raise InvalidInput(f"permutations must be between 0 and {MAX_PERMUTATIONS}",
                           field="permutations")
