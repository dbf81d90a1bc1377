"""Proposing a plan: grids drawn along street blocks, inside each community, with every
grid's households between a minimum and a maximum (``planning.regions``), written as a
new draft, and a report against the current plan.

Reads happen in short transactions; the regionalisation runs with no connection held;
the draft is written in one transaction at the end (nothing is written if anything
fails). With ``source`` (a plan to start from), each block starts in the grid that holds
it there, grids already within bounds are kept, and a grid keeps its code when it keeps
most of its households, so that as few people as possible change grid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from ..errors import Conflict, InvalidInput, NotFound
from ..planning.blocks import lattice_blocks, split_heavy, street_blocks
from ..planning.regions import balanced_regions


@dataclass(frozen=True)
class GenerateOptions:
    name: str
    min_households: int
    max_households: int
    community: str | None = None  # one community's code (default: every community)
    follow: Literal["streets", "lattice"] = "streets"
    cell_m: float = 100.0  # lattice cells, and where a community has no roads
    keep: tuple[str, ...] = ()  # grid codes (of the source plan) kept as they are
    source: str | None = None  # plan to start from (default: from scratch)
    method: Literal["bisect", "maxp"] = "bisect"
    seed: int = 0
    min_block_m2: float = 500.0

    def check(self) -> None:
        if not 1 <= self.min_households <= self.max_households:
            raise InvalidInput("need 1 <= --min-households <= --max-households",
                               field="min_households")
        if self.max_households < 1.5 * self.min_households:
            raise InvalidInput("--max-households must be at least 1.5 × --min-households: "
                               "grids are made of whole street blocks, and a narrower band "
                               "cannot be met", field="max_households")
        if not 10 <= self.cell_m <= 5000:
            raise InvalidInput("--cell-m is between 10 and 5000 m", field="cell_m")


@dataclass
class PlanFigures:
    grids: int
    min: int
    max: int
    cv: float
    polsby_popper: float  # mean
    out_of_bounds: int
    not_contiguous: int  # grids in more than one piece


@dataclass
class GenerateReport:
    plan_id: int
    name: str
    communities: int
    proposed: PlanFigures
    current: PlanFigures | None  # the source plan, else the published one
    current_name: str | None
    people_moved: int | None  # people who would change grid against the current plan
    people: int
    out_of_bounds: list[str] = field(default_factory=list)  # codes and households
    seconds: float = 0.0


@dataclass
class _Inputs:
    communities: gpd.GeoDataFrame  # id, code, geometry
    roads: gpd.GeoSeries
    homes: gpd.GeoDataFrame  # households=1 per point
    people: gpd.GeoSeries
    current: gpd.GeoDataFrame | None  # code, community_id, geometry
    current_name: str | None
    kept: gpd.GeoDataFrame  # code, name, community_id, geometry
    start_from: bool  # start from ``current`` (else it is only compared with)
    others: gpd.GeoDataFrame  # grids of other communities, copied as they are


def generate(engine: sa.Engine, srid: int, options: GenerateOptions,
             progress: Callable[[str], None] | None = None) -> GenerateReport:
    options.check()
    started = time.monotonic()
    with engine.connect() as conn:
        inputs = _read(conn, srid, options)
    rows: list[dict] = []
    for community in inputs.communities.itertuples():
        rows += _community_grids(community, inputs, options, srid)
        if progress:
            progress(community.code)
    grids = gpd.GeoDataFrame(rows, geometry="geometry", crs=srid) if rows else \
        gpd.GeoDataFrame({"code": [], "community_id": [], "households": []},
                         geometry=[], crs=srid)
    kept = inputs.kept.assign(households=_count_in(inputs.homes, inputs.kept))
    proposed = pd.concat([grids, kept[grids.columns.intersection(kept.columns)]],
                         ignore_index=True)
    with engine.begin() as conn:
        plan_id = _write(conn, srid, options,
                         pd.concat([proposed, inputs.others], ignore_index=True))
    report = _report(plan_id, options, proposed, inputs)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _community_grids(community, inputs: _Inputs, options: GenerateOptions,
                     srid: int) -> list[dict]:
    area = community.geometry
    kept_here = inputs.kept[inputs.kept["community_id"] == community.id]
    if len(kept_here):
        area = shapely.difference(area, shapely.union_all(kept_here.geometry.values))
    if area.is_empty or area.area < options.min_block_m2:
        return []
    roads = inputs.roads.values[inputs.roads.sindex.query(area, predicate="intersects")]
    if options.follow == "streets" and len(roads):
        blocks = street_blocks(np.asarray(roads), area, options.min_block_m2, srid)
    else:
        blocks = lattice_blocks(area, options.cell_m, srid)
    homes = inputs.homes.iloc[inputs.homes.sindex.query(area, predicate="intersects")]
    initial = None
    low, high = options.min_households, options.max_households
    # Blocks too heavy for the bounds' slack are cut in strips, only as finely as needed:
    # first those over the maximum, then (if some grid is still out of bounds) those over
    # the band's width, then over half of it.
    for most, part in ((high, (low + high) / 2), (high - low, (high - low) / 2),
                       ((high - low) / 2, (high - low) / 4)):
        units = split_heavy(blocks, homes, "households", most, part)
        units["households"] = _count_in(homes, units)
        if inputs.current is not None and inputs.start_from:
            initial = _start(units, inputs.current, community.id)
        regions = balanced_regions(units, "households", low, high, method=options.method,
                                   initial=initial, seed=options.seed)
        if not regions.under and not regions.over:
            break
    if (regions.under or regions.over) and initial is not None:
        # the current plan's grids could not all be repaired: draw afresh if that works
        fresh = balanced_regions(units, "households", low, high, method=options.method,
                                 seed=options.seed)
        if len(fresh.under) + len(fresh.over) < len(regions.under) + len(regions.over):
            regions = fresh
    blocks = units
    merged = blocks.assign(region=regions.labels).dissolve(by="region",
                                                           aggfunc={"households": "sum"})
    codes = _codes(merged, community.code, inputs, homes, kept_here)
    return [{"code": code, "community_id": community.id, "households": int(row.households),
             "geometry": shapely.make_valid(row.geometry)}
            for code, row in zip(codes, merged.itertuples(), strict=True)]


def _start(blocks: gpd.GeoDataFrame, current: gpd.GeoDataFrame, community_id: int
           ) -> np.ndarray:
    """Each block's region in the current plan: the grid of its interior point (-1)."""
    here = current[current["community_id"] == community_id].reset_index(drop=True)
    labels = np.full(len(blocks), -1, dtype=int)
    if len(here):
        points = blocks.geometry.representative_point().values
        block_idx, grid_idx = here.sindex.query(points, predicate="within")
        labels[block_idx] = grid_idx
    return labels


