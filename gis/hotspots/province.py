"""The nightly batch analyses of every city of a province at once, which one machine
cannot run for hundreds of cities: lattice Gi*, emerging hot spots and forecast
backtests. Each city is one task, read where it runs (from the city's own gridgis
database: ``gis.services.province.DatabaseCity``) and computed there, on a Dask cluster
of as many worker processes, on as many machines, as the province has; the results are
the ones a single process gets, city by city, and come back as one table.

Cities are independent units of work of very different sizes, so they are scheduled as
tasks (Dask futures) rather than as partitions of one frame: a city is never split, its
lattice and weights are built once, on one worker."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InvalidInput
from .cube import BIN_FREQUENCIES, binned_counts, time_bins
from .defaults import DEFAULT_CELL_M
from .emerging import emerging_hotspots
from .forecast import EmptyStudyArea, Incidents, backtest
from .gistar import gi_star
from .lattice import count_points, lattice
from .weights import spatial_weights


@dataclass(frozen=True)
class City:
    """One city's study area and incidents, in a metric CRS; ``when`` is each
    incident's time (made UTC), which the analyses over time need, and ``time_zone``
    the city's, whose calendar the time bins follow."""

    name: str
    boundary: shapely.Geometry
    points: np.ndarray  # (n, 2) incident coordinates
    crs: str
    when: pd.DatetimeIndex | None = None
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.when is not None:
            object.__setattr__(self, "when", pd.DatetimeIndex(pd.to_datetime(
                self.when, utc=True)))
            if len(self.when) != len(self.points):
                raise ValueError(f"{self.name}: {len(self.when)} times for "
                                 f"{len(self.points)} incidents")

    def cells(self, cell_m: float) -> gpd.GeoDataFrame:
        return lattice(gpd.GeoSeries([self.boundary], crs=self.crs), cell_m)

    def incidents(self) -> gpd.GeoDataFrame:
        frame = {} if self.when is None else {"occurred_at": self.when}
        return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(
            self.points[:, 0], self.points[:, 1]), crs=self.crs)

    def times(self) -> pd.DatetimeIndex:
        if self.when is None:
            raise InvalidInput(f"{self.name}: the incidents' times were not read",
                               field="when")
        return self.when

    def local(self, value: pd.Timestamp | str) -> pd.Timestamp:
        """``value`` in the city's time zone (a value without one is read in it)."""
        stamp = pd.Timestamp(value)
        return stamp.tz_localize(self.time_zone) if stamp.tzinfo is None \
            else stamp.tz_convert(self.time_zone)


class CitySource(Protocol):
    """What a task needs to read its city where it runs (it is sent to the worker)."""

    name: str

    def load(self) -> City: ...


def _per_cell(city: City, cells: gpd.GeoDataFrame, result: pd.DataFrame) -> pd.DataFrame:
    centres = cells.geometry.centroid
    return pd.DataFrame({"city": city.name, "cell": cells["cell"].to_numpy(),
                         "x": centres.x.to_numpy(), "y": centres.y.to_numpy(),
                         **{c: result[c].to_numpy() for c in result.columns}})


def city_gi(city: City, cell_m: float = DEFAULT_CELL_M, permutations: int = 0,
            seed: int = 0) -> pd.DataFrame:
    """Gi* of one city on its hexagon lattice: a row per cell with the cell's centre,
    incidents, z, p and class (the lattice, weights and statistics of ``/hotspots/gi``,
    over the city's boundary as given)."""
    cells = city.cells(cell_m)
    observed = count_points(cells, city.incidents())
    result = gi_star(observed, spatial_weights(cells), permutations=permutations,
                     seed=seed).frame()
    return _per_cell(city, cells, pd.DataFrame({"incidents": observed}).join(result))


