"""Spatial weights between units of analysis, for Gi* and the emerging-hotspot cube."""

from __future__ import annotations

import warnings
from typing import Literal

import geopandas as gpd
import numpy as np

from .defaults import DEFAULT_BAND_M

WeightsKind = Literal["contiguity", "distance"]


def spatial_weights(units: gpd.GeoDataFrame, kind: WeightsKind = "contiguity",
                    band_m: float = DEFAULT_BAND_M):
    """Queen contiguity (shared edge or corner), or with ``kind="distance"`` every unit
    whose centroid lies within ``band_m`` metres; islands are joined to their nearest
    unit either way, so that no unit is left without neighbours."""
    from libpysal.weights import KNN, DistanceBand, Queen
    from libpysal.weights.util import attach_islands

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "distance":
            centres = np.column_stack([units.centroid.x, units.centroid.y])
            w = DistanceBand(centres, threshold=band_m, binary=True, silence_warnings=True)
        else:
            w = Queen.from_dataframe(units, use_index=False, silence_warnings=True)
        if w.islands and len(units) > 1:
            w = attach_islands(w, KNN.from_dataframe(units, k=1, use_index=False))
    return w
