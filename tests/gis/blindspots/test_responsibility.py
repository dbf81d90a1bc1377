"""Responsibility per grid and per worker, counted by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from gridgis.gis.blindspots.responsibility import Norms, grid_responsibility, worker_loads

TODAY = pd.Timestamp("2026-11-01T00:00:00Z")


def grids():
    return pd.DataFrame({
        "code": ["G1", "G2", "G3", "G4"], "households": [600, 400, 200, 0],
        "people": [1500, 900, 450, 0], "special": [3, 2, 7, 0],
        "last_check": [TODAY - pd.Timedelta(days=10), TODAY - pd.Timedelta(days=200), pd.NaT,
                       pd.NaT],
        "checked_households": [300, 0, 0, 0]})


def assignments():
    return pd.DataFrame({"worker_id": [1, 2, 3, 4, 5], "grid": ["G1", "G1", "G2", "G2", "G3"],
                         "active": [True, True, True, True, False]})


def test_grids_without_an_active_worker_and_their_special_residents():
    result = grid_responsibility(grids(), assignments(), TODAY).set_index("code")
    assert result.loc["G3", "unassigned"] and result.loc["G3", "workers"] == 0
    assert result.loc["G3", "unwatched_special"] == 7
    assert result.loc["G1", "unwatched_special"] == 0
    assert result.loc["G1", "households_per_worker"] == 300
    assert result.loc["G2", "households_per_worker"] == 200


def test_stale_base_data():
    result = grid_responsibility(grids(), assignments(), TODAY, Norms(stale_days=90)) \
        .set_index("code")
    assert list(result["stale"]) == [False, True, True, False]  # G4 has nobody to check
    assert result.loc["G1", "days_since_check"] == 10
    strict = grid_responsibility(grids(), assignments(), TODAY,
                                 Norms(stale_days=90, min_checked_share=0.6))
    assert strict.set_index("code").loc["G1", "stale"]  # only half checked


def test_worker_loads_split_shared_grids_and_compare_with_the_norm():
    g = grids()
    loads = worker_loads(g, pd.DataFrame({"worker_id": [1, 1, 2], "grid": ["G1", "G3", "G1"],
                                          "active": True}), Norms(300, 500)).set_index(
        "worker_id")
    assert loads.loc[1, "households"] == pytest.approx(300 + 200)
    assert loads.loc[2, "households"] == pytest.approx(300)
    assert loads.loc[1, "grids"] == ["G1", "G3"]
    assert list(worker_loads(g, assignments(), Norms(250, 350))["households_status"]) == \
        ["ok", "ok", "under", "under"]


def test_norms_are_checked():
    with pytest.raises(ValueError):
        Norms(500, 300)
