"""The patrol-plan service: a plan is recorded (who, which shift, every parameter and the
seed) before it is solved, solved with no database connection held (in the caller's
thread for a command, in an analysis worker for the API), then stored with its routes
in one transaction. Plans are listed and re-opened from the database."""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import sqlalchemy as sa

from ..access.audit import Entry, record
from ..access.principal import Principal
from ..errors import InvalidInput, NotFound
from ..patrol.dosage import DEFAULT_RADIUS_M, dosage
from ..times import deployment_time_zone
from . import blindspot_inputs as inputs
from .cache import ResultCache
from .hotspot_inputs import Selection
from .hotspots import HotspotService
from .patrol_build import BuiltPlan, PlanInputs, build_plan
from .patrol_options import PatrolRequest
from .roads import cached_network, configured_speeds

log = logging.getLogger("gridgis.patrols")
STALE_SOLVE = pd.Timedelta(hours=1)  # a plan still "solving" after this never will
HOT_CLASS = 95  # Gi* targets: hot at 95 % or more
POST_MARGIN_M = 500.0  # a scoped plan's posts, targets and fixes may lie this far out
FIXES = sa.text("""
    SELECT unit, shift, recorded_at, geom FROM patrol_points
    WHERE recorded_at >= :start AND recorded_at < :end
      AND (shift IS NULL OR shift = ANY(:tags))
      AND (CAST(:area AS bytea) IS NULL
           OR ST_Intersects(geom, ST_GeomFromWKB(CAST(:area AS bytea), :srid)))
    ORDER BY unit, recorded_at""")
STREETS_NEAR = sa.text("""
    SELECT ST_AsBinary(ST_Transform(r.geom, 4326)) FROM roads r, patrol_routes p
    WHERE p.plan_id = :plan AND p.unit = :unit AND p.geom IS NOT NULL
      AND r.geom && ST_Expand(p.geom, :margin)
    LIMIT 5000""")
# Plans of a scoped user's own scope only; everyone else sees all.
LIST_PLANS = sa.text("""
    SELECT id, name, status, failure, planned_by, scope, shift_start, shift_end, mode,
           units, post, seed, created_at, finished_at
    FROM patrol_plans
    WHERE (NOT :scoped OR (scope <> '{}' AND scope <@ CAST(:scope AS text[])))
    ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset""")
COUNT_PLANS = sa.text("""
    SELECT count(*) FROM patrol_plans
    WHERE (NOT :scoped OR (scope <> '{}' AND scope <@ CAST(:scope AS text[])))""")
ONE_PLAN = sa.text("""
    SELECT id, name, status, failure, planned_by, scope, shift_start, shift_end, mode,
           units, post, seed, created_at, finished_at, parameters, result
    FROM patrol_plans
    WHERE id = :id
      AND (NOT :scoped OR (scope <> '{}' AND scope <@ CAST(:scope AS text[])))""")


