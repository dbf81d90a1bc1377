"""Traffic lights from rules, the order of the scorecard, and the roll-ups."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridgis.gis.blindspots.scorecard import Rule, Thresholds, roll_up, score


def test_a_rule_sets_green_amber_red_and_none():
    rule = Rule("x", "reach", ("x", "x"), amber_above=0, red_above=0.1)
    assert list(rule.status(pd.Series([0, 0.05, 0.2, np.nan]))) == \
        ["green", "amber", "red", "none"]
    two_sided = Rule("h", "responsibility", ("h", "h"), amber_above=500, amber_below=300)
    assert list(two_sided.status(pd.Series([250, 400, 600]))) == ["amber", "green", "amber"]
    assert rule.text() == "red > 0.1; amber > 0"


def test_the_worst_measure_sets_the_status_and_the_worst_grids_come_first():
    measures = pd.DataFrame({
        "code": ["A", "B", "C", "D"], "community": ["c1", "c1", "c2", "c2"],
        "subdistrict": ["s", "s", "s", "s"], "neglected_incidents": [0, 5, 9, 0],
        "gap_m2": [0, 0, 0, 12], "workers": [1, 1, 0, 1],
        "workers_off_norm": [0, 1, 0, 0], "days_since_check": [1, 1, 1, np.nan],
        "days_since_check_na": [False, False, False, True],  # D: nobody lives there
        "unpatrolled_hotspots": [np.nan] * 4})
    scored = score(measures, Thresholds())
    assert list(scored["code"]) == ["C", "D", "B", "A"]  # reds by neglect, then amber
    assert list(scored["status"]) == ["red", "red", "amber", "green"]
    assert scored.set_index("code").loc["A", "unpatrolled_hotspots_status"] == "none"
    assert scored.set_index("code").loc["D", "gap_m2_status"] == "red"
    assert scored.set_index("code").loc["D", "days_since_check_status"] == "none"
    assert "days_since_check_na" not in scored
    # A 12 m² gap between D and C touches both grids: counted once in the roll-up.
    areas = pd.DataFrame({"gap_m2": [12.0], "overlap_m2": [0.0]}, index=["c2"])
    rolled = roll_up(scored, "community", areas).set_index("code")
    assert rolled.loc["c1", "status"] == "amber" and rolled.loc["c2", "red"] == 2
    assert rolled.loc["c2", "gap_m2"] == 12 and rolled.loc["c1", "gap_m2"] == 0


def test_never_checked_is_red():
    scored = score(pd.DataFrame({"code": ["A"], "community": [None], "subdistrict": [None],
                                 "neglected_incidents": [0], "days_since_check": [np.nan]}))
    assert scored["days_since_check_status"].iloc[0] == "red"
