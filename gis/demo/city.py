"""The generated city (``gridgis demo --city``): a street lattice with jittered corners,
cut into grids, communities and subdistricts along its streets, with buildings on plots
inside the street blocks, households in them (more where a density field is high) and
places weighted towards the dense centres. Residents and incidents then come from the
demo's own models (``population``, ``incidents``). Parameters: ``data/city_model.toml``;
rules: data/README.md ("The generated city"). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .district import District


@dataclass
class City:
    district: District
    roads: gpd.GeoDataFrame  # name, highway, oneway, osm_id
    buildings: gpd.GeoDataFrame  # osm_id, name, address, use, levels, households
    homes: pd.DataFrame  # household_ref, building_ref, unit, x, y, grid_code
    places: gpd.GeoDataFrame  # osm_id, name, category, risk_level
    cameras: gpd.GeoDataFrame  # osm_id, direction


@dataclass(frozen=True)
class Lattice:
    """Street corners ``nodes[ix, iy]`` of ``side`` grids of ``blocks`` blocks a side."""
    nodes: np.ndarray  # (side * blocks + 1, side * blocks + 1, 2)
    side: int
    blocks: int

    def ring(self, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
        """The closed ring of corners around grid cells [i0, i1) × [j0, j1),
        anticlockwise."""
        b = self.blocks
        x0, x1, y0, y1 = i0 * b, i1 * b, j0 * b, j1 * b
        xs, ys = np.arange(x0, x1 + 1), np.arange(y0, y1 + 1)
        return np.concatenate([
            self.nodes[xs, y0], self.nodes[x1, ys[1:]], self.nodes[xs[::-1][1:], y1],
            self.nodes[x0, ys[::-1][1:]]])

    def polygons(self, cuts_x: np.ndarray, cuts_y: np.ndarray) -> list[shapely.Polygon]:
        """One polygon per cell of the cuts (grid indices), x fastest."""
        return [shapely.Polygon(self.ring(cuts_x[i], cuts_x[i + 1], cuts_y[j], cuts_y[j + 1]))
                for j in range(len(cuts_y) - 1) for i in range(len(cuts_x) - 1)]


def city_side(model: dict, scale: float) -> int:
    """Grids along each side of the city at ``scale`` (at least 2)."""
    return max(2, int(round((model["streets"]["grids"] * scale) ** 0.5)))


def street_lattice(model: dict, side: int, rng: np.random.Generator) -> Lattice:
    """Corners on a square lattice, each moved by up to ``jitter`` of a block's side; the
    corners on the city's edge move only along it, so that the edge stays straight."""
    streets = model["streets"]
    b = int(streets["blocks_per_grid"])
    block = streets["grid_m"] / b
    n = side * b + 1
    ix, iy = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    shift = rng.uniform(-streets["jitter"], streets["jitter"], (n, n, 2)) * block
    shift[[0, -1], :, 0] = 0
    shift[:, [0, -1], 1] = 0
    x0, y0 = model["origin"]
    nodes = np.stack([x0 + ix * block, y0 + iy * block], axis=-1) + shift
    return Lattice(nodes, side, b)