def _codes(regions: gpd.GeoDataFrame, community_code: str, inputs: _Inputs,
           homes: gpd.GeoDataFrame, kept: gpd.GeoDataFrame) -> list[str]:
    """A region keeps the code of the current grid most of whose households it holds,
    when it also holds most of its own from there; the others get the community's
    code and the next free three-digit number."""
    taken = set(kept["code"])
    codes: list[str | None] = [None] * len(regions)
    if inputs.current is not None and len(homes):
        current = inputs.current.reset_index(drop=True)
        home_idx, grid_idx = current.sindex.query(homes.geometry.values, predicate="within")
        old = pd.Series(current["code"].to_numpy()[grid_idx], index=home_idx)
        region_idx_h, region_idx_r = regions.reset_index(drop=True).sindex.query(
            homes.geometry.values, predicate="within")
        new = pd.Series(region_idx_r, index=region_idx_h)
        pairs = pd.DataFrame({"old": old, "new": new}).dropna()
        counts = pairs.groupby(["new", "old"]).size().rename("n").reset_index()
        counts["of_new"] = counts["n"] / counts.groupby("new")["n"].transform("sum")
        counts["of_old"] = counts["n"] / counts.groupby("old")["n"].transform("sum")
        for row in counts[(counts["of_new"] > 0.5) & (counts["of_old"] > 0.5)].itertuples():
            if row.old not in taken:
                codes[int(row.new)] = str(row.old)
                taken.add(str(row.old))
    number = 1
    for i in range(len(codes)):
        while codes[i] is None:
            candidate = f"{community_code}{number:03d}"
            number += 1
            if candidate not in taken:
                codes[i] = candidate
                taken.add(candidate)
    return [c for c in codes if c is not None]


