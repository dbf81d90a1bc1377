"""Building the generated city (``gridgis demo --city``) in an empty database: the city
from ``city``, residents and incidents from the demo's models, everything but the roads
loaded through ``gridgis import`` like the demo."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..db import Database
from ..errors import InvalidInput
from . import incidents as incident_model
from . import population
from .accounts import create_accounts
from .build import DemoSummary, prepare_schema
from .city import background_scale, generate_city, incident_params
from .entities import incident_anchors
from .load import Loader, insert_roads, load_layers, record_demo
from .model import load_city_model, load_model

CITY_PLAN = "生成城市网格方案 City plan"
MAX_SCALE = 2.0  # memory grows with it: about 3 GB at 1
ATTRIBUTION = "synthetic: the gridgis generated city (data/city_model.toml)"


@dataclass
class CityOptions:
    scale: float = 1.0  # 1: 10,000 grids, 3,000,000 people, 2,000,000 incidents
    seed: int | None = None  # default: the model file's


def build_city(db: Database, options: CityOptions | None = None,
               say: Callable[[str], None] = lambda _: None,
               progress: Callable[[str, int, int | None], None] | None = None,
               actor: str = "gridgis demo --city") -> DemoSummary:
    """Create the generated city in ``db`` (which must hold no data) and an account per
    role (``summary.accounts`` holds their passwords: show them once). ``progress(kind,
    rows, total)`` follows each import."""
    started = time.perf_counter()
    options = options or CityOptions()
    if not 0 < options.scale <= MAX_SCALE:
        raise InvalidInput(f"the city's scale must be above 0 and at most {MAX_SCALE:g}",
                           field="--scale")
    model = load_city_model()
    demo, places_map = load_model()
    seed = options.seed if options.seed is not None else int(model["seed"])
    crs = int(model["crs"])
    prepare_schema(db, crs, "the generated city")
    rng = np.random.default_rng(seed)
    summary = DemoSummary()
    clock = _Clock(summary.steps)
    say("laying out the streets, grids, buildings and places")
    city = generate_city(model, places_map, options.scale, rng)
    end = pd.Timestamp(model["counts"]["end"], tz=model["time_zone"])
    clock("generating the city")
    say("placing synthetic residents")
    residents = population.residents(city.homes, {**demo["residents"], **model["residents"]},
                                     end.tz_localize(None), rng)
    clock("generating residents")
    say("simulating incidents")
    params = incident_params(model, demo["incidents"])
    anchors = incident_anchors(city.places, city.homes, city.roads, places_map)
    events = incident_model.simulate(
        anchors, city.district.boundary, params, seed,
        scale=background_scale(anchors, params, model["counts"]["incidents"] * options.scale))
    clock("simulating incidents")
    field_model = {**demo, "incidents": params}
    with tempfile.TemporaryDirectory(prefix="gridgis-city-") as tmp:
        say("loading through gridgis import")
        load = Loader(db, Path(tmp), crs, progress)
        load_layers(load, city.district, city.roads, city.buildings.drop(columns="grid_code"),
                    city.homes, residents, city.places, city.cameras, events,
                    {**field_model, "district_name": model["district_name"],
                     "district_code": model["district_code"]},
                    CITY_PLAN, rng, end.tz_convert("UTC"))
        summary.counts = load.counts
        summary.steps["writing the files"] = sum(load.writing.values())
        summary.steps.update({f"importing {k}": v for k, v in load.seconds.items()})
        clock.restart()
    with db.engine.begin() as conn:
        say("adding the streets")
        insert_roads(conn, city.roads, crs)
        record_demo(conn, ATTRIBUTION, f"city seed={seed} scale={options.scale:g}",
                    model["time_zone"])
        say("creating an account per role")
        summary.accounts = create_accounts(conn, actor)
    clock("streets and accounts")
    summary.counts["roads"] = len(city.roads)
    summary.seconds = time.perf_counter() - started
    return summary


class _Clock:
    """Records the seconds since the last call (or restart) under each step's name."""

    def __init__(self, steps: dict[str, float]) -> None:
        self.steps = steps
        self.restart()

    def restart(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.steps[step] = now - self.last
        self.last = now
