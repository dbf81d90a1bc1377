"""Checking geometries and moving them into the deployment CRS.

Geometries must be of the kind's type, valid (or repairable), plausible lon/lat when the
source is geographic, and inside the deployment's area once transformed; polygons are
stored as multipolygons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .plan import ImportPlan
from .readers import RawChunk
from .row_errors import RowErrors


def prepare_geometry(chunk: RawChunk, plan: ImportPlan, errors: RowErrors,
                     repaired: list[int]) -> np.ndarray:
    geoms = chunk.geometry.copy()
    for pos, reason in chunk.geometry_errors.items():
        errors.add(pos, "geometry", reason)
        geoms[pos] = None
    present = np.flatnonzero(pd.notna(geoms))
    if len(present) == 0:
        return geoms
    wanted = plan.kind.geometry
    source_crs = plan.source_crs.to_string() if plan.source_crs else "unknown CRS"
    assert wanted is not None
    types = shapely.get_type_id(geoms[present])
    # Single-part multi-points are points and single-part multi-lines lines; polygons
    # are stored as multipolygons.
    single = present[np.isin(types, (4, 5))
                     & (shapely.get_num_geometries(geoms[present]) == 1)]
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    types = shapely.get_type_id(geoms[present])
    is_point = types == 0
    is_polygon = (types == 3) | (types == 6)
    is_line = types == 1
    allowed = {"point": is_point, "polygon": is_polygon, "line": is_line,
               "point_or_polygon": is_point | is_polygon}[wanted]
    names = {"point": "a Point", "polygon": "a Polygon or MultiPolygon",
             "line": "a LineString (split multi-part lines first, e.g. with ogr2ogr "
                     "-explodecollections)",
             "point_or_polygon": "a Point, Polygon or MultiPolygon"}[wanted]
    wrong = present[~allowed]
    errors.add(wrong, "geometry",
               lambda p: f"expected {names}, got {getattr(geoms[p], 'geom_type', '?')}")
    geoms[wrong] = None
    lines = present[allowed & is_line]
    short = lines[shapely.length(geoms[lines]) == 0] if len(lines) else lines
    errors.add(short, "geometry", "a line of zero length")
    geoms[short] = None
    polygons = present[allowed & is_polygon]
    if len(polygons):
        _check_polygons(geoms, polygons, plan, errors, repaired)
    present = np.flatnonzero(pd.notna(geoms))
    if plan.source_crs is not None and plan.source_crs.is_geographic:
        _check_lonlat(geoms, present, errors)
        present = np.flatnonzero(pd.notna(geoms))
    if len(present) == 0:
        return geoms
    moved = _transform(geoms[present], plan.transformer)
    bounds = shapely.bounds(moved)
    finite = np.isfinite(bounds).all(axis=1)
    errors.add(present[~finite], "geometry",
               f"cannot be transformed from {source_crs} to "
               f"EPSG:{plan.target_srid}; check --crs")
    xmin, ymin, xmax, ymax = plan.area.metric
    inside = finite & (bounds[:, 0] >= xmin) & (bounds[:, 2] <= xmax) \
        & (bounds[:, 1] >= ymin) & (bounds[:, 3] <= ymax)
    outside = present[finite & ~inside]
    if len(outside):
        w, s, e, n = plan.area.lonlat
        errors.add(outside, "geometry",
                   f"lies outside the area this deployment covers (EPSG:{plan.target_srid}: "
                   f"lon {w:.0f}..{e:.0f}, lat {s:.0f}..{n:.0f}); check the CRS "
                   f"({source_crs}) and whether x and y are swapped")
    result = np.full(len(geoms), None, dtype=object)
    keep = finite & inside
    result[present[keep]] = moved[keep]
    if wanted not in ("point", "line"):
        polygons_left = np.flatnonzero(pd.notna(result))
        polygons_left = polygons_left[shapely.get_type_id(result[polygons_left]) == 3]
        for p in polygons_left:
            result[p] = shapely.MultiPolygon([result[p]])
    return result


def _transform(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    if (shapely.get_type_id(geoms) == 0).all():  # points: skip per-geometry rebuilding
        coords = shapely.get_coordinates(geoms)
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return shapely.points(x, y)
    return shapely.transform(geoms, lambda x, y: transformer.transform(x, y, errcheck=False),
                             interleaved=False)


def _check_lonlat(geoms: np.ndarray, present: np.ndarray, errors: RowErrors) -> None:
    bounds = shapely.bounds(geoms[present])
    bad_lon = (bounds[:, 0] < -180) | (bounds[:, 2] > 180)
    bad_lat = (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
    swapped = bad_lat & ~bad_lon & (np.abs(bounds[:, [0, 2]]).max(axis=1) <= 90)
    for i in np.flatnonzero(bad_lon | bad_lat):
        pos = present[i]
        if swapped[i]:
            reason = (f"latitude {bounds[i, 3] if bounds[i, 3] > 90 else bounds[i, 1]:g} is "
                      "outside -90..90; longitude and latitude look swapped")
        elif bad_lat[i]:
            reason = "latitude outside -90..90"
        else:
            reason = "longitude outside -180..180"
        errors.add(pos, "geometry", reason + " (the file is in WGS84 lon/lat; if it is "
                   "projected, pass --crs)")
        geoms[pos] = None


def _check_polygons(geoms: np.ndarray, positions: np.ndarray, plan: ImportPlan,
                    errors: RowErrors, repaired: list[int]) -> None:
    valid = shapely.is_valid(geoms[positions])
    for pos in positions[~valid]:
        reason = shapely.is_valid_reason(geoms[pos])
        if not plan.repair:
            errors.add(pos, "geometry", f"invalid polygon: {reason}")
            geoms[pos] = None
            continue
        fixed = shapely.make_valid(geoms[pos])
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon",
                                                                          "MultiPolygon")]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        if not polys or sum(p.area for p in polys) == 0:
            errors.add(pos, "geometry", f"invalid polygon that cannot be repaired: {reason}")
            geoms[pos] = None
        else:
            geoms[pos] = shapely.MultiPolygon(polys)
            repaired.append(int(pos))