def _count_in(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Points per polygon; a point on a shared edge counts once, in the first."""
    counts = np.zeros(len(polygons), dtype=int)
    if len(points) and len(polygons):
        point_idx, poly_idx = polygons.reset_index(drop=True).sindex.query(
            points.geometry.values, predicate="intersects")
        _, first = np.unique(point_idx, return_index=True)
        counts += np.bincount(poly_idx[first], minlength=len(polygons))
    return counts


def _read(conn: sa.Connection, srid: int, options: GenerateOptions) -> _Inputs:
    communities = _frame(conn, srid, "SELECT id, code, ST_AsBinary(geom) AS wkb FROM areas "
                                     "WHERE level = 'community' AND (CAST(:c AS text) IS NULL "
                                     "OR code = :c) ORDER BY code", {"c": options.community})
    if communities.empty:
        raise NotFound(f"no community {options.community}" if options.community else
                       "the district has no communities (areas of level community): grids "
                       "are drawn inside communities")
    bind = {"extent": shapely.union_all(communities.geometry.values).wkb, "srid": srid}
    roads = _frame(conn, srid, """
        SELECT ST_AsBinary(geom) AS wkb FROM roads
        WHERE ST_Intersects(geom, ST_GeomFromWKB(:extent, :srid))
          AND highway NOT IN ('footway', 'path', 'steps', 'cycleway', 'service', 'track',
                              'corridor', 'bridleway')""", bind).geometry
    homes = _frame(conn, srid, """
        SELECT ST_AsBinary(geom) AS wkb FROM households
        WHERE ST_Intersects(geom, ST_GeomFromWKB(:extent, :srid))""", bind) \
        .assign(households=1)
    people = _frame(conn, srid, """
        SELECT ST_AsBinary(geom) AS wkb FROM people
        WHERE ST_Intersects(geom, ST_GeomFromWKB(:extent, :srid))""", bind).geometry
    source = options.source
    if source is None:
        source = conn.execute(sa.text(
            "SELECT name FROM grid_plans WHERE state = 'published'")).scalar()
    current, plan_id = None, None
    if source is not None:
        plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                               {"n": source}).scalar()
        if plan_id is None:
            raise NotFound(f"there is no grid plan named {source!r}", field="from")
        current = _frame(conn, srid, "SELECT code, name, community_id, ST_AsBinary(geom) "
                                     "AS wkb FROM grids WHERE plan_id = :p ORDER BY code",
                         {"p": plan_id})
    kept = current[current["code"].isin(options.keep)] if current is not None else None
    missing = sorted(set(options.keep) - set(kept["code"] if kept is not None else []))
    if missing:
        raise NotFound(f"--keep-grid: {', '.join(missing)} not in plan {source!r}",
                       field="keep")
    if kept is None:
        kept = gpd.GeoDataFrame({"code": [], "name": [], "community_id": []}, geometry=[],
                                crs=srid)
    others = gpd.GeoDataFrame({"code": [], "name": [], "community_id": []}, geometry=[],
                              crs=srid)
    if current is not None:
        inside = current["community_id"].isin(communities["id"])
        others = current[~inside].reset_index(drop=True)  # --community: the rest stays
        current = current[inside]
    return _Inputs(communities, roads, homes, people, current, source,
                   kept.reset_index(drop=True), start_from=options.source is not None,
                   others=others)


def _frame(conn: sa.Connection, srid: int, sql: str, params: dict) -> gpd.GeoDataFrame:
    frame = pd.DataFrame([r._mapping for r in conn.execute(sa.text(sql), params)])
    if frame.empty:
        return gpd.GeoDataFrame(geometry=[], crs=srid)
    geometry = shapely.from_wkb(frame.pop("wkb").to_numpy())
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=srid)


def _write(conn: sa.Connection, srid: int, options: GenerateOptions,
           grids: gpd.GeoDataFrame) -> int:
    if conn.execute(sa.text("SELECT 1 FROM grid_plans WHERE name = :n"),
                    {"n": options.name}).first():
        raise Conflict(f"a grid plan named {options.name!r} exists already", field="name")
    description = (f"generated: {options.min_households}–{options.max_households} "
                   f"households per grid along {options.follow}"
                   + (f", from {options.source}" if options.source else ""))
    plan_id = conn.execute(sa.text(
        "INSERT INTO grid_plans (name, description, state) VALUES (:n, :d, 'draft') "
        "RETURNING id"), {"n": options.name, "d": description}).scalar_one()
    if len(grids):
        conn.execute(sa.text(
            "INSERT INTO grids (plan_id, code, name, community_id, geom) VALUES "
            "(:p, :code, :name, :c, ST_Multi(ST_GeomFromWKB(:wkb, :srid)))"),
            [{"p": plan_id, "code": r.code, "name": _text(getattr(r, "name", None)),
              "c": None if pd.isna(r.community_id) else int(r.community_id),
              "wkb": r.geometry.wkb, "srid": srid} for r in grids.itertuples()])
    return int(plan_id)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) \
        else str(value)


def _report(plan_id: int, options: GenerateOptions, proposed: gpd.GeoDataFrame,
            inputs: _Inputs) -> GenerateReport:
    households = proposed["households"].to_numpy()
    bad = (households < options.min_households) | (households > options.max_households)
    current = inputs.current
    return GenerateReport(
        plan_id=plan_id, name=options.name, communities=len(inputs.communities),
        proposed=_figures(proposed, inputs.homes, options),
        current=None if current is None else _figures(current, inputs.homes, options),
        current_name=inputs.current_name,
        people_moved=None if current is None else _moved(inputs.people, current, proposed),
        people=len(inputs.people),
        out_of_bounds=[f"{c} ({h})" for c, h, b in
                       zip(proposed["code"], households, bad, strict=True) if b])


def _moved(people: gpd.GeoSeries, before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> int:
    """People who would change grid: all but those whose old and new grid are each
    other's largest share (a grid split in two keeps its people in the larger part; of
    grids merged, the largest keeps its people), and those in a grid in neither plan."""
    points = people.values
    pairs = pd.DataFrame({"old": _grid_of(points, before), "new": _grid_of(points, after)})
    both = pairs[(pairs["old"] >= 0) & (pairs["new"] >= 0)]
    counts = both.groupby(["old", "new"]).size().rename("n").reset_index()
    largest_new = counts.loc[counts.groupby("old")["n"].idxmax(), ["old", "new"]]
    largest_old = counts.loc[counts.groupby("new")["n"].idxmax(), ["old", "new"]]
    mutual = largest_new.merge(largest_old, on=["old", "new"]).merge(counts)
    located = int(((pairs["old"] >= 0) | (pairs["new"] >= 0)).sum())
    return located - int(mutual["n"].sum())


def _grid_of(points: np.ndarray, grids: gpd.GeoDataFrame) -> np.ndarray:
    found = np.full(len(points), -1, dtype=int)
    if len(points) and len(grids):
        point_idx, grid_idx = grids.reset_index(drop=True).sindex.query(
            points, predicate="within")
        found[point_idx] = grid_idx
    return found


def _figures(grids: gpd.GeoDataFrame, homes: gpd.GeoDataFrame,
             options: GenerateOptions) -> PlanFigures:
    households = _count_in(homes, grids).astype(float)
    area = shapely.area(grids.geometry.values)
    perimeter = shapely.length(grids.geometry.values)
    polsby = np.where(perimeter > 0, 4 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2, 0)
    mean = households.mean() if len(households) else 0.0
    return PlanFigures(
        grids=len(grids), min=int(households.min()) if len(grids) else 0,
        max=int(households.max()) if len(grids) else 0,
        cv=round(float(households.std() / mean), 4) if mean > 0 else 0.0,
        polsby_popper=round(float(polsby.mean()), 3) if len(grids) else 0.0,
        out_of_bounds=int(((households < options.min_households)
                           | (households > options.max_households)).sum()),
        not_contiguous=int((shapely.get_num_geometries(grids.geometry.values) > 1).sum()))
