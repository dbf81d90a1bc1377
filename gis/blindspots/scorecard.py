"""The scorecard: each blind-spot measure of a grid against its rule, a traffic light
per measure, the worst of them as the grid's status, and roll-ups per community and
subdistrict. Grids are ordered so that the worst come first, and among equals those
with the most incidents in hotspots that no camera sees and no patrol visits.

A measure with no data (no patrol tracks at all, say) is ``none`` and does not count
towards the overall status; so is a measure that does not apply to a grid, marked by a
true ``<measure>_na`` column (days since the last check in a grid where nobody lives).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STATUSES = ("green", "amber", "red")  # in order of severity; "none": no data
SEVERITY = {"none": -1, "green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class Rule:
    measure: str  # the column
    kind: str  # coverage, responsibility, cameras, reach, patrol
    label: tuple[str, str]  # (zh, en)
    amber_above: float | None = None
    red_above: float | None = None
    amber_below: float | None = None
    red_below: float | None = None
    missing: str = "none"  # the status of a missing value

    def status(self, values: pd.Series) -> pd.Series:
        v = values.astype(float)
        out = pd.Series("green", index=values.index, dtype=object)
        for bound, status, worse in ((self.amber_above, "amber", v.gt),
                                     (self.amber_below, "amber", v.lt),
                                     (self.red_above, "red", v.gt),
                                     (self.red_below, "red", v.lt)):
            if bound is not None:
                hit = worse(bound) & (out != "red")
                out[hit] = status
        out[v.isna()] = self.missing
        return out

    def text(self) -> str:
        parts = [f"{name} {sign} {bound:g}" for name, sign, bound in (
            ("red", ">", self.red_above), ("red", "<", self.red_below),
            ("amber", ">", self.amber_above), ("amber", "<", self.amber_below))
            if bound is not None]
        return "; ".join(parts) + ("" if self.missing == "none" else
                                   f"; {self.missing} when unknown")


@dataclass(frozen=True)
class Thresholds:
    """The rules' numbers; every one can be set per run."""

    households_min: float = 300
    households_max: float = 500
    stale_days: int = 90
    people_min: float | None = None
    people_max: float | None = None
    street_in_view_min: float = 0.2
    incidents_in_view_min: float = 0.2
    car_beyond_red: float = 0.1
    foot_beyond_amber: float = 0.25

    def rules(self) -> tuple[Rule, ...]:
        return (
            Rule("gap_m2", "coverage", ("相邻未覆盖面积 m²", "uncovered area next to it, m²"),
                 red_above=0),
            Rule("overlap_m2", "coverage", ("与其他网格重叠 m²", "overlap with other grids, m²"),
                 red_above=0),
            Rule("outside_community_m2", "coverage",
                 ("超出所属社区 m²", "outside its community, m²"), amber_above=0),
            Rule("parts", "coverage", ("不连续部分数", "separate parts"), amber_above=1),
            Rule("sliver_parts", "coverage", ("碎片数", "sliver parts"), amber_above=0),
            Rule("workers", "responsibility", ("在岗网格员", "active grid workers"),
                 red_below=1),
            Rule("workers_off_norm", "responsibility",
                 ("工作量超出规范的网格员", "workers whose load (all their grids) is "
                                           f"outside {self.households_min:g}-"
                                           f"{self.households_max:g} households"),
                 amber_above=0),
            Rule("days_since_check", "responsibility",
                 ("距上次走访核查天数", "days since the last visit or check"),
                 amber_above=self.stale_days, red_above=2 * self.stale_days,
                 missing="red"),
            Rule("street_in_view_share", "cameras",
                 ("监控可视街道比例", "share of street length in camera view"),
                 amber_below=self.street_in_view_min),
            Rule("incidents_in_view_share", "cameras",
                 ("监控可视警情比例", "share of last year's incidents in camera view"),
                 amber_below=self.incidents_in_view_min),
            Rule("dead_corners", "cameras", ("无监控热点(死角)", "hotspot cells no camera sees"),
                 red_above=0),
            Rule("car_beyond_share", "reach",
                 ("车辆超时可达街道比例", "share of streets beyond the car threshold"),
                 amber_above=0, red_above=self.car_beyond_red),
            Rule("foot_beyond_share", "reach",
                 ("步行超时可达街道比例", "share of streets beyond the walking threshold"),
                 amber_above=self.foot_beyond_amber),
            Rule("unpatrolled_hotspots", "patrol",
                 ("近期无巡逻热点", "hotspot cells without recent patrol presence"),
                 red_above=0),
        )


