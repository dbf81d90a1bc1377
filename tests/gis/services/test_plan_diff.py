"""Who changes grid between two plans, against a reference computed here with shapely:
points on shared edges and vertices, in an overlap, outside every grid, in a grid that
is removed, and both ways of placing an entity in plan a (its link when a is the
published plan, its location otherwise)."""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import box

from gridgis.gis.services.plan_diff import (
    _LINKED,
    _LOCATED,
    _MOVES,
    _POINT,
    MOVED_KINDS,
    plan_diff,
)
from tests.helpers import X0, Y0, add_grid, add_plan, square

PUBLISHED = {f"G{c}{r}": square(c, r) for c in range(3) for r in range(2)}
DRAFT = {
    **{code: shape for code, shape in PUBLISHED.items()
       if code not in ("G00", "G10", "G20", "G21")},
    "G00": box(X0, Y0, X0 + 150, Y0 + 100),  # G00's east boundary moved...
    "G10": box(X0 + 150, Y0, X0 + 200, Y0 + 100),  # ...into G10
    "Z20": square(2, 0),  # G20 renamed, G21 removed
    "B-over": box(X0 + 50, Y0 + 100, X0 + 120, Y0 + 160),  # overlaps G01 and G11
    "Z-out": box(X0 + 300, Y0, X0 + 350, Y0 + 100),  # beyond the published plan
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


def add_plans(conn: sa.Connection) -> tuple[int, int]:
    """The published plan and the draft (ids)."""
    ids = []
    for name, shapes, state in (("published", PUBLISHED, "published"),
                                ("draft", DRAFT, "draft")):
        ids.append(add_plan(conn, name, state=state))
        for code, shape in shapes.items():
            add_grid(conn, ids[-1], code, shape)
    return ids[0], ids[1]


def test_moves_agree_with_a_reference_by_link_and_by_location(conn):
    published, draft = add_plans(conn)
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
    assert by_link[(None, "Z-out")] > 0  # no link before
    for a, b, links_used in ((published, draft, links), (copy, draft, {})):
        found = plan_diff(conn, a, b).moves
        incidents = found[found["kind"] == "incidents"]
        got = {(f, t): int(n) for f, t, n in incidents[["from_grid", "to_grid", "n"]]
               .astype(object).where(incidents[["from_grid", "to_grid", "n"]].notna(), None)
               .itertuples(index=False)}
        assert got == expected_moves(conn, PUBLISHED, DRAFT, links_used), (a, b)
    summary = plan_diff(conn, published, draft).summary()
    assert summary["incidents_moved"] == sum(by_link.values())


def test_moves_from_links_equal_the_general_query_for_every_kind(conn):
    """The published side read from the links (one pass) against the general query (a
    FULL JOIN of both sides), for points and for polygons located by point on surface."""
    published, draft = add_plans(conn)
    rng = np.random.default_rng(4)
    for x, y in rng.uniform(-30, 360, (300, 2)).round(-1):  # many on edges
        conn.execute(sa.text(
            "INSERT INTO places (category, name, geom) VALUES ('school', 'p', "
            "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(:x, :y), 32635), 12)))"),
            {"x": X0 + x, "y": Y0 + y})
        conn.execute(sa.text(
            "INSERT INTO households (unit, geom) VALUES "
            "('1', ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + x, "y": Y0 + y})
    found = plan_diff(conn, published, draft).moves
    for kind in MOVED_KINDS:
        general = _MOVES.format(
            in_a=_LINKED.format(open="a_open", table=kind),
            in_b=_LOCATED.format(open="b_open", table=kind, point=_POINT.get(kind, "true")))
        expected = sorted((tuple(r) for r in conn.execute(
            sa.text(general), {"a": published, "b": draft}).all()), key=str)
        mine = found[found["kind"] == kind][["from_grid", "to_grid", "n"]]
        got = sorted(((f if isinstance(f, str) else None, t if isinstance(t, str) else None,
                       int(n)) for f, t, n in mine.itertuples(index=False)), key=str)
        assert got == expected, kind
    assert len(found[found["kind"] == "places"]) > 3