class PatrolService:
    def __init__(self, engine: sa.Engine, srid: int, cache: ResultCache | None = None,
                 hotspots: HotspotService | None = None) -> None:
        self.engine = engine
        self.srid = srid
        self.cache = cache if cache is not None else ResultCache()
        self.hotspots = hotspots or HotspotService(engine, srid, self.cache)

    # -- planning ----------------------------------------------------------------------

    def timezone(self) -> str:
        """The district's local time zone (``times.deployment_time_zone``)."""
        with self.engine.connect() as conn:
            return deployment_time_zone(conn)

    def create(self, request: PatrolRequest, who: Principal | None,
               user_name: str | None = None) -> int:
        """Record the plan (status ``solving``) and its request; returns its id. What can
        be checked at once (the post, a scoped leader's post and targets) is checked
        before anything is recorded."""
        with self.engine.connect() as conn:
            area = _scope_region(conn, request.scope)
            _post(_in_scope(inputs.posts(conn, self.srid), area, request), request.post)
        with self.engine.begin() as conn:
            plan_id = conn.execute(sa.text("""
                INSERT INTO patrol_plans (name, planned_by, scope, shift_start, shift_end,
                                          mode, units, post, seed, parameters)
                VALUES (:name, :by, :scope, :start, :end, :mode, :units, :post, :seed,
                        CAST(:parameters AS jsonb))
                RETURNING id"""), {
                "name": request.name, "by": _actor(who, user_name),
                "scope": list(request.scope), "start": request.shift_start,
                "end": request.shift_end, "mode": request.mode, "units": request.units,
                "post": request.post or "", "seed": request.seed,
                "parameters": json.dumps(request.parameters(), ensure_ascii=False)}
            ).scalar_one()
            record(conn, who, Entry("create", "patrols", [plan_id],
                                    after={"name": request.name, "units": request.units,
                                           "mode": request.mode, "seed": request.seed}),
                   user_name=user_name)
        return int(plan_id)

    def solve(self, plan_id: int, request: PatrolRequest) -> str:
        """Solve and store the plan (in a worker when the cache has a process runner);
        returns its status. Raises :class:`~gridgis.gis.errors.Busy` when the solve
        outlasts the runner's wait: it goes on, and the plan's status says when it is
        done."""
        return self.cache.get_or_compute(
            ("patrol-plan", plan_id), lambda: self.solve_here(plan_id, request),
            job=functools.partial(run_patrol_plan, plan_id, request))

    def solve_here(self, plan_id: int, request: PatrolRequest) -> str:
        try:
            built = build_plan(request, self.inputs(request), self.srid)
        except (InvalidInput, ValueError) as error:
            self.fail(plan_id, str(error))
            return "failed"
        except Exception:
            log.exception("patrol plan %s failed", plan_id)
            self.fail(plan_id, "the planner failed unexpectedly; see the service log")
            raise
        self._store(plan_id, built)
        return "ready"

    def inputs(self, request: PatrolRequest) -> PlanInputs:
        """The network, the post and the candidate targets (no connection is kept)."""
        with self.engine.connect() as conn:
            version = inputs.registry_version(conn)
            posts = inputs.posts(conn, self.srid)
            area = _scope_region(conn, request.scope)
        graph = cached_network(self.cache, self.engine, self.srid, version)
        name, post = _post(_in_scope(posts, area, request), request.post)
        candidates = self._candidates(request, area)
        return PlanInputs(graph, name, post, candidates, configured_speeds())

    def _candidates(self, request: PatrolRequest, area: shapely.Geometry | None
                    ) -> gpd.GeoDataFrame:
        frames = []
        if request.source in ("forecast", "gi"):
            cells = self._hot_cells(request.source)
            if area is not None and not cells.empty:
                cells = cells[cells.intersects(area)]
            cells = cells.head(request.top)
            frames.append(gpd.GeoDataFrame({
                "name": [f"热点 {i} / hotspot {i}" for i in range(1, len(cells) + 1)],
                "risk": cells["risk"].to_numpy(), "cell": cells["cell"].astype(str).to_numpy(),
                "dwell_min": np.nan, "window": None, "mandatory": False},
                geometry=cells.geometry.centroid.to_numpy(), crs=self.srid))
        if request.targets:
            to_metric = pyproj.Transformer.from_crs(4326, self.srid, always_xy=True)
            x, y = to_metric.transform([t.lon for t in request.targets],
                                       [t.lat for t in request.targets])
            frames.append(gpd.GeoDataFrame({
                "name": [t.name for t in request.targets],
                "risk": [t.risk for t in request.targets], "cell": None,
                "dwell_min": [np.nan if t.dwell_min is None else t.dwell_min
                              for t in request.targets],
                "window": pd.Series([t.window for t in request.targets], dtype=object),
                "mandatory": [t.mandatory for t in request.targets]},
                geometry=shapely.points(np.column_stack([x, y])), crs=self.srid))
        if not frames:
            return gpd.GeoDataFrame({"name": [], "risk": [], "cell": [], "dwell_min": [],
                                     "window": [], "mandatory": []}, geometry=[],
                                    crs=self.srid)
        both = pd.concat(frames, ignore_index=True)
        both["cell"] = both["cell"].astype(object).where(both["cell"].notna(), None)
        return gpd.GeoDataFrame(both, geometry="geometry", crs=self.srid)

    def _hot_cells(self, source: str) -> gpd.GeoDataFrame:
        """The lattice cells by risk: the forecast's score, or Gi* z of the hot cells of
        the last year."""
        try:
            if source == "forecast":
                cells = self.hotspots.forecast(Selection(), horizon_days=7)
                cells = cells[cells["score"] > 0].assign(risk=lambda f: f["score"])
            else:
                start, end = self.hotspots.period(None, None, pd.DateOffset(months=12))
                cells = self.hotspots.gi(Selection(start=start.to_pydatetime(),
                                                   end=end.to_pydatetime()))
                cells = cells[cells["class"] >= HOT_CLASS].assign(risk=lambda f: f["z"])
        except InvalidInput:
            return gpd.GeoDataFrame({"cell": [], "risk": []}, geometry=[], crs=self.srid)
        if "cell" not in cells:
            cells = cells.assign(cell=cells.index.astype(str))
        return cells.sort_values("risk", ascending=False, kind="stable")

    # -- storing -----------------------------------------------------------------------

    def _store(self, plan_id: int, built: BuiltPlan) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("""
                UPDATE patrol_plans SET status = 'ready', result = CAST(:result AS jsonb),
                       post = :post, failure = NULL, finished_at = now() WHERE id = :id"""),
                {"id": plan_id, "result": json.dumps(built.result, ensure_ascii=False),
                 "post": built.result["post"]["name"]})
            conn.execute(sa.text("DELETE FROM patrol_routes WHERE plan_id = :id"),
                         {"id": plan_id})
            for line in built.lines:
                conn.execute(sa.text("""
                    INSERT INTO patrol_routes (plan_id, unit, name, minutes, metres, risk,
                                               geom)
                    VALUES (:plan, :unit, :name, :minutes, :metres, :risk,
                            ST_GeomFromWKB(:wkb, :srid))"""), {
                    "plan": plan_id, "unit": line.unit, "name": line.name,
                    "minutes": line.minutes, "metres": line.metres, "risk": line.risk,
                    "wkb": None if line.line is None else shapely.to_wkb(line.line),
                    "srid": self.srid})

    def fail(self, plan_id: int, reason: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE patrol_plans SET status = 'failed', failure = :why, "
                                 "finished_at = now() WHERE id = :id"),
                         {"id": plan_id, "why": reason[:500]})

    # -- reading -----------------------------------------------------------------------

    def plans(self, who: Principal | None, limit: int = 50, offset: int = 0
              ) -> tuple[list[dict[str, Any]], int]:
        """The plans ``who`` may see, newest first, and how many there are."""
        params = _visible(who)
        with self.engine.connect() as conn:
            rows = conn.execute(LIST_PLANS, {**params, "limit": limit, "offset": offset}
                                ).mappings().all()
            total = conn.execute(COUNT_PLANS, params).scalar_one()
        return [_plan_row(r) for r in rows], int(total)

    def plan(self, plan_id: int, who: Principal | None) -> dict[str, Any]:
        """One plan with its request and result (NotFound also for a plan outside
        ``who``'s scope)."""
        with self.engine.connect() as conn:
            row = conn.execute(ONE_PLAN, {**_visible(who), "id": plan_id}).mappings().first()
        if row is None:
            raise NotFound(f"there is no patrol plan {plan_id}")
        out = _plan_row(row)
        out["parameters"] = row["parameters"]
        out["result"] = row["result"]
        return out

    def risk_cells(self, plan: dict[str, Any], limit: int = 300) -> gpd.GeoDataFrame:
        """The riskiest cells of the source the plan was made from (the forecast, or
        the hot spots), in WGS84 with ``risk``: what the map draws beneath the routes."""
        source = (plan.get("parameters") or {}).get("source", "forecast")
        cells = self._hot_cells("gi" if source == "gi" else "forecast")
        area = self._plan_area(plan)
        if area is not None and not cells.empty:
            cells = cells[cells.intersects(area)]
        cells = cells.head(limit)
        return cells[["cell", "risk", cells.geometry.name]].to_crs(4326)

    def _plan_area(self, plan: dict[str, Any]) -> shapely.Geometry | None:
        """Where a scoped plan may look (None: the district)."""
        if not plan["scope"]:
            return None
        with self.engine.connect() as conn:
            area = _scope_region(conn, tuple(plan["scope"]))
        return area if area is not None else shapely.Polygon()

    def dosage(self, plan_id: int, who: Principal | None,
               radius_m: float = DEFAULT_RADIUS_M) -> dict[str, Any]:
        """Where the units really were against the plan: minutes present at each target,
        the targets planned but missed, and the fixes the plan's shift has."""
        if not 5 <= radius_m <= 1000:
            raise InvalidInput("radius must be 5 to 1000 m", field="radius")
        plan = self.plan(plan_id, who)
        if plan["status"] != "ready":
            raise InvalidInput(f"plan {plan_id} is {plan['status']}: it has no targets",
                               field="plan_id")
        return self.plan_dosage(plan, self.fixes(plan), radius_m)

    def plan_dosage(self, plan: dict[str, Any], fixes: gpd.GeoDataFrame,
                    radius_m: float = DEFAULT_RADIUS_M) -> dict[str, Any]:
        """:meth:`dosage` of a ready plan and its fixes already read (:meth:`fixes`)."""
        result = plan["result"]
        planned = np.zeros(len(result["targets"]))
        for unit in result["units"]:
            for stop in unit["stops"]:
                planned[stop["target"]] += stop["depart_min"] - stop["arrive_min"]
        to_metric = pyproj.Transformer.from_crs(4326, self.srid, always_xy=True)
        x, y = to_metric.transform([t["lon"] for t in result["targets"]],
                                   [t["lat"] for t in result["targets"]])
        targets = gpd.GeoDataFrame(
            {"name": [t["name"] for t in result["targets"]], "planned_min": planned},
            geometry=shapely.points(np.column_stack([x, y])), crs=self.srid)
        table = dosage(targets, fixes, radius_m)
        return {"plan": plan["id"], "radius_m": radius_m, "fixes": len(fixes),
                "units_seen": sorted(fixes["unit"].astype(str).unique().tolist()),
                "targets_planned": int((planned > 0).sum()),
                "targets_visited": int((table["visited"] & (planned > 0)).sum()),
                "planned_min": round(float(planned.sum()), 1),
                "present_min": round(float(table["present_min"].sum()), 1),
                "targets": table.replace({np.nan: None}).to_dict("records")}

    def fixes(self, plan: dict[str, Any]) -> gpd.GeoDataFrame:
        """The GPS fixes of the plan's shift: those that name the plan in their shift
        column (``#id`` or the id) and those that name no shift; for a scoped plan only
        those in its scope (plus a margin: a patrol walks the boundary streets)."""
        area = self._plan_area(plan)
        with self.engine.connect() as conn:
            return gpd.read_postgis(FIXES, conn, geom_col="geom", crs=self.srid, params={
                "start": plan["shift_start"], "end": plan["shift_end"],
                "tags": [str(plan["id"]), f"#{plan['id']}"],
                "area": None if area is None
                else shapely.to_wkb(area.buffer(POST_MARGIN_M)), "srid": self.srid})

    def streets_near(self, plan_id: int, unit: int, margin_m: float = 150.0
                     ) -> list[list[tuple[float, float]]]:
        """The streets around a unit's route (lon/lat lines): the route sheet's base."""
        with self.engine.connect() as conn:
            rows = conn.execute(STREETS_NEAR, {"plan": plan_id, "unit": unit,
                                               "margin": margin_m}).scalars().all()
        return [[(float(x), float(y)) for x, y in shapely.get_coordinates(
            shapely.from_wkb(bytes(wkb)))] for wkb in rows]

    def routes(self, plan_id: int) -> gpd.GeoDataFrame:
        """The units' routes in WGS84 (unit, name, minutes, metres, risk)."""
        with self.engine.connect() as conn:
            frame = gpd.read_postgis(sa.text(
                "SELECT unit, name, minutes, metres, risk, ST_Transform(geom, 4326) AS geom "
                "FROM patrol_routes WHERE plan_id = :id ORDER BY unit"), conn,
                geom_col="geom", params={"id": plan_id}, crs=4326)
        return frame


