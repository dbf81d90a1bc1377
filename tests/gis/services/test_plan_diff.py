"""Who changes grid between two plans, against a reference computed here with shapely:
points on shared edges and vertices, in an overlap, outside every grid, in a grid that
is removed, and both ways of placing an entity in plan a (its link when a is the
published plan, its location otherwise)."""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import box

from gridgis.gis.services.plan_diff import plan_diff
from tests.helpers import X0, Y0, add_grid, add_plan, square

PUBLISHED = {f"G{c}{r}": square(c, r) for c in range(3) for r in range(2)}
DRAFT = {
    **{code: shape for code, shape in PUBLISHED.items()
       if code not in ("G00", "G10", "G20", "G21")},
    "G00": box(X0, Y0, X0 + 150, Y0 + 100),  # G00's east boundary moved...
    "G10": box(X0 + 150, Y0, X0 + 200, Y0 + 100),  # ...into G10
    "Z20": square(2, 0),  # G20 renamed, G21 removed
    "B-over": box(X0 + 50, Y0 + 100, X0 + 120, Y0 + 160),  # overlaps G01 and G11
}


def expected_moves(conn: sa.Connection, a: dict, b: dict, links: dict[int, str | None]
                   ) -> dict[tuple[str | None, str | None], int]:
    same = {c for c in a if c in b and a[c].equals_exact(b[c], 0)}

    def located(shapes: dict, point) -> str | None:
        return min((c for c, s in shapes.items() if c not in same and s.intersects(point)),
                   default=None)

    counts: dict[tuple[str | None, str | None], int] = {}
    for row_id, x, y in conn.execute(sa.text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM incidents")):
        point = shapely.Point(x, y)
        before = links[row_id] if links else located(a, point)
        before = None if before in same else before
        after = located(b, point)
        if before != after:
            counts[(before, after)] = counts.get((before, after), 0) + 1
    return counts


def test_moves_agree_with_a_reference_by_link_and_by_location(conn):
    published = add_plan(conn, "published")
    for code, shape in PUBLISHED.items():
        add_grid(conn, published, code, shape)
    draft = add_plan(conn, "draft", state="draft")
    for code, shape in DRAFT.items():
        add_grid(conn, draft, code, shape)
    copy = add_plan(conn, "copy", state="draft")
    for code, shape in PUBLISHED.items():
        add_grid(conn, copy, code, shape)
    steps = np.arange(-25, 326, 12.5)  # on every edge and vertex, and outside
    conn.execute(sa.text("""
        INSERT INTO incidents (category, occurred_at, geom)
        SELECT 'property_crime', now(), ST_SetSRID(ST_MakePoint(:x0 + x, :y0 + y), 32635)
        FROM unnest(CAST(:xs AS float8[])) x, unnest(CAST(:ys AS float8[])) y"""),
        {"x0": X0, "y0": Y0, "xs": list(steps), "ys": list(steps[steps < 230])})
    links = dict(conn.execute(sa.text(
        "SELECT e.id, g.code FROM incidents e LEFT JOIN grids g ON g.id = e.grid_id")).all())

    by_link = expected_moves(conn, PUBLISHED, DRAFT, links)
    assert by_link[("G20", "Z20")] > 0 and by_link[("G10", "G00")] > 0
    assert by_link[(None, "B-over")] > 0  # from unchanged G01 / G11 into the overlap
    assert by_link[("G21", None)] > 0
    for a, b, links_used in ((published, draft, links), (copy, draft, {})):
        found = plan_diff(conn, a, b).moves
        incidents = found[found["kind"] == "incidents"]
        got = {(f, t): int(n) for f, t, n in incidents[["from_grid", "to_grid", "n"]]
               .astype(object).where(incidents[["from_grid", "to_grid", "n"]].notna(), None)
               .itertuples(index=False)}
        assert got == expected_moves(conn, PUBLISHED, DRAFT, links_used), (a, b)
    summary = plan_diff(conn, published, draft).summary()
    assert summary["incidents_moved"] == sum(by_link.values())