def city_emerging(city: City, start: pd.Timestamp | str, end: pd.Timestamp | str,
                  bin: str = "month", cell_m: float = DEFAULT_CELL_M) -> pd.DataFrame:
    """The emerging-hot-spot pattern of each cell of one city's lattice over bins of
    ``bin`` (week, month, quarter) from ``start`` to ``end``, on the calendar of the
    city's time zone, as ``/hotspots/emerging`` computes it."""
    if bin not in BIN_FREQUENCIES:
        raise InvalidInput(f"bin must be one of {', '.join(BIN_FREQUENCIES)}, not {bin!r}",
                           field="bin")
    start, end = city.local(start), city.local(end)
    if not start < end:
        raise InvalidInput("end must be after start", field="end")
    city.times()  # a city read without them is refused here
    cells = city.cells(cell_m)
    edges = time_bins(start, end, BIN_FREQUENCIES[bin])
    result = emerging_hotspots(binned_counts(cells, city.incidents(), edges),
                               spatial_weights(cells))
    return _per_cell(city, cells, result)


def city_backtest(city: City, train_start: pd.Timestamp | str,
                  train_end: pd.Timestamp | str, test_end: pd.Timestamp | str,
                  cell_m: float = DEFAULT_CELL_M, active_only: bool = False
                  ) -> pd.DataFrame:
    """Every forecast method's hit rate, PAI and PEI on one city's lattice, trained on
    [train_start, train_end) and scored on [train_end, test_end) (dates without a time
    zone in the city's), as ``gridgis backtest`` computes them (``active_only``: the
    cells with a training incident)."""
    train_start, train_end, test_end = map(city.local, (train_start, train_end, test_end))
    if not train_start < train_end < test_end:
        raise InvalidInput("the dates must be in order: train start < train end < test end",
                           field="train_end")
    incidents = Incidents(city.points, pd.Series(city.times()).reset_index(drop=True))
    try:
        table = backtest(city.cells(cell_m), incidents, train_start, train_end, test_end,
                         active_only=active_only)
    except EmptyStudyArea as exc:
        raise InvalidInput(f"{city.name}: {exc}", field="study_area") from None
    return table.assign(city=city.name)[["city", *table.columns]]


def _on_city(source: CitySource, task: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return task(source.load())


def for_each_city(task: Callable[..., pd.DataFrame], sources: Sequence[CitySource],
                  client=None, failures: dict[str, str] | None = None, **kwargs
                  ) -> pd.DataFrame:
    """``task`` (``city_gi``, ``city_emerging``, ``city_backtest``, with ``kwargs``) of
    every city, in the order given, as one table: each city a task on ``client``'s Dask
    cluster (a ``distributed.Client``), or, without one, here, one after the other.

    A city that fails (no district, no times, an empty study area…) stops the batch with
    its error, unless ``failures`` is given: then it receives each failed city's name
    and error, and the table holds the other cities."""
    job = functools.partial(task, **kwargs)
    if client is None:
        outcomes: list[pd.DataFrame | Exception] = [
            _on_city(s, job) if failures is None
            else _outcome(functools.partial(_on_city, s, job)) for s in sources]
    else:
        futures = client.map(_on_city, list(sources), task=job, pure=False)
        outcomes = [_outcome(future.result) for future in futures]
    frames = []
    for source, outcome in zip(sources, outcomes, strict=True):
        if isinstance(outcome, Exception):
            if failures is None:
                raise outcome
            failures[source.name] = f"{type(outcome).__name__}: {outcome}"
        else:
            frames.append(outcome)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _outcome(compute: Callable[[], pd.DataFrame]) -> pd.DataFrame | Exception:
    try:
        return compute()
    except Exception as exc:  # kept per city: raised or reported by the caller
        return exc


def province_gi(sources: Sequence[CitySource], cell_m: float = DEFAULT_CELL_M,
                permutations: int = 0, seed: int = 0, client=None) -> pd.DataFrame:
    """Gi* of every city (``city_gi``), on ``client``'s cluster when given."""
    return for_each_city(city_gi, sources, client, cell_m=cell_m,
                         permutations=permutations, seed=seed)