def score(measures: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """``measures`` has a row per grid: ``code``, ``community``, ``subdistrict``,
    ``neglected_incidents`` (incidents in hot cells with no camera view or no recent
    patrol) and the rules' measures (missing columns count as no data). Adds
    ``<measure>_status`` columns and ``status``; worst first."""
    out = measures.copy()
    worst = pd.Series(-1, index=out.index)
    for rule in thresholds.rules():
        values = out[rule.measure] if rule.measure in out else pd.Series(np.nan, out.index)
        status = rule.status(values)
        not_applicable = f"{rule.measure}_na"
        if not_applicable in out:
            status[out[not_applicable].fillna(False).astype(bool)] = "none"
        out[f"{rule.measure}_status"] = status
        worst = np.maximum(worst, status.map(SEVERITY))
    names = {v: k for k, v in SEVERITY.items()}
    out["status"] = worst.map(names)
    out["severity"] = worst
    out = out.sort_values(["severity", "neglected_incidents", "code"],
                          ascending=[False, False, True], kind="stable")
    return out.drop(columns=["severity", *(c for c in out if c.endswith("_na"))]) \
        .reset_index(drop=True)


HOTSPOT_MEASURES = ("dead_corners", "unpatrolled_hotspots")
HOTSPOT_FIGURES = ("neglected_incidents", "hot_cells")


def without_hotspots(scored: pd.DataFrame) -> pd.DataFrame:
    """The scorecard for those who may not read hotspots: the measures made of hotspot
    cells blanked (status none) and the overall status the worst of the rest."""
    out = scored.copy()
    for measure in HOTSPOT_MEASURES:
        if measure in out:
            out[measure] = np.nan
            out[f"{measure}_status"] = "none"
    for figure in HOTSPOT_FIGURES:
        if figure in out:
            out[figure] = None
    statuses = [c for c in out if c.endswith("_status")]
    worst = out[statuses].apply(lambda column: column.map(SEVERITY)).max(axis=1) \
        if statuses else pd.Series(-1, index=out.index)
    names = {v: k for k, v in SEVERITY.items()}
    out["status"] = worst.map(names)
    return out


def roll_up(scored: pd.DataFrame, level: str,
            areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per ``level`` (``community`` or ``subdistrict``): grids red, amber and green, the
    worst status, and the totals of the additive measures. Areas are not additive over
    grids (a gap between two grids touches both): ``areas`` gives their totals per code
    of the level (columns ``gap_m2``, ``overlap_m2``), counted once each."""
    groups = scored.groupby(scored[level].fillna(""), sort=True)
    out = pd.DataFrame({
        "grids": groups.size(),
        **{status: groups["status"].apply(lambda s, st=status: int((s == st).sum()))
           for status in STATUSES},
        "status": groups["status"].apply(
            lambda s: max(s, key=lambda v: SEVERITY[v]) if len(s) else "none"),
    })
    for column in ("dead_corners", "unpatrolled_hotspots", "neglected_incidents",
                   "unwatched_special"):
        if column in scored:
            out[column] = groups[column].sum(min_count=1)
    if areas is not None:
        for column in ("gap_m2", "overlap_m2"):
            out[column] = areas[column].reindex(out.index).fillna(0.0)
    return out.reset_index().rename(columns={level: "code"})
