"""Reach (人防): how long it takes to get from the nearest police post or patrol base to
every street, on foot and by car, over the road network.

- **The network** is :mod:`gridgis.gis.network.graph`: roads noded at junctions, travel
  times per mode (one-way streets bind cars), posts joined to their nearest street.
- **A point on a street** is reached through either end of its edge on foot, by car
  through its start only when the street is one-way, plus the way along the edge; an
  edge's time (on the map) is that of its middle. Streets no origin reaches are
  infinitely far. A stretch of street is a **blind spot** of a mode when its time
  exceeds that mode's threshold (default 5 minutes by car, 10 on foot); per grid, the
  share of street length beyond it is measured at points every few metres.

One search from all posts at once (scipy's Dijkstra from a virtual node).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..network.graph import (  # noqa: F401 - the reach audit's vocabulary
    CAR_KMH,
    NOT_FOR_CARS,
    NOT_ON_FOOT,
    Mode,
    RoadGraph,
    Speeds,
    node_roads,
)


@dataclass(frozen=True)
class Thresholds:
    foot_min: float = 10.0
    car_min: float = 5.0

    def __post_init__(self) -> None:
        if not (0 < self.foot_min <= 240 and 0 < self.car_min <= 240):
            raise ValueError("reach thresholds must be between 0 and 240 minutes")

    def of(self, mode: Mode) -> float:
        return self.foot_min if mode == "foot" else self.car_min
