"""Households from real buildings and synthetic residents in them.

Households per building = floor(footprint area × levels × residential share ÷ m² per
household); the residential share depends on OSM building=* and halves when the
building holds shops, offices or amenities. Residents are drawn per household: size,
age band, sex, registered/floating, and small shares of the special groups. Names are
drawn from short syllable lists and every row is flagged synthetic: no real person.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")
AGE_BANDS = {"0-14": (0, 14), "15-24": (15, 24), "25-44": (25, 44), "45-64": (45, 64),
             "65-90": (65, 90)}


def households_per_building(buildings: gpd.GeoDataFrame, params: dict) -> np.ndarray:
    levels = buildings["levels"].fillna(params["default_levels"]).clip(1, 30)
    share = buildings["building"].map(params["residential_share"]).fillna(0.0)
    share = share * np.where(buildings["commercial"], params["commercial_factor"], 1.0)
    return np.floor(buildings.area * levels * share / params["m2_per_household"]).astype(int)


def residents(households: pd.DataFrame, params: dict, reference: pd.Timestamp,
              rng: np.random.Generator) -> pd.DataFrame:
    """One row per synthetic resident: household_ref, name, sex, birth_date (the age in
    whole years on the ``reference`` date, so never after it), residence_type and the
    special-group flags."""
    weights = np.asarray(params["household_size_weights"], dtype=float)
    sizes = rng.choice(np.arange(1, len(weights) + 1), size=len(households),
                       p=weights / weights.sum())
    household_ref = np.repeat(households["household_ref"].to_numpy(), sizes)
    n = len(household_ref)
    bands = list(params["age_weights"])
    band_p = np.asarray([params["age_weights"][b] for b in bands], dtype=float)
    band = rng.choice(len(bands), size=n, p=band_p / band_p.sum())
    low = np.array([AGE_BANDS[b][0] for b in bands])[band]
    high = np.array([AGE_BANDS[b][1] for b in bands])[band]
    age = rng.integers(low, high + 1)
    birthday = pd.to_datetime(pd.DataFrame({"year": reference.year - age,
                                            "month": reference.month,
                                            "day": min(reference.day, 28)}))
    birth = birthday - pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    # floating residents move in as households
    floating_household = rng.random(len(households)) < params["floating_share"]
    floating = np.repeat(floating_household, sizes)
    frame = pd.DataFrame({
        "household_ref": household_ref,
        "name": [SURNAMES[s] + GIVEN[g] + (GIVEN[h] if two else "") for s, g, h, two in zip(
            rng.integers(0, len(SURNAMES), n), rng.integers(0, len(GIVEN), n),
            rng.integers(0, len(GIVEN), n), rng.random(n) < 0.6, strict=True)],
        "sex": np.where(rng.random(n) < 0.5, "female", "male"),
        "birth_date": birth.dt.strftime("%Y-%m-%d"),
        "residence_type": np.where(floating, "floating", "registered"),
    })
    adult = age >= 15
    for group, share in params["special_groups"].items():
        eligible = (age >= 15) & (age <= 24) if group == "youth_at_risk" else adult
        frame[group] = eligible & (rng.random(n) < share)
    frame["synthetic"] = True
    return frame