def divide_city(model: dict, lattice: Lattice) -> District:
    """Grids, communities and subdistricts as blocks of the lattice, with DB11-style codes
    (like the demo's) and numbered names."""
    streets = model["streets"]
    side = lattice.side
    per_community = int(streets["grids_per_community"])
    per_subdistrict = per_community * int(streets["communities_per_subdistrict"])
    every = np.arange(side + 1)
    community_cuts = np.unique(np.r_[every[::per_community], side])
    subdistrict_cuts = np.unique(np.r_[every[::per_subdistrict], side])
    code = model["district_code"]
    crs = model["crs"]

    grid_x, grid_y = (a.ravel() for a in np.meshgrid(every[:-1], every[:-1], indexing="xy"))
    community_of = ((np.searchsorted(community_cuts, grid_y, side="right") - 1)
                    * (len(community_cuts) - 1)
                    + np.searchsorted(community_cuts, grid_x, side="right") - 1)
    cx, cy = np.meshgrid(community_cuts[:-1], community_cuts[:-1], indexing="xy")
    subdistrict_of = ((np.searchsorted(subdistrict_cuts, cy.ravel(), side="right") - 1)
                      * (len(subdistrict_cuts) - 1)
                      + np.searchsorted(subdistrict_cuts, cx.ravel(), side="right") - 1)

    subdistricts = gpd.GeoDataFrame(
        geometry=lattice.polygons(subdistrict_cuts, subdistrict_cuts), crs=crs)
    subdistricts["code"] = [f"{code}{i + 1:03d}" for i in range(len(subdistricts))]
    subdistricts["name"] = [f"第{i + 1}街道" for i in range(len(subdistricts))]
    subdistricts["name_en"] = [f"Subdistrict {i + 1}" for i in range(len(subdistricts))]

    communities = gpd.GeoDataFrame(
        geometry=lattice.polygons(community_cuts, community_cuts), crs=crs)
    communities["parent_code"] = subdistricts["code"].to_numpy()[subdistrict_of]
    number = communities.groupby("parent_code").cumcount() + 1
    communities["code"] = [f"{p}{i:03d}" for p, i in zip(communities["parent_code"], number,
                                                         strict=True)]
    communities["name"] = [f"{c[-6:-3]}街道第{i}社区" for c, i in
                           zip(communities["code"], number, strict=True)]
    communities["name_en"] = [f"Community {c[-6:-3]}-{i}" for c, i in
                              zip(communities["code"], number, strict=True)]

    grids = gpd.GeoDataFrame(geometry=lattice.polygons(every, every), crs=crs)
    grids["community_code"] = communities["code"].to_numpy()[community_of]
    number = grids.groupby("community_code").cumcount() + 1
    grids["code"] = [f"{c}{i:03d}" for c, i in zip(grids["community_code"], number,
                                                   strict=True)]
    grids["name"] = [f"{c[-9:-6]}-{c[-6:-3]}-{c[-3:]} 网格" for c in grids["code"]]
    grids["column"], grids["row"] = grid_x, grid_y
    boundary = shapely.Polygon(lattice.ring(0, side, 0, side))
    return District(boundary, subdistricts, communities, grids)


