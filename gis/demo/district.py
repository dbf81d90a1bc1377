"""The demo district's administrative division: the OSM extract cut along its streets into
grids, communities and subdistricts (see ``partition``), with codes and street names."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely

from . import partition, population
from .osm import OsmLayers


@dataclass
class District:
    boundary: shapely.Polygon
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame


def divide(osm: OsmLayers, model: dict, seed: int) -> District:
    rules = model["partition"]
    boundary = partition.district_boundary(osm.roads, osm.buildings)
    homes = gpd.GeoDataFrame({"households": population.households_per_building(
        osm.buildings, model["households"])},
        geometry=osm.buildings.representative_point(), crs=osm.buildings.crs)
    blocks = partition.street_blocks(osm.roads, boundary, rules["min_block_m2"])
    blocks = partition.split_heavy_blocks(blocks, homes, "households",
                                          most=4 * rules["grid_min_households"],
                                          part=2.5 * rules["grid_min_households"])
    joined = gpd.sjoin(homes, blocks, predicate="within")
    blocks["households"] = joined.groupby("index_right")["households"].sum() \
        .reindex(blocks.index).fillna(0)
    grid_labels = partition.regionalise(blocks, "households", rules["grid_min_households"],
                                        seed)
    grids = partition.dissolve(blocks, grid_labels, "households")
    community_labels = partition.regionalise(grids, "households",
                                             rules["community_min_households"], seed)
    communities = partition.dissolve(grids, community_labels, "households")
    subdistrict_labels = partition.regionalise(communities, "households",
                                               rules["subdistrict_min_households"], seed)
    subdistricts = partition.dissolve(communities, subdistrict_labels, "households")

    code = model["district_code"]
    subdistricts["code"] = [f"{code}{i + 1:03d}" for i in range(len(subdistricts))]
    street = partition.name_after_streets(subdistricts, osm.roads)
    subdistricts["name"] = [f"{s}街道" for s in street]
    subdistricts["name_en"] = [f"{s} subdistrict" for s in street]
    communities["parent_code"] = subdistricts["code"].to_numpy()[subdistrict_labels]
    communities["code"] = [f"{p}{i + 1:03d}" for p, i in zip(
        communities["parent_code"], communities.groupby("parent_code").cumcount(),
        strict=True)]
    street = partition.name_after_streets(communities, osm.roads)
    communities["name"] = [f"{s}社区" for s in street]
    communities["name_en"] = [f"{s} community" for s in street]
    grids["community_code"] = communities["code"].to_numpy()[community_labels]
    grids["code"] = [f"{c}{i + 1:03d}" for c, i in zip(
        grids["community_code"], grids.groupby("community_code").cumcount(), strict=True)]
    grids["name"] = [f"{c[-6:-3]}-{c[-3:]} 网格" for c in grids["code"]]
    return District(boundary, subdistricts, communities, grids)