def _actor(who: Principal | None, user_name: str | None) -> str | None:
    return who.name if who is not None and who.signed_in else user_name


def _visible(who: Principal | None) -> dict[str, Any]:
    scoped = who is not None and who.grid_ids is not None
    return {"scoped": scoped, "scope": list(who.scope) if scoped and who else []}


def _plan_row(row) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "name", "status", "failure", "planned_by", "mode",
                               "units", "post", "seed")}
    out["scope"] = list(row["scope"] or [])
    for key in ("shift_start", "shift_end", "created_at", "finished_at"):
        value = row[key]
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    if out["status"] == "solving" and \
            pd.Timestamp.now("UTC") - pd.Timestamp(row["created_at"]) > STALE_SOLVE:
        out["status"], out["failure"] = "failed", "the solve never finished (the " \
            "service stopped while it ran): plan again"
    return out


def _in_scope(posts: gpd.GeoDataFrame, area: shapely.Geometry | None,
              request: PatrolRequest) -> gpd.GeoDataFrame:
    """A scoped leader's posts (in or near the scope), after checking that their
    hand-picked targets lie there too."""
    if area is None:
        return posts
    near = area.buffer(POST_MARGIN_M)
    if request.targets:
        to_metric = pyproj.Transformer.from_crs(4326, posts.crs, always_xy=True)
        for target in request.targets:
            if not near.intersects(shapely.Point(to_metric.transform(target.lon, target.lat))):
                raise InvalidInput(f"target {target.name!r} lies outside your scope",
                                   field="targets")
    posts = posts[posts.intersects(near)]
    if posts.empty:
        raise InvalidInput("there is no police post or patrol base in or near your scope "
                           "to start from", field="post")
    return posts