def density(model: dict, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The density field at unit-square coordinates."""
    field = model["density"]
    value = np.full(u.shape, float(field["base"]))
    for x, y, sigma, weight in field["centres"]:
        value += weight * np.exp(-((u - x) ** 2 + (v - y) ** 2) / (2 * sigma ** 2))
    return value


def streets(model: dict, lattice: Lattice) -> gpd.GeoDataFrame:
    """A road segment between every two neighbouring corners; the lines between
    subdistricts are primary roads, between communities secondary, between grids
    unclassified (minor through streets), and inside grids residential."""
    per_community = int(model["streets"]["grids_per_community"]) * lattice.blocks
    per_subdistrict = per_community * int(model["streets"]["communities_per_subdistrict"])
    nodes = lattice.nodes
    n = nodes.shape[0]
    line, along = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n - 1),
                                                   indexing="ij"))
    east = np.stack([nodes[along, line], nodes[along + 1, line]], axis=1)  # rows of y
    north = np.stack([nodes[line, along], nodes[line, along + 1]], axis=1)  # columns of x
    lines = np.r_[line, line]
    highway = np.select(
        [lines % per_subdistrict == 0, lines % per_community == 0,
         lines % lattice.blocks == 0],
        ["primary", "secondary", "unclassified"], "residential")
    names = np.r_[[f"纬{i + 1}路" for i in line], [f"经{i + 1}路" for i in line]]
    return gpd.GeoDataFrame(
        {"name": names, "highway": highway, "oneway": False,
         "osm_id": [f"R{i + 1}" for i in range(len(lines))]},
        geometry=shapely.linestrings(np.concatenate([east, north])), crs=model["crs"])


def building_plots(lattice: Lattice, slots: int) -> tuple[np.ndarray, np.ndarray,
                                                          np.ndarray]:
    """(footprints, grid index, centre xy) of ``slots`` × ``slots`` plots in every street
    block: each plot 60 % of its share of the block, so buildings never touch or cross a
    street."""
    nodes = lattice.nodes
    n = nodes.shape[0] - 1
    corner = {(du, dv): nodes[du:n + du, dv:n + dv][:, :, None, None, :]
              for du in (0, 1) for dv in (0, 1)}
    a = (np.arange(slots) + 0.5) / slots
    half = 0.3 / slots

    def at(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        u, v = u[None, None, :, None, None], v[None, None, None, :, None]
        return ((1 - u) * (1 - v) * corner[0, 0] + u * (1 - v) * corner[1, 0]
                + u * v * corner[1, 1] + (1 - u) * v * corner[0, 1])

    ring = np.stack([at(a - half, a - half), at(a + half, a - half), at(a + half, a + half),
                     at(a - half, a + half)], axis=-2).reshape(-1, 4, 2)
    centre = at(a, a).reshape(-1, 2)
    bx, by = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    grid = (by // lattice.blocks) * lattice.side + bx // lattice.blocks
    grid = np.repeat(grid.ravel(), slots * slots)
    return shapely.polygons(ring), grid, centre


def allocate(total: int, weights: np.ndarray, most: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """``total`` split in proportion to ``weights`` (rounded down), none over ``most``;
    what rounding and the cap leave over goes one by one to random units with room."""
    if not weights.sum():  # nowhere to put any
        return np.zeros(weights.size, dtype=int)
    share = np.minimum(np.floor(total * weights / weights.sum()).astype(int), most)
    while (left := total - int(share.sum())) > 0 and (room := np.flatnonzero(
            (share < most) & (weights > 0))).size:
        share[rng.choice(room, size=min(left, room.size), replace=False)] += 1
    return share


def rank_within(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order (0, 1, …) of the members of each group."""
    order = np.lexsort((rng.random(groups.size), groups))
    ranks = np.empty(groups.size, dtype=int)
    starts = np.r_[0, np.flatnonzero(np.diff(groups[order])) + 1]
    counts = np.diff(np.r_[starts, groups.size])
    ranks[order] = np.arange(groups.size) - np.repeat(starts, counts)
    return ranks


def buildings_and_homes(model: dict, lattice: Lattice, grids: gpd.GeoDataFrame, scale: float,
                        rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Buildings on random plots of each grid (more where the density is high; none for
    homes in the grids where nobody lives) and the households in the residential ones."""
    counts = model["counts"]
    slots = int(counts["slots_per_block"])
    side = lattice.side
    weight = density(model, (grids["column"].to_numpy() + 0.5) / side,
                     (grids["row"].to_numpy() + 0.5) / side)
    empty = rng.random(len(grids)) < model["density"]["empty_share"]
    footprints, grid_of_plot, centre = building_plots(lattice, slots)
    room = np.full(len(grids), (lattice.blocks * slots) ** 2)
    built_per_grid = allocate(int(round(counts["buildings"] * scale)),
                              np.where(empty, 0.3, np.sqrt(weight)), room, rng)
    built_per_grid = np.maximum(built_per_grid, 1)
    households = allocate(int(round(counts["households"] * scale)),
                          np.where(empty, 0.0, weight), np.full(len(grids), 1 << 40), rng)
    rank = rank_within(grid_of_plot, rng)
    built = rank < built_per_grid[grid_of_plot]
    residential = built & ~empty[grid_of_plot] & (
        (rng.random(built.size) < counts["residential_share"]) | (rank == 0))

    homes_at = np.flatnonzero(residential)
    homes_at = homes_at[np.argsort(grid_of_plot[homes_at], kind="stable")]
    per_grid = np.bincount(grid_of_plot[homes_at], minlength=len(grids))
    first = np.r_[0, np.cumsum(per_grid)[:-1]]
    home_grid = np.repeat(np.arange(len(grids)), households)
    plot = np.sort(homes_at[first[home_grid]
                            + (rng.random(home_grid.size) * per_grid[home_grid]).astype(int)])
    unit = rank_within(plot, rng) + 1

    at = np.flatnonzero(built)
    row_of_plot = np.full(built.size, -1)
    row_of_plot[at] = np.arange(at.size)
    ids = np.array([f"B{i + 1}" for i in range(at.size)], dtype=object)
    held = np.bincount(plot, minlength=built.size)[at]
    area = shapely.area(footprints[at])
    codes = grids["code"].to_numpy()[grid_of_plot[at]]
    use = np.where(residential[at], "residential",
                   np.where(empty[grid_of_plot[at]],
                            rng.choice(["industrial", "warehouse"], at.size),
                            rng.choice(["commercial", "office", "retail", "public"],
                                       at.size)))
    levels = np.where(residential[at],
                      np.clip(np.ceil(held * model["counts"]["m2_per_household"] / area), 1, 30),
                      rng.integers(1, 7, at.size)).astype(int)
    buildings = gpd.GeoDataFrame({
        "osm_id": ids, "name": None,
        "address": [f"{c[-9:-6]}-{c[-6:-3]}-{c[-3:]}网格{r + 1}号楼" for c, r in
                    zip(codes, rank[at], strict=True)],
        "use": use, "levels": levels, "households": held, "grid_code": codes},
        geometry=footprints[at], crs=model["crs"])
    row = row_of_plot[plot]
    homes = pd.DataFrame({
        "household_ref": [f"H{b}-{u}" for b, u in zip(ids[row], unit, strict=True)],
        "building_ref": ids[row], "unit": unit,
        "x": centre[plot, 0], "y": centre[plot, 1], "grid_code": codes[row]})
    return buildings, homes


def places_and_cameras(model: dict, risk: dict, lattice: Lattice, district: District,
                       buildings: gpd.GeoDataFrame, scale: float, rng: np.random.Generator
                       ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Places in buildings (weighted by their grid's density to the power 1.5), transport
    hubs and cameras at street corners (weighted by density), a park in every grid where
    nobody lives and more among the others."""
    from ..taxonomy import PLACE_CATEGORIES

    crs = model["crs"]
    x0, y0 = model["origin"]
    extent = lattice.side * model["streets"]["grid_m"]
    corners = lattice.nodes.reshape(-1, 2)
    at_corner = density(model, (corners[:, 0] - x0) / extent, (corners[:, 1] - y0) / extent)
    centres = shapely.get_coordinates(district.grids.geometry.centroid.values)
    homes_per_grid = buildings.groupby("grid_code")["households"].sum().reindex(
        district.grids["code"]).fillna(0).to_numpy()
    grid_weight = density(model, (centres[:, 0] - x0) / extent, (centres[:, 1] - y0) / extent)
    building_weight = buildings["grid_code"].map(dict(zip(
        district.grids["code"], grid_weight ** 1.5, strict=True))).to_numpy()
    building_xy = shapely.get_coordinates(buildings.geometry.centroid.values)

    def pick(weights: np.ndarray, count: int) -> np.ndarray:
        return rng.choice(weights.size, size=count, p=weights / weights.sum())

    frames = []
    for category, number in model["places"].items():
        count = max(1, int(round(number * scale)))
        if category == "transport_hub":
            xy = corners[pick(at_corner, count)]
        elif category == "park":
            xy = np.r_[centres[homes_per_grid == 0], centres[pick(grid_weight, count)]]
        else:
            xy = building_xy[pick(building_weight, count)] + rng.uniform(-4, 4, (count, 2))
        frames.append(pd.DataFrame({"category": category, "x": xy[:, 0], "y": xy[:, 1]}))
    places = pd.concat(frames, ignore_index=True)
    number = places.groupby("category").cumcount() + 1
    places = gpd.GeoDataFrame({
        "osm_id": [f"P{i + 1}" for i in range(len(places))],
        "name": [f"{PLACE_CATEGORIES[c][0]}{n}" for c, n in
                 zip(places["category"], number, strict=True)],
        "category": places["category"],
        "risk_level": places["category"].map(lambda c: risk.get(c, risk["*"]))},
        geometry=gpd.points_from_xy(places["x"], places["y"]), crs=crs)
    count = min(corners.shape[0], int(round(model["counts"]["cameras"] * scale)))
    chosen = rng.choice(corners.shape[0], size=count, replace=False,
                        p=at_corner / at_corner.sum())
    cameras = gpd.GeoDataFrame({"osm_id": [f"C{i + 1}" for i in range(count)],
                                "direction": np.nan},
                               geometry=gpd.points_from_xy(*corners[chosen].T), crs=crs)
    return places, cameras


def generate_city(model: dict, places_map: dict, scale: float,
                  rng: np.random.Generator) -> City:
    lattice = street_lattice(model, city_side(model, scale), rng)
    district = divide_city(model, lattice)
    buildings, homes = buildings_and_homes(model, lattice, district.grids, scale, rng)
    places, cameras = places_and_cameras(model, places_map["risk"], lattice, district,
                                         buildings, scale, rng)
    return City(district, streets(model, lattice), buildings, homes, places, cameras)


def incident_params(model: dict, demo_incidents: dict) -> dict:
    """The demo's incident model over the city's years, in its time zone."""
    end = pd.Timestamp(model["counts"]["end"])
    years = int(model["counts"]["years"])
    return {**demo_incidents, "start": (end - pd.DateOffset(years=years)).strftime("%Y-%m-%d"),
            "months": 12 * years, "time_zone": model["time_zone"]}


def background_scale(anchors: dict[str, np.ndarray], params: dict, target: float) -> float:
    """The factor on every background rate that makes about ``target`` events in all: the
    expected background events (each anchor active for all but, on average, half of the
    months of emerging and fading anchors) times the expected size of each event's family
    of near repeats."""
    active = 1 - params["emerge_share"] / 2 - params["fade_share"] / 2
    background = sum(float(s["rate"]) * len(anchors.get(s["anchors"], ())) for s in
                     params["sources"]) * int(params["months"]) * active
    hawkes = params["hawkes"]
    family = sum(hawkes["branching"] ** g for g in range(int(hawkes["max_generations"]) + 1))
    return target / (background * family) if background else 1.0
