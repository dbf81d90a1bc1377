"""Cameras (技防): what each online camera really sees, and where new ones would help.

A camera's **view** is the sector from its position along ``bearing_deg`` (clockwise
from north), ``fov_deg`` wide and ``range_m`` deep, minus every building footprint and
the shadow each footprint casts away from the camera: a visibility polygon, not a bare
wedge. A camera inside a footprint or within ``MOUNT_M`` of one is mounted on that wall:
it is moved ``OFF_WALL_M`` out from the nearest point of the wall (outwards), and the
building then blocks it like any other, so a camera facing its own wall sees nothing
through it.

The shadow of a footprint is the union, over its outer edges (a, b), of the polygon
a, b, b', m', a' where the primed points continue the rays from the camera through a,
b and the edge's midpoint direction to ``FAR`` times the range: with the middle point,
the far side stays beyond the range for any edge the camera sees under less than 180°.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

MOUNT_M = 1.0
OFF_WALL_M = 0.5
FAR = 1.5
ARC_STEP_DEG = 5.0


def sectors(x: np.ndarray, y: np.ndarray, bearing_deg: np.ndarray, fov_deg: np.ndarray,
            range_m: np.ndarray, step_deg: float = ARC_STEP_DEG) -> np.ndarray:
    """The bare wedges (a disc for a field of view of 360°), as polygons."""
    out = np.empty(len(x), dtype=object)
    for i in range(len(x)):
        fov = min(max(float(fov_deg[i]), 0.0), 360.0)
        steps = max(2, int(np.ceil(fov / step_deg)) + 1)
        angles = np.radians(float(bearing_deg[i]) - fov / 2 + np.linspace(0, fov, steps))
        arc = np.column_stack([x[i] + range_m[i] * np.sin(angles),
                               y[i] + range_m[i] * np.cos(angles)])
        ring = arc if fov >= 360 else np.vstack([[x[i], y[i]], arc])
        out[i] = shapely.Polygon(ring) if fov > 0 and range_m[i] > 0 else shapely.Polygon()
    return out


def view_polygons(cameras: gpd.GeoDataFrame, buildings: gpd.GeoSeries | np.ndarray
                  ) -> np.ndarray:
    """The visibility polygon of each camera (``bearing_deg``, ``fov_deg``, ``range_m``
    columns; points), cut by ``buildings`` (polygons in the same CRS)."""
    footprints = _valid(np.asarray(getattr(buildings, "values", buildings), dtype=object))
    x, y = off_the_wall(shapely.get_x(cameras.geometry.values),
                        shapely.get_y(cameras.geometry.values), footprints)
    wedges = sectors(x, y, cameras["bearing_deg"].to_numpy(float),
                     cameras["fov_deg"].to_numpy(float), cameras["range_m"].to_numpy(float))
    if not len(footprints) or not len(wedges):
        return wedges
    cam_idx, bld_idx = shapely.STRtree(footprints).query(wedges, predicate="intersects")
    inside = shapely.intersects(footprints[bld_idx], shapely.points(x[cam_idx], y[cam_idx]))
    cam_idx, bld_idx = cam_idx[~inside], bld_idx[~inside]  # a camera still inside: a hall
    shadows, owner = _shadows(x, y, cameras["range_m"].to_numpy(float), cam_idx,
                              footprints[bld_idx])
    blockers = np.concatenate([footprints[bld_idx], shadows])
    blocker_owner = np.concatenate([cam_idx, owner])
    order = np.argsort(blocker_owner, kind="stable")
    blockers, blocker_owner = blockers[order], blocker_owner[order]
    starts = np.searchsorted(blocker_owner, np.arange(len(wedges)))
    ends = np.searchsorted(blocker_owner, np.arange(len(wedges)), side="right")
    views = wedges.copy()
    for i in np.flatnonzero(ends > starts):
        views[i] = shapely.difference(wedges[i], shapely.union_all(blockers[starts[i]:ends[i]]))
    return views


def off_the_wall(x: np.ndarray, y: np.ndarray, footprints: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Camera positions moved ``OFF_WALL_M`` out from the footprint they are mounted on
    (inside it, or within ``MOUNT_M`` of it)."""
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    if not len(footprints) or not len(x):
        return x, y
    points = shapely.points(x, y)
    cam, building = shapely.STRtree(footprints).query(points, predicate="dwithin",
                                                      distance=MOUNT_M)
    first = np.unique(cam, return_index=True)[1]  # the first wall each camera is on
    cam, building = cam[first], building[first]
    walls = shapely.boundary(footprints[building])
    nearest = shapely.get_coordinates(shapely.get_point(
        shapely.shortest_line(walls, points[cam]), 0))
    away = np.column_stack([x[cam], y[cam]]) - nearest
    inside = shapely.intersects(footprints[building], points[cam])
    away[inside] *= -1  # from inside, outwards through the nearest wall
    length = np.hypot(*away.T)
    # A camera exactly on its wall: outwards along the wall's normal is unknown, so
    # step out towards the polygon's outside by probing both sides of the wall.
    flat = length < 1e-6
    away[flat] = nearest[flat] - shapely.get_coordinates(
        shapely.centroid(footprints[building[flat]]))
    length[flat] = np.hypot(*away[flat].T)
    unit = away / np.where(length > 0, length, 1)[:, None]
    moved = nearest + unit * OFF_WALL_M
    x[cam], y[cam] = moved[:, 0], moved[:, 1]
    return x, y


