"""A plan's figures and the diff of two plans for the service: computed in the analysis
workers and cached per data version. A city's diff reads millions of rows for tens of
seconds; this way no request thread holds a database connection while it runs, light
requests are not starved, and an unchanged plan is not computed twice.

Scope is applied by the caller to the cached, unscoped result (``plan_editing``)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..replica import Connects, primary_of
from .blindspot_inputs import versions
from .cache import ResultCache
from .plan_diff import PlanDiff, plan_diff
from .plan_editing import grid_features
from .plan_figures import balance, figures_until, grid_workers


@dataclass(frozen=True)
class PlanFigures:
    features: list[dict[str, Any]]  # every grid of the plan, WGS84, figures as properties
    workers: pd.DataFrame  # grid_id, worker_id (those it has or would have on publication)


class PlanReports:
    def __init__(self, engine: Connects, cache: ResultCache | None = None) -> None:
        self.engine = engine
        self.cache = cache if cache is not None else ResultCache()

    def figures(self, plan_id: int) -> PlanFigures:
        """Incidents counted for the 365 days before the end of today (UTC)."""
        return self._report("figures", (plan_id, figures_until()))

    def diff(self, a: int, b: int) -> PlanDiff:
        return self._report("diff", (a, b))

    def _report(self, name: str, args: tuple) -> Any:
        version = versions(primary_of(self.engine))
        return self.cache.get_or_compute(
            ("plan-report", name, args, version),
            lambda: compute_report(self.engine, name, args),
            job=functools.partial(run_report, name, args))


def compute_report(engine: Connects, name: str, args: tuple) -> Any:
    # one snapshot, read only: the figures and the workers agree with each other
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        if name == "diff":
            return plan_diff(conn, *args)
        plan_id, until = args
        return PlanFigures(grid_features(conn, plan_id, until=until),
                           grid_workers(conn, plan_id))


def run_report(name: str, args: tuple) -> Any:
    """Compute one report in an analysis worker process (set up by
    :func:`~.hotspots.init_worker`)."""
    from .hotspots import worker_service

    return compute_report(worker_service().engine, name, args)


def scoped_figures(found: PlanFigures, codes: set[str] | None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The grids a user sees (all, or those with ``codes``: see ``scope_codes``), as
    copies the caller may change, and the balance of those grids."""
    features = [{**f, "properties": dict(f["properties"])} for f in found.features
                if codes is None or f["properties"]["code"] in codes]
    seen = pd.DataFrame([f["properties"] for f in features],
                        columns=["id", "code", "parts", "households"])
    return features, asdict(balance(seen, found.workers))