def _post(posts: gpd.GeoDataFrame, name: str | None) -> tuple[str, tuple[float, float]]:
    if posts.empty:
        raise InvalidInput("there is no police post or patrol base to start from: import "
                           "places with category police_post or patrol_base", field="post")
    if name is None:
        row = posts.iloc[0]
    else:
        match = posts[posts["name"] == name]
        if match.empty:
            known = ", ".join(str(n) for n in posts["name"].head(10))
            raise InvalidInput(f"there is no post named {name!r}; posts: {known}",
                               field="post")
        row = match.iloc[0]
    point = row[posts.geometry.name]
    return str(row["name"]), (float(point.x), float(point.y))


def _scope_region(conn: sa.Connection, scope: tuple[str, ...]) -> shapely.Geometry | None:
    if not scope:
        return None
    wkb = conn.execute(sa.text("""
        SELECT ST_AsBinary(ST_Union(geom)) FROM (
            SELECT geom FROM areas WHERE code = ANY(:codes)
            UNION ALL
            SELECT g.geom FROM grids g JOIN grid_plans p ON p.id = g.plan_id
            WHERE p.state = 'published' AND g.code = ANY(:codes)) s"""),
        {"codes": list(scope)}).scalar()
    return None if wkb is None else shapely.from_wkb(bytes(wkb))


# -- worker processes -------------------------------------------------------------------

_worker_service: PatrolService | None = None


def run_patrol_plan(plan_id: int, request: PatrolRequest) -> str:
    """Solve one plan in an analysis worker process (set up by
    :func:`~.hotspots.init_worker`)."""
    global _worker_service
    if _worker_service is None:
        from .hotspots import worker_primary, worker_service

        hot = worker_service()
        _worker_service = PatrolService(worker_primary(), hot.srid, hot.cache, hot)
    return _worker_service.solve_here(plan_id, request)
