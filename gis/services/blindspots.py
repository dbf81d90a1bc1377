"""The blind-spot service: coverage, responsibility, cameras, reach and patrol presence
per grid of a plan, and the scorecard, fed from PostGIS and cached per data version.

Like the hotspot service (which it uses for the Gi* hot cells), it reads in short
transactions, computes with no connection held, and computes misses through the
cache's runner: inline for a command, in the service's worker processes for the API.
Results are keyed by the options and by both data versions (incidents, areas, grids and
plans; and the registry: people, buildings, cameras, roads, visits, patrol points...).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..blindspots import cameras as cam
from ..blindspots import per_grid as pg
from ..blindspots.coverage import Coverage, plan_coverage
from ..blindspots.presence import presence
from ..blindspots.reach import Thresholds as ReachThresholds
from ..blindspots.responsibility import grid_responsibility, worker_loads
from ..blindspots.scorecard import roll_up, score
from ..errors import InvalidInput
from ..network.graph import Mode, RoadGraph
from ..replica import Connects, primary_of
from . import blindspot_inputs as inputs
from .blindspot_options import AuditOptions
from .cache import ResultCache
from .hotspot_inputs import Selection
from .hotspots import HotspotService
from .roads import cached_network, configured_speeds

MAX_OUTSIDE_LISTED = 1000
MAX_SITE_CANDIDATES = 5000


@dataclass
class CoverageReport:
    plan: inputs.Plan
    coverage: Coverage
    outside: pd.DataFrame  # kind, id, x, y, nearest, distance_m (listed: at most 1,000)
    outside_counts: dict[str, int]


@dataclass
class ResponsibilityReport:
    plan: str
    grids: pd.DataFrame
    workers: pd.DataFrame


@dataclass
class CameraReport:
    views: gpd.GeoDataFrame  # camera id, name, geometry (visibility polygon)
    grids: pd.DataFrame  # code, street_m, street_in_view_share, incidents, ..., dead_corners
    dead_corners: gpd.GeoDataFrame  # hot cells no camera sees
    sites: gpd.GeoDataFrame  # rank, gain, cumulative, geometry


@dataclass
class ReachReport:
    streets: gpd.GeoDataFrame  # foot_min, car_min, grid, geometry (noded edges)
    grids: pd.DataFrame  # code, street_m, foot_beyond_share, car_beyond_share
    posts: gpd.GeoDataFrame
    pieces: int  # connected pieces of the network


@dataclass
class PatrolReport:
    cells: gpd.GeoDataFrame  # hot cells: rank, z, incidents, minutes_per_week, last_seen
    grids: pd.DataFrame  # code, hot_cells, unpatrolled_hotspots
    has_data: bool


@dataclass
class Scorecard:
    plan: str
    grids: pd.DataFrame
    communities: pd.DataFrame
    subdistricts: pd.DataFrame
    rules: list[dict[str, Any]]
    coverage_failed: bool  # gaps or overlaps: publishing needs --force


class BlindSpotService:
    def __init__(self, engine: Connects, srid: int, cache: ResultCache | None = None,
                 hotspots: HotspotService | None = None) -> None:
        self.engine = engine
        self.srid = srid
        self.cache = cache if cache is not None else ResultCache()
        self.hotspots = hotspots or HotspotService(engine, srid, self.cache)

    def version(self) -> tuple[int, int]:
        return inputs.versions(primary_of(self.engine))

    # -- the analyses ------------------------------------------------------------------

    def coverage(self, options: AuditOptions) -> CoverageReport:
        return self._analysis("coverage", options)

    def responsibility(self, options: AuditOptions) -> ResponsibilityReport:
        return self._analysis("responsibility", options)

    def cameras(self, options: AuditOptions) -> CameraReport:
        return self._analysis("cameras", options)

    def reach(self, options: AuditOptions) -> ReachReport:
        return self._analysis("reach", options)

    def patrol(self, options: AuditOptions) -> PatrolReport:
        return self._analysis("patrol", options)

    def scorecard(self, options: AuditOptions) -> Scorecard:
        return self._analysis("scorecard", options)

    def grids(self, options: AuditOptions) -> gpd.GeoDataFrame:
        """The grids of the audited plan (id, code, community, subdistrict, geometry)."""
        return self._plan(options, self.version())[1]

    def _analysis(self, name: str, options: AuditOptions,
                  version: tuple[int, int] | None = None) -> Any:
        version = self.version() if version is None else version
        compute = getattr(self, f"_compute_{name}")
        return self.cache.get_or_compute(
            ("blindspots", name, options, version), lambda: compute(version, options),
            job=functools.partial(run_audit, name, options, version))

    # -- shared inputs (cached reads) --------------------------------------------------

    def _read(self, name: str, key: tuple, version: tuple[int, int], read) -> Any:
        return self.cache.get_or_compute(("blindspot-input", name, key, version), read)

    def _plan(self, options: AuditOptions, version) -> tuple[inputs.Plan, gpd.GeoDataFrame]:
        def read():
            with self.engine.connect() as conn:
                plan = inputs.plan(conn, options.plan)
                return plan, inputs.plan_grids(conn, self.srid, plan.id)
        return self._read("plan", (options.plan,), version, read)

    def _period(self, options: AuditOptions) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The incidents' last ``months``: up to just after the latest incident."""
        return self.hotspots.period(None, None, pd.DateOffset(months=options.months))

    def _today(self, table: str, column: str) -> pd.Timestamp:
        """The audit's "now" for records of ``table``: just after the latest of them or
        of the incidents, whichever is later, and never after the clock, so that data
        that arrive late are judged as of their own date."""
        with self.engine.connect() as conn:
            latest = inputs.latest(conn, table, column)
        end = self.hotspots.period(None, None, pd.Timedelta(days=1))[1]
        if latest is not None:
            end = max(end, latest + pd.Timedelta(seconds=1))
        return min(end, pd.Timestamp.now("UTC"))

    def _hot_cells(self, options: AuditOptions, version) -> gpd.GeoDataFrame:
        start, end = self._period(options)
        try:
            gi = self.hotspots.gi(Selection(start=start.to_pydatetime(),
                                            end=end.to_pydatetime()), version=version[0])
        except InvalidInput:
            gi = None  # no incidents in the period: no hotspots
        if gi is None or gi.empty:
            return gpd.GeoDataFrame({"cell": [], "z": [], "class": [], "incidents": []},
                                    geometry=[], crs=self.srid)
        hot = gi[gi["class"] >= options.hot_class].sort_values("z", ascending=False)
        hot = hot.assign(rank=np.arange(1, len(hot) + 1))
        return hot[["cell", "rank", "z", "class", "incidents", "geometry"]] \
            .reset_index(drop=True)

    def _network(self, version) -> RoadGraph:
        """The noded road network (empty without roads: reach and street measures are
        then unknown)."""
        return cached_network(self.cache, self.engine, self.srid, version[1])

    # -- the computations (here, or in a worker process) -------------------------------

    def _compute_coverage(self, version, options: AuditOptions) -> CoverageReport:
        plan, grids = self._plan(options, version)
        with self.engine.connect() as conn:
            region = inputs.region(conn, options.community)
            communities = inputs.communities(conn, self.srid)
        if options.community is not None:
            grids = grids[grids["community"] == options.community]
        coverage = plan_coverage(grids, region, communities, options.sliver_m2)
        if options.community is not None:  # entities outside: a district-wide question
            return CoverageReport(plan, coverage, inputs.outside_frame(), {})
        with self.engine.connect() as conn:
            outside, counts = inputs.outside_entities(
                conn, plan, MAX_OUTSIDE_LISTED, self.srid,
                gaps=shapely.multipolygons(coverage.gaps.geometry.values), region=region)
        return CoverageReport(plan, coverage, outside, counts)

    def _compute_responsibility(self, version, options: AuditOptions
                                ) -> ResponsibilityReport:
        plan, _ = self._plan(options, version)
        today = self._today("visits", "visited_at")
        with self.engine.connect() as conn:
            registry = inputs.grid_registry(conn, plan, today - pd.Timedelta(
                days=options.stale_days))
            assigned = inputs.assignments(conn, plan.id)
        grids = grid_responsibility(registry, assigned, today, options.norms)
        grids.insert(0, "id", registry["id"].to_numpy())
        grids[["community", "subdistrict"]] = registry[["community", "subdistrict"]].to_numpy()
        loads = worker_loads(registry, assigned, options.norms)
        names = assigned.drop_duplicates("worker_id").set_index("worker_id")[
            ["name", "employee_no"]]
        return ResponsibilityReport(plan.name, grids, loads.join(names, on="worker_id"))

    def _compute_cameras(self, version, options: AuditOptions) -> CameraReport:
        _, grids = self._plan(options, version)
        start, end = self._period(options)
        with self.engine.connect() as conn:
            cameras = inputs.online_cameras(conn, self.srid)
            footprints = inputs.building_footprints(conn)
            incidents = inputs.incident_points(conn, self.srid, start, end)
        network = self._network(version)
        views = cam.view_polygons(cameras, footprints)
        hot = self._hot_cells(options, version)
        samples, weight, _ = pg.street_samples(network.edges.geometry.values)
        sample_grid = pg.grid_of(samples, grids)
        seen = cam.in_view(samples, views)
        incident_grid = pg.grid_of(incidents.geometry.values, grids)
        incident_seen = cam.in_view(incidents.geometry.values, views)
        hot_seen = cam.in_view(hot.geometry.values, views)
        hot_grid = pg.grid_of(shapely.point_on_surface(hot.geometry.values), grids)
        per_grid = pd.DataFrame({"code": grids["code"].to_numpy()})
        n = len(grids)
        street = pg.sum_by(sample_grid, weight, n)
        per_grid["street_m"] = street
        per_grid["street_in_view_m"] = pg.sum_by(sample_grid, weight * seen, n)
        per_grid["street_in_view_share"] = pg.share(per_grid["street_in_view_m"], street)
        per_grid["incidents"] = pg.sum_by(incident_grid, np.ones(len(incidents)), n)
        per_grid["incidents_in_view"] = pg.sum_by(incident_grid, incident_seen.astype(float), n)
        per_grid["incidents_in_view_share"] = pg.share(per_grid["incidents_in_view"],
                                                     per_grid["incidents"])
        per_grid["dead_corners"] = pg.sum_by(hot_grid, (~hot_seen).astype(float), n)
        dead = hot[~hot_seen].assign(grid=pg.codes(grids, hot_grid[~hot_seen]))
        sites = self._sites(options, network, footprints, incidents, incident_seen)
        view_frame = gpd.GeoDataFrame({"camera": cameras["id"].to_numpy(),
                                       "name": cameras["name"].to_numpy()},
                                      geometry=views, crs=self.srid)
        return CameraReport(view_frame, per_grid, dead.reset_index(drop=True), sites)

    def _sites(self, options, network, footprints, incidents, seen) -> gpd.GeoDataFrame:
        targets = incidents.geometry.values[~seen]
        empty = gpd.GeoDataFrame({"rank": [], "gain": [], "cumulative": []}, geometry=[],
                                 crs=self.srid)
        if not options.sites or not len(targets):
            return empty
        candidates = cam.candidate_sites(network.edges.geometry.values,
                                         options.site_range_m / 2)
        near, _ = shapely.STRtree(targets).query(candidates, predicate="dwithin",
                                                 distance=options.site_range_m)
        count = np.bincount(near, minlength=len(candidates))
        keep = np.flatnonzero(count)
        keep = keep[np.argsort(-count[keep], kind="stable")[:MAX_SITE_CANDIDATES]]
        candidates = candidates[np.sort(keep)]
        sets = cam.covering_sets(candidates, targets, footprints, options.site_range_m)
        chosen = cam.greedy_sites(sets, np.ones(len(targets)), options.sites)
        if not chosen:
            return empty
        return gpd.GeoDataFrame({
            "rank": [s.rank for s in chosen], "gain": [s.gain for s in chosen],
            "cumulative": [s.cumulative for s in chosen],
            "share": [s.cumulative / len(incidents) for s in chosen]},
            geometry=[candidates[s.candidate] for s in chosen], crs=self.srid)

    def _compute_reach(self, version, options: AuditOptions) -> ReachReport:
        _, grids = self._plan(options, version)
        network = self._network(version)
        with self.engine.connect() as conn:
            posts = inputs.posts(conn, self.srid)
        origins = shapely.get_coordinates(posts.geometry.values)
        limits = ReachThresholds(options.foot_min, options.car_min)
        streets = network.edges[["highway", "oneway", "geometry"]].copy()
        samples, weight, edge, fraction = pg.street_samples(network.edges.geometry.values,
                                                            with_fractions=True)
        sample_grid = pg.grid_of(samples, grids)
        n = len(grids)
        per_grid = pd.DataFrame({"code": grids["code"].to_numpy()})
        per_grid["street_m"] = pg.sum_by(sample_grid, weight, n)
        # One search per mode: every edge's middle (the map) and every sample (the shares).
        middles = np.arange(len(streets))
        at = (np.concatenate([middles, edge]),
              np.concatenate([np.full(len(middles), 0.5), fraction]))
        modes: tuple[Mode, ...] = ("foot", "car")
        for mode in modes:
            reached = network.street_minutes(origins, mode, configured_speeds(), at=at)
            streets[f"{mode}_min"] = reached[:len(middles)]
            minutes = reached[len(middles):]
            open_ = network.open_for(mode)[edge]
            beyond = open_ & (minutes > limits.of(mode))
            per_grid[f"{mode}_beyond_share"] = pg.share(
                pg.sum_by(sample_grid, weight * beyond, n),
                pg.sum_by(sample_grid, weight * open_, n)) if len(posts) else np.nan
        mid = shapely.line_interpolate_point(streets.geometry.values, 0.5, normalized=True)
        streets["grid"] = pg.codes(grids, pg.grid_of(mid, grids))
        streets = gpd.GeoDataFrame(streets, geometry="geometry", crs=self.srid)
        pieces = int(network.components().max() + 1) if len(network.edges) else 0
        return ReachReport(streets, per_grid, posts, pieces)

    def _compute_patrol(self, version, options: AuditOptions) -> PatrolReport:
        _, grids = self._plan(options, version)
        end = self._today("patrol_points", "recorded_at")
        start = end - pd.Timedelta(days=options.presence_days)
        with self.engine.connect() as conn:
            has_data = inputs.any_patrol_points(conn)
            fixes = inputs.patrol_fixes(conn, self.srid, start, end)
        hot = self._hot_cells(options, version)
        cells = hot.join(presence(hot, fixes, start, end, recent_days=options.recent_days))
        cell_grid = pg.grid_of(shapely.point_on_surface(hot.geometry.values), grids)
        cells["grid"] = pg.codes(grids, cell_grid)
        n = len(grids)
        per_grid = pd.DataFrame({"code": grids["code"].to_numpy(),
                                 "hot_cells": pg.sum_by(cell_grid, np.ones(len(hot)), n)})
        unpatrolled = (~cells["patrolled_recently"].to_numpy()).astype(float)
        per_grid["unpatrolled_hotspots"] = pg.sum_by(cell_grid, unpatrolled, n) if has_data \
            else np.nan
        return PatrolReport(gpd.GeoDataFrame(cells, geometry="geometry", crs=self.srid),
                            per_grid, has_data)

    def _compute_scorecard(self, version, options: AuditOptions) -> Scorecard:
        plan, grids = self._plan(options, version)
        whole = AuditOptions(**{**asdict(options), "community": None})
        coverage = self._analysis("coverage", whole, version)
        duty = self._analysis("responsibility", whole, version)
        cameras = self._analysis("cameras", whole, version)
        reach = self._analysis("reach", whole, version)
        patrol = self._analysis("patrol", whole, version)
        measures = grids[["id", "code", "community", "subdistrict"]].copy()
        for frame, columns in (
                (coverage.coverage.grids, ["gap_m2", "overlap_m2", "outside_community_m2",
                                           "parts", "holes", "sliver_parts"]),
                (duty.grids, ["households", "people", "workers", "households_per_worker",
                              "unwatched_special", "days_since_check", "checked_share"]),
                (cameras.grids, ["street_in_view_share", "incidents_in_view_share",
                                 "incidents", "dead_corners"]),
                (reach.grids, ["foot_beyond_share", "car_beyond_share"]),
                (patrol.grids, ["hot_cells", "unpatrolled_hotspots"])):
            measures = measures.merge(frame[["code", *columns]], on="code", how="left")
        measures["neglected_incidents"] = _neglected(cameras.dead_corners, patrol,
                                                     measures["code"])
        measures["workers_off_norm"] = _off_norm(duty.workers, measures["code"])
        measures["days_since_check_na"] = (measures["households"] == 0) \
            & (measures["people"] == 0)
        if options.community is not None:
            if options.community not in set(measures["community"]):
                raise InvalidInput(f"no grid of the plan lies in a community with code "
                                   f"{options.community!r}", field="community")
            measures = measures[measures["community"] == options.community]
        scored = score(measures, options.thresholds)
        rules = [{"measure": r.measure, "kind": r.kind, "label_zh": r.label[0],
                  "label_en": r.label[1], "rule": r.text()}
                 for r in options.thresholds.rules()]
        areas = _area_totals(coverage.coverage, grids)
        return Scorecard(plan.name, scored, roll_up(scored, "community", areas["community"]),
                         roll_up(scored, "subdistrict", areas["subdistrict"]), rules,
                         coverage.coverage.has_gaps_or_overlaps)


