"""Lattice Gi* for every city of a province at once: the nightly batch that one machine
cannot run for hundreds of cities. Each city is one task, read where it runs (from the
city's own gridgis database: ``gis.services.province.DatabaseCity``) and computed
there, on a Dask cluster of as many worker processes, on as many machines, as the
province has; the results are the ones a single process gets, city by city, and come
back as one table.

Cities are independent units of work of very different sizes, so they are scheduled as
tasks (Dask futures) rather than as partitions of one frame: a city is never split, its
lattice and weights are built once, on one worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .defaults import DEFAULT_CELL_M
from .gistar import gi_star
from .lattice import count_points, lattice
from .weights import spatial_weights


@dataclass(frozen=True)
class City:
    """One city's study area and incidents, in a metric CRS."""

    name: str
    boundary: shapely.Geometry
    points: np.ndarray  # (n, 2) incident coordinates
    crs: str


class CitySource(Protocol):
    """What a task needs to read its city where it runs (it is sent to the worker)."""

    name: str

    def load(self) -> City: ...


def city_gi(city: City, cell_m: float = DEFAULT_CELL_M, permutations: int = 0,
            seed: int = 0) -> pd.DataFrame:
    """Gi* of one city on its hexagon lattice: a row per cell with the cell's centre,
    incidents, z, p and class (the lattice, weights and statistics of ``/hotspots/gi``,
    over the city's boundary as given)."""
    cells = lattice(gpd.GeoSeries([city.boundary], crs=city.crs), cell_m)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(city.points[:, 0],
                                                          city.points[:, 1]), crs=city.crs)
    observed = count_points(cells, points)
    result = gi_star(observed, spatial_weights(cells), permutations=permutations,
                     seed=seed).frame()
    centres = cells.geometry.centroid
    return pd.DataFrame({"city": city.name, "cell": cells["cell"].to_numpy(),
                         "x": centres.x.to_numpy(), "y": centres.y.to_numpy(),
                         "incidents": observed, **{c: result[c].to_numpy()
                                                   for c in result.columns}})


def _source_gi(source: CitySource, cell_m: float, permutations: int, seed: int
               ) -> pd.DataFrame:
    return city_gi(source.load(), cell_m, permutations, seed)


def province_gi(sources: Sequence[CitySource], cell_m: float = DEFAULT_CELL_M,
                permutations: int = 0, seed: int = 0, client=None) -> pd.DataFrame:
    """Gi* of every city, in the order given: each city a task on ``client``'s Dask
    cluster (a ``distributed.Client``), or, without one, here, one after the other."""
    if client is None:
        frames = [_source_gi(s, cell_m, permutations, seed) for s in sources]
    else:
        futures = client.map(_source_gi, list(sources), cell_m=cell_m,
                             permutations=permutations, seed=seed, pure=False)
        frames = client.gather(futures)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