def _valid(polygons: np.ndarray) -> np.ndarray:
    """The footprints with invalid ones repaired (their polygonal parts kept)."""
    bad = ~shapely.is_valid(polygons)
    if bad.any():
        repaired = shapely.make_valid(polygons[bad])
        parts, owner = shapely.get_parts(repaired, return_index=True)
        polygonal = shapely.get_type_id(parts) == 3
        polygons = polygons.copy()
        polygons[bad] = shapely.multipolygons(parts[polygonal], indices=owner[polygonal]) \
            if polygonal.any() else shapely.Polygon()
    return polygons


def _shadows(x, y, range_m, cam_idx, footprints) -> tuple[np.ndarray, np.ndarray]:
    """One shadow polygon per outer edge of each (camera, footprint) pair that faces the
    camera: a ray into a footprint crosses such an edge first, so the shadows of the
    others lie inside these and the footprint."""
    parts, part_owner = shapely.get_parts(shapely.orient_polygons(footprints),
                                          return_index=True)
    coords, ring_idx = shapely.get_coordinates(shapely.get_exterior_ring(parts),
                                               return_index=True)
    same_ring = ring_idx[:-1] == ring_idx[1:]
    a, b = coords[:-1][same_ring], coords[1:][same_ring]
    cam = cam_idx[part_owner[ring_idx[:-1][same_ring]]]
    p = np.column_stack([x[cam], y[cam]])
    da, db = a - p, b - p
    # Exteriors run anticlockwise: the camera sees an edge from its right-hand side.
    facing = da[:, 0] * db[:, 1] - da[:, 1] * db[:, 0] > 1e-9
    a, b, p, da, db, cam = a[facing], b[facing], p[facing], da[facing], db[facing], \
        cam[facing]
    la, lb = np.hypot(*da.T), np.hypot(*db.T)
    ua, ub = da / la[:, None], db / lb[:, None]
    mid = ua + ub
    um = mid / np.hypot(*mid.T)[:, None]
    # Beyond the range, and beyond both ends (a large footprint may reach past it), so
    # that the polygon stays simple.
    far = np.maximum(FAR * range_m[cam], 1.01 * np.maximum(la, lb))[:, None]
    quads = np.stack([a, b, p + ub * far, p + um * far, p + ua * far, a], axis=1)
    return shapely.polygons(quads), cam


def in_view(points: np.ndarray, views: np.ndarray) -> np.ndarray:
    """Whether each point lies in any view."""
    seen = np.zeros(len(points), dtype=bool)
    if len(points) and len(views):
        hit, _ = shapely.STRtree(views).query(points, predicate="intersects")
        seen[hit] = True
    return seen


@dataclass
class Site:
    rank: int
    candidate: int  # index into the candidates
    gain: float  # weight newly covered by this site
    cumulative: float


def greedy_sites(coverage: list[np.ndarray], weights: np.ndarray, k: int,
                 already: np.ndarray | None = None) -> list[Site]:
    """Maximal covering by the greedy rule: repeatedly pick the candidate that covers
    the most weight not yet covered (``coverage[c]`` are the target indices candidate
    c covers; ``already`` marks targets covered before any pick). Coverage is monotone
    submodular, so the greedy total is at least (1 − 1/e) ≈ 63 % of the best possible
    with k sites (Nemhauser, Wolsey & Fisher 1978). Lazy evaluation: a stale gain is
    an upper bound, so the heap's top is rechecked before it is taken."""
    import heapq

    covered = np.zeros(len(weights), dtype=bool) if already is None else already.copy()
    heap = [(-float(weights[c[~covered[c]]].sum()), i) for i, c in enumerate(coverage)]
    heapq.heapify(heap)
    sites: list[Site] = []
    total = 0.0
    while heap and len(sites) < k:
        negative, i = heapq.heappop(heap)
        gain = float(weights[coverage[i][~covered[coverage[i]]]].sum())
        if gain <= 0:
            continue  # gains only shrink: this one is done
        if heap and gain < -heap[0][0] - 1e-12 and gain < -negative:
            heapq.heappush(heap, (-gain, i))
            continue
        covered[coverage[i]] = True
        total += gain
        sites.append(Site(len(sites) + 1, i, gain, total))
    return sites


def candidate_sites(streets: np.ndarray, spacing_m: float) -> np.ndarray:
    """Points every ``spacing_m`` along the street lines (their midpoints for shorter
    ones)."""
    points = []
    for line in streets:
        length = shapely.length(line)
        at = np.arange(spacing_m / 2, length, spacing_m) if length > spacing_m \
            else np.array([length / 2])
        points.append(shapely.line_interpolate_point(line, at))
    return np.concatenate(points) if points else np.array([], dtype=object)


def covering_sets(candidates: np.ndarray, targets: np.ndarray, buildings: np.ndarray,
                  range_m: float) -> list[np.ndarray]:
    """Which targets a new all-round camera at each candidate would see (a 360° view of
    ``range_m`` cut by the buildings)."""
    frame = gpd.GeoDataFrame({"bearing_deg": 0.0, "fov_deg": 360.0, "range_m": range_m},
                             index=pd.RangeIndex(len(candidates)), geometry=candidates)
    views = view_polygons(frame, buildings)
    cand, target = shapely.STRtree(targets).query(views, predicate="intersects") \
        if len(targets) else (np.array([], int), np.array([], int))
    order = np.argsort(cand, kind="stable")
    cand, target = cand[order], target[order]
    starts = np.searchsorted(cand, np.arange(len(candidates)))
    ends = np.searchsorted(cand, np.arange(len(candidates)), side="right")
    return [target[s:e] for s, e in zip(starts, ends, strict=True)]
