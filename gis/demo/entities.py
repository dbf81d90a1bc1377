"""What the demo puts into the grids, derived from the OSM layers and the model:
households in real buildings, categorised places, incident anchors and grid workers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import population


def household_points(buildings: gpd.GeoDataFrame, model: dict) -> pd.DataFrame:
    """One row per household: household_ref, building_ref and a point (x, y)."""
    counts = population.households_per_building(buildings, model["households"])
    points = buildings.representative_point()
    building_ref = np.repeat(buildings["osm_id"].to_numpy(), counts)
    unit: np.ndarray = np.concatenate([np.arange(1, c + 1) for c in counts]) \
        if counts.sum() else np.array([], dtype=int)
    return pd.DataFrame({
        "household_ref": [f"H{b}-{u}" for b, u in zip(building_ref, unit, strict=True)],
        "building_ref": building_ref, "unit": unit,
        "x": np.repeat(points.x.to_numpy(), counts), "y": np.repeat(points.y.to_numpy(),
                                                                    counts)})


def categorise_places(pois: gpd.GeoDataFrame, mapping: dict) -> gpd.GeoDataFrame:
    keys = ["amenity", "shop", "tourism", "leisure", "railway", "public_transport"]
    categories = []
    for row in pois[keys].itertuples(index=False):
        category = None
        for key, value in zip(keys, row, strict=True):
            if isinstance(value, str) and key in mapping:
                category = mapping[key].get(value, mapping[key].get("*"))
                if category:
                    break
        categories.append(category)
    frame = pois.assign(category=categories)
    frame = frame[frame["category"].notna()].copy()
    risk = mapping["risk"]
    frame["risk_level"] = frame["category"].map(lambda c: risk.get(c, risk["*"]))
    return frame


def incident_anchors(places: gpd.GeoDataFrame, homes: pd.DataFrame, roads: gpd.GeoDataFrame,
                     mapping: dict) -> dict[str, np.ndarray]:
    anchors = {kind: shapely.get_coordinates(
        places[places["category"].isin(categories)].geometry.values)
        for kind, categories in mapping["anchors"].items()}
    buildings = homes.drop_duplicates("building_ref")
    anchors["homes"] = buildings[["x", "y"]].to_numpy()
    major = roads[roads["highway"].isin(["primary", "secondary"])]
    along = [shapely.line_interpolate_point(line, np.arange(0, line.length, 50.0))
             for line in major.geometry]
    anchors["major_roads"] = shapely.get_coordinates(np.concatenate(along)) if along \
        else np.zeros((0, 2))
    return anchors


def grid_workers(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A primary worker per grid; every third grid also gets a second worker."""
    rows = []
    for i, code in enumerate(grids["code"]):
        rows.append((code, [code]))
        if i % 3 == 0:
            rows.append((code + "b", [code]))
    names = [population.SURNAMES[a] + population.GIVEN[b] + population.GIVEN[c] for a, b, c in
             zip(rng.integers(0, len(population.SURNAMES), len(rows)),
                 rng.integers(0, len(population.GIVEN), len(rows)),
                 rng.integers(0, len(population.GIVEN), len(rows)), strict=True)]
    return pd.DataFrame({"name": names, "employee_no": [f"W{r[0]}" for r in rows],
                         "grid_codes": [",".join(r[1]) for r in rows], "synthetic": True})
