"""Which new grid inherits an old grid's workers: hand-made overlaps."""

from __future__ import annotations

import pandas as pd

from gridgis.gis.planning.succession import successions


def test_a_grid_succeeds_another_only_when_each_holds_the_majority_of_the_other():
    pairs = pd.DataFrame([
        (1, 10, 50, 1e4),                    # unchanged
        (2, 20, 60, 6e3), (3, 20, 40, 4e3),  # 20 split: the larger part succeeds it
        (4, 30, 70, 7e3), (4, 31, 30, 3e3),  # merged: 30 held most of 4's households
        (5, 40, 50, 5e3), (5, 41, 50, 5e3),  # merged half and half: a decision
        (6, 50, 0, 8e3), (6, 51, 0, 2e3),    # no households: by area
        (7, 60, 0, 1e3), (8, 60, 2, 1e2),    # the households decide, not the area
    ], columns=["new_id", "old_id", "households", "shared_m2"])
    got = successions(pairs).set_index("new_id")["old_id"]
    expected = {1: 10, 2: 20, 3: None, 4: 30, 5: None, 6: 50, 7: None, 8: 60}
    assert {k: (None if pd.isna(v) else int(v)) for k, v in got.items()} == expected


def test_no_overlaps_no_successions():
    assert successions(pd.DataFrame(
        columns=["new_id", "old_id", "households", "shared_m2"])).empty