def publish_blocker(service: BlindSpotService, plan: str, force: bool,
                    reason: str | None) -> str | None:
    """Whether plan ``plan`` may be published: its coverage problem in words when it
    has gaps or overlaps and publishing is forced (with a reason); None when it has
    none. Refused (Conflict) when it has and is not forced; InvalidInput when forced
    without a reason."""
    from ..errors import Conflict
    from .blindspot_report import coverage_problem

    if force and not (reason and reason.strip()):
        raise InvalidInput("give the reason for publishing despite coverage problems",
                           field="reason")
    problem = coverage_problem(service.coverage(AuditOptions(plan=plan)).coverage)
    if problem and not force:
        raise Conflict(f"plan {plan!r} has {problem}; fix it (gridgis audit --plan) or "
                       "publish with force and a reason")
    return problem


def _off_norm(workers: pd.DataFrame, codes: pd.Series) -> np.ndarray:
    """Per grid, its active workers whose whole load is outside the norm."""
    off = workers[(workers["households_status"] != "ok") | (workers["people_status"] != "ok")]
    per_grid = off.explode("grids").groupby("grids")["worker_id"].nunique() \
        if len(off) else pd.Series(dtype=int)
    return codes.map(per_grid).fillna(0).astype(int).to_numpy()


def _area_totals(coverage, grids: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
    """Gap and overlap areas (not slivers) per community and subdistrict, each piece
    counted once, in the community its interior point lies in."""
    parent = grids.drop_duplicates("community").set_index("community")["subdistrict"]
    totals = {}
    for level in ("community", "subdistrict"):
        columns = {}
        for name, frame in (("gap_m2", coverage.gaps), ("overlap_m2", coverage.overlaps)):
            solid = frame[~frame["sliver"]]
            key = solid["community"] if level == "community" \
                else solid["community"].map(parent)
            columns[name] = solid["area_m2"].groupby(key.to_numpy()).sum()
        totals[level] = pd.DataFrame(columns).fillna(0.0)
    return totals


def _neglected(dead: gpd.GeoDataFrame, patrol: PatrolReport, codes: pd.Series
               ) -> np.ndarray:
    """Incidents in hot cells that no camera sees or (when there are patrol tracks) no
    patrol visited lately, per grid, each cell counted once."""
    cells = patrol.cells
    unseen = cells["cell"].isin(set(dead["cell"]) if len(dead) else set())
    unpatrolled = ~cells["patrolled_recently"].astype(bool) if patrol.has_data \
        else pd.Series(False, index=cells.index)
    neglected = cells[unseen | unpatrolled]
    per_grid = neglected.groupby("grid")["incidents"].sum() if len(neglected) else pd.Series()
    return codes.map(per_grid).fillna(0).astype(int).to_numpy()


# -- worker processes -------------------------------------------------------------------

_worker_service: BlindSpotService | None = None


def run_audit(name: str, options: AuditOptions, version: tuple[int, int]) -> Any:
    """Compute one audit in an analysis worker process (set up by
    :func:`~.hotspots.init_worker`)."""
    global _worker_service
    if _worker_service is None:
        from .hotspots import worker_service

        hot = worker_service()
        _worker_service = BlindSpotService(hot.engine, hot.srid, hot.cache, hot)
    return getattr(_worker_service, f"_compute_{name}")(version, options)
