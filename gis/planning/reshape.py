"""Reshaping grids so that a plan stays a partition: pure geometry (GEOS, through
shapely) on the few grids one edit touches, in the plan's metric CRS.

Every edit moves area between grids of one community and nothing else, so the union of
the community's grids never changes (except that a redrawn grid may also take uncovered
land inside its community: that closes a gap). An edit is refused, with the offending
geometry, when it would

- leave a piece of land in no grid (a gap) of at least ``sliver_m2``;
- reach outside the community by at least ``sliver_m2``;
- cut a grid into more pieces than it had, or take all of it (merge it instead);
- change nothing.

Vertices within ``snap_m`` of a neighbour's vertex or edge are snapped to it first, so a
boundary drawn by hand along a neighbour's does not leave slivers.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import split as split_by_line

from ..errors import InvalidInput

NOISE_M2 = 0.01  # floating-point residue of overlay operations (a 10 cm square)
DEFAULT_SLIVER_M2 = 10.0
DEFAULT_SNAP_M = 0.5
MIN_SHARED_M = 0.01  # two grids are neighbours when they share this much boundary


class EditRefused(InvalidInput):
    """An edit that would break the partition; ``shape`` is where (metric CRS)."""

    def __init__(self, message: str, shape: BaseGeometry | None = None, **details) -> None:
        super().__init__(message, **details)
        self.shape = shape


def clean(geom: BaseGeometry | None) -> shapely.MultiPolygon:
    """The polygonal parts of ``geom`` above noise, as one valid MultiPolygon."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    parts = shapely.get_parts(shapely.make_valid(geom))
    polygons = []
    for part in parts:
        if part.geom_type == "GeometryCollection":
            polygons += [p for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
        elif part.geom_type == "MultiPolygon":
            polygons += list(shapely.get_parts(part))
        elif part.geom_type == "Polygon":
            polygons.append(part)
    polygons = [_without_tiny_holes(p) for p in polygons if p.area >= NOISE_M2]
    return shapely.MultiPolygon(polygons)


def _without_tiny_holes(polygon: shapely.Polygon) -> shapely.Polygon:
    holes = [r for r in polygon.interiors if shapely.Polygon(r).area >= NOISE_M2]
    return shapely.Polygon(polygon.exterior, holes)


def parts(geom: BaseGeometry) -> int:
    return len(clean(geom).geoms)


def split(grid: BaseGeometry, line: BaseGeometry, *, snap_m: float = DEFAULT_SNAP_M,
          sliver_m2: float = DEFAULT_SLIVER_M2) -> list[shapely.MultiPolygon]:
    """The pieces a drawn line cuts ``grid`` into, largest first. The line's ends are
    extended by ``snap_m`` so that a line drawn to the boundary by hand reaches it; parts
    of a multi-part grid the line does not cut stay with the largest piece."""
    if line.geom_type not in ("LineString", "MultiLineString"):
        raise EditRefused("a split needs a line (LineString)", field="geometry")
    blade = shapely.union_all([_extended(part, snap_m) for part in shapely.get_parts(line)])
    blade = shapely.snap(blade, grid, snap_m)
    pieces: list[BaseGeometry] = []
    uncut: list[BaseGeometry] = []
    for part in clean(grid).geoms:
        cut = [p for p in shapely.get_parts(split_by_line(part, blade))
               if p.area >= NOISE_M2]
        (pieces if len(cut) > 1 else uncut).extend(cut if len(cut) > 1 else [part])
    if len(pieces) < 2:
        raise EditRefused("the line does not cut the grid in two: draw it across the grid "
                          "from one edge to another", line, field="geometry")
    pieces.sort(key=lambda p: -p.area)
    small = [p for p in pieces if p.area < sliver_m2]
    if small:
        raise EditRefused(f"the cut leaves a piece of {small[0].area:.1f} m² (under "
                          f"{sliver_m2:g} m²): draw the line elsewhere", small[0],
                          field="geometry")
    pieces[0] = shapely.union_all([pieces[0], *uncut])
    return [clean(p) for p in pieces]


def _extended(line: shapely.LineString, by: float) -> shapely.LineString:
    coords = np.asarray(line.coords, dtype=float)
    if len(coords) < 2 or by <= 0:
        return line
    for end, inner in ((0, 1), (-1, -2)):
        direction = coords[end] - coords[inner]
        length = math.hypot(*direction[:2])
        if length > 0:
            coords[end] = coords[end] + direction / length * by
    return shapely.LineString(coords)


def merge(grids: dict[str, BaseGeometry]) -> shapely.MultiPolygon:
    """The union of grids that are connected through shared boundaries."""
    if len(grids) < 2:
        raise EditRefused("a merge needs at least two grids", field="grids")
    codes = list(grids)
    geoms = np.array([clean(grids[c]) for c in codes], dtype=object)
    joined = {0}
    frontier = [0]
    while frontier:
        i = frontier.pop()
        shared = shapely.length(shapely.intersection(geoms[i].boundary, geoms))
        for j in np.flatnonzero(shared >= MIN_SHARED_M):
            if int(j) not in joined:
                joined.add(int(j))
                frontier.append(int(j))
    apart = [codes[i] for i in range(len(codes)) if i not in joined]
    if apart:
        raise EditRefused(f"grids {', '.join(apart)} share no boundary with "
                          f"{codes[0]}: only neighbouring grids merge",
                          shapely.union_all(geoms), field="grids", grids=apart)
    return clean(shapely.union_all(geoms))


def reshape(target: str, drawn: BaseGeometry, grids: dict[str, BaseGeometry],
            extent: BaseGeometry | None, *, clip: bool = False,
            snap_m: float = DEFAULT_SNAP_M, sliver_m2: float = DEFAULT_SLIVER_M2
            ) -> dict[str, shapely.MultiPolygon]:
    """Give grid ``target`` the shape ``drawn`` and its neighbours what follows: the
    area it gains is taken from them (or from uncovered land inside ``extent``, the
    community); each piece it loses goes to the neighbour sharing most boundary with it.

    ``grids`` holds the target and every grid of its community near the drawing;
    ``clip`` cuts the drawing to the community instead of refusing what reaches out.
    Returns the new shape of every grid that changed."""
    old = clean(grids[target])
    others = {c: clean(g) for c, g in grids.items() if c != target}
    reference = shapely.union_all([g.boundary for g in others.values()] + [old.boundary])
    drawn = clean(shapely.snap(clean(drawn), reference, snap_m))
    if drawn.is_empty:
        raise EditRefused("the drawn shape has no area", field="geometry")
    covered = shapely.union_all([old, *others.values()])
    allowed = covered if extent is None else shapely.union(covered, clean(extent))
    outside = clean(shapely.difference(drawn, allowed))
    if outside.area >= sliver_m2 and not clip:
        raise EditRefused(f"the drawing reaches {outside.area:.0f} m² outside the grid's "
                          "community: grids never cross community boundaries", outside,
                          field="geometry")
    drawn = clean(shapely.intersection(drawn, allowed))
    gained = clean(shapely.difference(drawn, old))
    lost = clean(shapely.difference(old, drawn))
    changed: dict[str, BaseGeometry] = {}
    for code, geom in others.items():
        if geom.intersects(gained) and shapely.intersection(geom, gained).area >= NOISE_M2:
            changed[code] = shapely.difference(geom, gained)
    kept: list[BaseGeometry] = []
    for piece in lost.geoms:
        neighbour = _longest_border(piece, {c: changed.get(c, g) for c, g in others.items()})
        if neighbour is not None:
            changed[neighbour] = shapely.union(changed.get(neighbour, others[neighbour]), piece)
        elif piece.area < sliver_m2:
            kept.append(piece)  # an artefact of drawing by hand: it stays
        else:
            raise EditRefused(f"the change would leave {piece.area:.0f} m² in no grid: "
                              "give that land to a neighbouring grid", piece,
                              field="geometry")
    changed[target] = shapely.union_all([drawn, *kept])
    result = {code: clean(geom) for code, geom in changed.items()}
    moved = sum(abs(result[c].area - clean(grids[c]).area) for c in result)
    if moved < NOISE_M2 and result[target].symmetric_difference(old).area < sliver_m2:
        raise EditRefused("the edit changes nothing", field="geometry")
    check_pieces(result, grids)
    return result


def _longest_border(piece: BaseGeometry, candidates: dict[str, BaseGeometry]) -> str | None:
    best, longest = None, MIN_SHARED_M
    for code, geom in candidates.items():
        if geom.is_empty or not geom.intersects(piece.buffer(MIN_SHARED_M)):
            continue
        shared = shapely.intersection(piece.boundary, geom.buffer(MIN_SHARED_M)).length
        if shared > longest:
            best, longest = code, shared
    return best


def check_pieces(after: dict[str, BaseGeometry], before: dict[str, BaseGeometry]) -> None:
    """No grid emptied or cut into more pieces than it had."""
    for code, geom in after.items():
        if geom.is_empty:
            raise EditRefused(f"the edit would take all of grid {code}: merge it instead",
                              clean(before[code]), field="geometry", grids=[code])
        if code in before and parts(geom) > max(parts(before[code]), 1):
            raise EditRefused(f"the edit would cut grid {code} into {parts(geom)} pieces: a "
                              "grid is one contiguous area", geom, field="geometry",
                              grids=[code])
