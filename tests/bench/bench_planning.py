"""Grid planning benchmark (issue #11), on a generated city in a throw-away cluster.

    .venv/bin/python tests/bench/bench_planning.py [--scale 1.0] [--skip-city]

The city (scale 1): a 10 km square district of 20 communities (2.5 km x 2 km), a
published plan of 10,000 grids of 100 m, one worker each, 120 + 120 streets (83 m
apart, so street blocks do not follow the grids), 1,000,000 households and 3,000,000
people at random points (10 % of the households in 30 dense clusters), 200,000 incidents
in the last year. Measured in one run, each against a baseline from the same run:

(a) validating a draft copy of the plan (the coverage audit: gaps, overlaps, grids
    crossing communities) (target <= 10 s), against the same check written as plain
    PostGIS SQL (self-join of intersecting grids, district minus the union);
(b) a split and a merge on the draft, each with the changed grids' live figures and
    the whole draft's balance, in its transaction (target <= 1 s each), against
    recomputing the figures of every grid of the draft;
(c) generating one community of about 50,000 households with 300-500 households per
    grid (target <= 30 s), by recursive bisection and by PySAL max-p (the library)
    with the same repair, and then the whole city (target <= 15 min);
(d) the diff of the published plan and the generated city plan (everything changed;
    target <= 30 s), against the diff with the draft after two edits;
(e) publishing the generated plan with relinking and carrying workers over (target
    <= 5 min), against relinking alone afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.gis.db import migrate
from gridgis.gis.drafts import draft_from
from gridgis.gis.linking import publish_plan, relink
from gridgis.gis.services.blindspots import AuditOptions, BlindSpotService
from gridgis.gis.services.plan_diff import plan_diff
from gridgis.gis.services.plan_editing import edit_outcome
from gridgis.gis.services.plan_edits import DraftEditor
from gridgis.gis.services.plan_figures import grid_figures
from gridgis.gis.services.plan_generate import GenerateOptions, generate
from gridgis.gis.services.plan_handover import publish_with_workers
from tests.bench.bench_blindspots import execute_all
from tests.bench.scratch import SRID, X0, Y0, scratch_database

SIDE = 10_000.0
TO_WGS84 = Transformer.from_crs(SRID, 4326, always_xy=True)


def build_city(conn: sa.Connection, scale: float) -> dict[str, int]:
    k = int(round(100 * scale ** 0.5))
    p = {"x0": X0, "y0": Y0, "side": SIDE, "srid": SRID, "k": k, "grid": SIDE / k,
         "streets": int(round(120 * scale ** 0.5)),
         "households": int(1_000_000 * scale), "people": int(3_000_000 * scale),
         "incidents": int(200_000 * scale)}
    p["step"] = SIDE / p["streets"]
    execute_all(conn, """
        INSERT INTO areas (level, code, name, geom) VALUES ('district', 'D', 'city',
            ST_Multi(ST_MakeEnvelope(:x0, :y0, :x0 + :side, :y0 + :side, :srid)));
        INSERT INTO areas (level, code, name, parent_id, geom)
        SELECT 'subdistrict', 'S' || i, 'S' || i, (SELECT id FROM areas WHERE code = 'D'),
               ST_Multi(ST_MakeEnvelope(:x0 + i * :side / 4, :y0,
                                        :x0 + (i + 1) * :side / 4, :y0 + :side, :srid))
        FROM generate_series(0, 3) i;
        INSERT INTO areas (level, code, name, parent_id, geom)
        SELECT 'community', 'C' || i || j, 'C', s.id,
               ST_Multi(ST_MakeEnvelope(:x0 + i * :side / 4, :y0 + j * :side / 5,
                                        :x0 + (i + 1) * :side / 4,
                                        :y0 + (j + 1) * :side / 5, :srid))
        FROM generate_series(0, 3) i CROSS JOIN generate_series(0, 4) j
        JOIN areas s ON s.code = 'S' || i.i;
        INSERT INTO grid_plans (name, state) VALUES ('city', 'draft');
        INSERT INTO grids (plan_id, code, community_id, geom)
        SELECT (SELECT id FROM grid_plans WHERE name = 'city'), 'G' || i || '-' || j,
               (SELECT id FROM areas WHERE code = 'C' || floor(i * 4 / :k)::int
                                                     || floor(j * 5 / :k)::int),
               ST_Multi(ST_MakeEnvelope(:x0 + i * :grid, :y0 + j * :grid,
                                        :x0 + (i + 1) * :grid, :y0 + (j + 1) * :grid, :srid))
        FROM generate_series(0, :k - 1) i, generate_series(0, :k - 1) j;
        INSERT INTO workers (name, employee_no) SELECT 'w', 'W' || id FROM grids;
        INSERT INTO grid_assignments (worker_id, grid_id)
        SELECT w.id, substr(w.employee_no, 2)::bigint FROM workers w
    """, p)
    publish_plan(conn, conn.execute(sa.text(
        "SELECT id FROM grid_plans WHERE name = 'city'")).scalar_one())
    conn.execute(sa.text("SELECT setseed(0.11)"))
    execute_all(conn, """
        INSERT INTO roads (highway, geom)
        SELECT 'residential', ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0 - 1, :y0 + i * :step),
                                         ST_MakePoint(:x0 + :side + 1, :y0 + i * :step)), :srid)
        FROM generate_series(1, :streets - 1) i
        UNION ALL
        SELECT 'residential', ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0 + i * :step, :y0 - 1),
                                         ST_MakePoint(:x0 + i * :step, :y0 + :side + 1)), :srid)
        FROM generate_series(1, :streets - 1) i;
        CREATE TEMP TABLE spots AS
        SELECT g, CASE WHEN g % 10 = 0
                       THEN :x0 + 500 + (g % 30) * 300 + (random() - 0.5) * 150
                       ELSE :x0 + random() * :side END AS x,
                  CASE WHEN g % 10 = 0
                       THEN :y0 + 500 + ((g * 7) % 30) * 300 + (random() - 0.5) * 150
                       ELSE :y0 + random() * :side END AS y
        FROM generate_series(1, :households) g;
        INSERT INTO households (unit, geom)
        SELECT '1', ST_SetSRID(ST_MakePoint(x, y), :srid) FROM spots;
        INSERT INTO people (name, community_correction, geom)
        SELECT 'p', m = 0 AND g % 300 = 0,
               ST_SetSRID(ST_MakePoint(x + m * 0.5, y), :srid)
        FROM spots, generate_series(0, 2) m
        WHERE g <= :people / 3;
        INSERT INTO incidents (category, occurred_at, geom)
        SELECT 'property_crime', now() - random() * interval '365 days',
               ST_SetSRID(ST_MakePoint(:x0 + random() * :side, :y0 + random() * :side), :srid)
        FROM generate_series(1, :incidents)
    """, p)
    return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("grids", "households", "people", "incidents", "roads")}


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def sql_validation(conn: sa.Connection, plan_id: int) -> tuple[float, float]:
    """The baseline: overlaps and gaps as plain PostGIS SQL."""
    overlap = conn.execute(sa.text("""
        SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom))), 0)
        FROM grids a JOIN grids b ON a.plan_id = b.plan_id AND a.id < b.id
             AND ST_Intersects(a.geom, b.geom)
        WHERE a.plan_id = :p"""), {"p": plan_id}).scalar_one()
    gap = conn.execute(sa.text("""
        SELECT ST_Area(ST_Difference((SELECT geom FROM areas WHERE level = 'district'),
                                     (SELECT ST_Union(geom) FROM grids WHERE plan_id = :p)))
        """), {"p": plan_id}).scalar_one()
    return float(overlap), float(gap)


def line(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "LineString", "coordinates": [list(TO_WGS84.transform(x0, y0)),
                                                  list(TO_WGS84.transform(x1, y1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--skip-city", action="store_true",
                        help="skip generating the whole city (and so (d)'s full diff and (e))")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with scratch_database() as (_, db, _work):
        migrate(db.engine, SRID)
        with db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            seconds, counts = timed(lambda: build_city(conn, args.scale))
        print(f"city built in {seconds:.0f} s: {counts}")
        with db.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        with db.engine.begin() as conn:
            published = conn.execute(sa.text(
                "SELECT id FROM grid_plans WHERE name = 'city'")).scalar_one()
            draft, _ = draft_from(conn, published, "draft")

        # (a) validation
        service = BlindSpotService(db.engine, SRID)
        ours, coverage = timed(lambda: service.coverage(AuditOptions(plan="draft")).coverage)
        with db.engine.connect() as conn:
            base, (overlap, gap) = timed(lambda: sql_validation(conn, draft))
        print(f"(a) validation of the draft ({counts['grids']:,} grids): {ours:.1f} s "
              f"(target <= 10 s); "
              f"plain SQL {base:.1f} s (×{base / ours:.2f}); gaps {coverage.gap_m2:.0f} m² / "
              f"SQL {gap:.0f} m², overlaps {coverage.overlap_m2:.0f} / {overlap:.0f} m²")
        results["validation_s"] = round(ours, 2)
        results["validation_sql_s"] = round(base, 2)

        # (b) a split and a merge with live figures
        k = int(round(100 * args.scale ** 0.5))
        grid = SIDE / k
        i, j = k * 37 // 100, k * 41 // 100
        x, y = X0 + i * grid, Y0 + j * grid

        def split():
            with db.engine.begin() as conn:
                done = DraftEditor(conn, SRID, draft, "bench").split(
                    f"G{i}-{j}", line(x - 2, y + grid * 0.4, x + grid + 2, y + grid * 0.4))
                return edit_outcome(conn, draft, done)

        def merge():
            with db.engine.begin() as conn:
                done = DraftEditor(conn, SRID, draft, "bench").merge(
                    [f"G{i}-{j}", f"G{i}-{j}-2"])
                return edit_outcome(conn, draft, done)

        split_s, split_out = timed(split)
        merge_s, merge_out = timed(merge)
        with db.engine.connect() as conn:
            every_s, every = timed(lambda: grid_figures(conn, draft))
        print(f"(b) split {split_s:.2f} s, merge {merge_s:.2f} s with figures and balance "
              f"(target <= 1 s); every grid's figures {every_s:.1f} s "
              f"(×{every_s / max(split_s, merge_s):.1f}); balance CV "
              f"{split_out['balance']['cv']} → {merge_out['balance']['cv']}, "
              f"{len(every)} grids")
        results.update(split_s=round(split_s, 2), merge_s=round(merge_s, 2),
                       all_figures_s=round(every_s, 2))
        with db.engine.begin() as conn:  # two edits to diff later
            editor = DraftEditor(conn, SRID, draft, "bench")
            editor.split(f"G{i}-{j}", line(x - 2, y + grid * 0.5, x + grid + 2,
                                            y + grid * 0.5))
            editor.merge([f"G{i}-{j + 2}", f"G{i}-{j + 3}"])

        # (c) generation
        community = "C12"
        options = GenerateOptions(name="one", community=community, min_households=300,
                                  max_households=500)
        one_s, one = timed(lambda: generate(db.engine, SRID, options))
        maxp_s, maxp = timed(lambda: generate(db.engine, SRID, GenerateOptions(
            name="one-maxp", community=community, min_households=300, max_households=500,
            method="maxp")))
        for name, s, report in (("bisection", one_s, one), ("max-p", maxp_s, maxp)):
            f = report.proposed
            print(f"(c) community {community} by {name}: {s:.1f} s (target <= 30 s), "
                  f"{f.grids} grids of {f.min}–{f.max} households, CV {f.cv}, "
                  f"Polsby-Popper {f.polsby_popper}, out of bounds {f.out_of_bounds}")
        print(f"    max-p / bisection time ×{maxp_s / one_s:.2f}")
        results.update(community_s=round(one_s, 1), community_maxp_s=round(maxp_s, 1),
                       community_grids=one.proposed.grids,
                       community_out_of_bounds=one.proposed.out_of_bounds)
        if not args.skip_city:
            city_s, city = timed(lambda: generate(db.engine, SRID, GenerateOptions(
                name="generated", min_households=300, max_households=500)))
            f = city.proposed
            print(f"(c) whole city: {city_s:.0f} s (target <= 900 s), {f.grids} grids of "
                  f"{f.min}–{f.max} households, CV {f.cv} (published plan "
                  f"{city.current.cv}), out of bounds {f.out_of_bounds}, people moved "
                  f"{city.people_moved:,} of {city.people:,}")
            results.update(city_s=round(city_s), city_grids=f.grids,
                           city_out_of_bounds=f.out_of_bounds)

        # (d) diff
        with db.engine.connect() as conn:
            small_s, small = timed(lambda: plan_diff(conn, published, draft))
            print(f"(d) diff published → draft after two edits: {small_s:.1f} s "
                  f"({small.summary()})")
            results["diff_draft_s"] = round(small_s, 1)
            if not args.skip_city:
                generated = conn.execute(sa.text(
                    "SELECT id FROM grid_plans WHERE name = 'generated'")).scalar_one()
                full_s, full = timed(lambda: plan_diff(conn, published, generated))
                print(f"(d) diff published → generated city plan: {full_s:.1f} s (target "
                      f"<= 30 s; ×{full_s / small_s:.1f} the small diff); "
                      f"{full.summary()}")
                results["diff_city_s"] = round(full_s, 1)

        # (e) publish
        if not args.skip_city:
            with db.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
                publish_s, (changed, handover) = timed(
                    lambda: publish_with_workers(conn, generated))
            with db.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
                relink_s, _ = timed(lambda: relink(conn))
            print(f"(e) publish with relink and workers: {publish_s:.0f} s (target <= 300 s); "
                  f"{changed:,} entities changed grid; {handover.summary()[:120]}; "
                  f"relink alone {relink_s:.0f} s (×{publish_s / relink_s:.2f})")
            results.update(publish_s=round(publish_s), relink_s=round(relink_s))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB")
    results["peak_mb"] = round(peak)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
