"""Grid linking by the database: insert, update, move, boundary rule, plan changes."""

import time

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gridgis.gis.errors import NotFound
from gridgis.gis.linking import (
    LINKED_TABLES,
    GridIndex,
    TimeLimit,
    publish_plan,
    relink,
    unassigned_counts,
)
from tests.helpers import X0, Y0, add_grid, add_incident, add_plan, fishnet, grid_of, square


def test_insert_links_point_to_containing_grid(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    incident = add_incident(conn, X0 + 150, Y0 + 50)
    assert grid_of(conn, "incidents", incident) == grids["G001000"]


def test_point_outside_every_grid_is_unassigned(conn):
    plan = add_plan(conn)
    fishnet(conn, plan, 2, 2)
    incident = add_incident(conn, X0 - 500, Y0 - 500)
    assert grid_of(conn, "incidents", incident) is None


def test_moving_a_point_relinks_it(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    incident = add_incident(conn, X0 + 50, Y0 + 50)
    conn.execute(sa.text("UPDATE incidents SET geom = ST_Translate(geom, 100, 0) WHERE id = :i"),
                 {"i": incident})
    assert grid_of(conn, "incidents", incident) == grids["G001000"]


def test_clients_cannot_set_grid_id_by_hand(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    incident = add_incident(conn, X0 + 50, Y0 + 50)
    conn.execute(sa.text("UPDATE incidents SET grid_id = :g WHERE id = :i"),
                 {"g": grids["G001000"], "i": incident})
    assert grid_of(conn, "incidents", incident) == grids["G000000"]


def test_point_on_shared_edge_goes_to_smallest_code(conn):
    plan = add_plan(conn)
    right = add_grid(conn, plan, "B", square(1, 0))
    left = add_grid(conn, plan, "A", square(0, 0))
    on_edge = add_incident(conn, X0 + 100, Y0 + 50)
    assert grid_of(conn, "incidents", on_edge) == left
    assert right != left


def test_point_on_vertex_shared_by_four_grids_goes_to_smallest_code(conn):
    plan = add_plan(conn)
    ids = {code: add_grid(conn, plan, code, square(c, r))
           for code, c, r in (("D", 0, 0), ("C", 1, 0), ("B", 0, 1), ("A", 1, 1))}
    corner = add_incident(conn, X0 + 100, Y0 + 100)
    assert grid_of(conn, "incidents", corner) == ids["A"]


def test_polygon_entity_is_located_by_point_on_surface(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    building = conn.execute(sa.text(
        "INSERT INTO buildings (geom) VALUES (ST_Multi(ST_GeomFromText(:w, 32635))) "
        "RETURNING id"), {"w": shapely.box(X0 + 110, Y0 + 10, X0 + 190, Y0 + 90).wkt}
    ).scalar_one()
    assert grid_of(conn, "buildings", building) == grids["G001000"]


def test_only_the_published_plan_links(conn):
    draft = add_plan(conn, "draft", state="draft")
    add_grid(conn, draft, "X", square(0, 0))
    incident = add_incident(conn, X0 + 50, Y0 + 50)
    assert grid_of(conn, "incidents", incident) is None


def test_changing_a_grid_relinks_entities_in_old_and_new_area(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    incident = add_incident(conn, X0 + 150, Y0 + 50)
    conn.execute(sa.text("UPDATE grids SET geom = ST_Multi(ST_GeomFromText(:w, 32635)) "
                         "WHERE id = :g"),
                 {"w": shapely.box(X0, Y0, X0 + 200, Y0 + 100).wkt, "g": grids["G000000"]})
    assert grid_of(conn, "incidents", incident) == grids["G000000"]
    conn.execute(sa.text("DELETE FROM grids WHERE id = :g"), {"g": grids["G000000"]})
    assert grid_of(conn, "incidents", incident) == grids["G001000"]


def test_publishing_a_plan_retires_the_old_one_and_relinks(conn):
    old = add_plan(conn, "old")
    add_grid(conn, old, "OLD", square(0, 0, 1000))
    new = add_plan(conn, "new", state="draft")
    new_grids = fishnet(conn, new, 10, 10)
    incident = add_incident(conn, X0 + 250, Y0 + 350)
    conn.execute(sa.text("SELECT gridgis_publish_plan(:p)"), {"p": new})
    states = dict(conn.execute(sa.text("SELECT name, state FROM grid_plans")).all())
    assert states == {"old": "retired", "new": "published"}
    assert grid_of(conn, "incidents", incident) == new_grids["G002003"]


def test_only_one_plan_can_be_published(conn):
    add_plan(conn, "a")
    try:
        with conn.begin_nested():
            add_plan(conn, "b")
    except sa.exc.IntegrityError as exc:
        assert "grid_plans_one_published" in str(exc)
    else:
        raise AssertionError("a second published plan was accepted")


def test_relink_repairs_links_written_by_a_trusted_writer(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'on', true)"))
    incident = add_incident(conn, X0 + 150, Y0 + 50)
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'off', true)"))
    assert grid_of(conn, "incidents", incident) is None
    assert relink(conn) == 1
    assert grid_of(conn, "incidents", incident) == grids["G001000"]


def test_relinking_whole_tables_agrees_with_the_single_row_rule(conn):
    """The set-based relink against gridgis_grid_at, which links one row at a time:
    points on shared edges and vertices, in an overlap, outside every grid, polygons."""
    first = add_plan(conn, "first")
    fishnet(conn, first, 1, 1)
    plan = add_plan(conn, "second", state="draft")
    for col in reversed(range(4)):  # ids do not follow codes
        for row in reversed(range(3)):
            add_grid(conn, plan, f"G{(col * 3 + row) * 5 % 12:02d}", square(col, row))
    add_grid(conn, plan, "A-overlap", shapely.box(X0 + 150, Y0 + 50, X0 + 250, Y0 + 150))
    add_grid(conn, plan, "Z-overlap", shapely.box(X0 + 250, Y0 + 150, X0 + 350, Y0 + 250))
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'on', true)"))
    conn.execute(sa.text("""
        INSERT INTO incidents (category, occurred_at, geom)
        SELECT 'property_crime', now(), ST_SetSRID(ST_MakePoint(:x0 + x, :y0 + y), 32635)
        FROM generate_series(-50, 450, 25) x, generate_series(-50, 350, 25) y"""),
        {"x0": X0, "y0": Y0})
    conn.execute(sa.text("""
        INSERT INTO buildings (geom)
        SELECT ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(:x0 + x, :y0 + y), 32635), 30))
        FROM generate_series(0, 400, 50) x, generate_series(0, 300, 50) y"""),
        {"x0": X0, "y0": Y0})
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'off', true)"))
    assert publish_plan(conn, plan) > 0
    for table in ("incidents", "buildings"):
        disagree = conn.execute(sa.text(
            f"SELECT count(*) FILTER (WHERE grid_id IS DISTINCT FROM gridgis_grid_at(geom)),"
            f" count(*) FILTER (WHERE grid_id IS NULL), count(*) FROM {table}")).one()
        assert disagree[0] == 0, table
        assert 0 < disagree[1] < disagree[2], table  # some outside, most inside
    assert relink(conn) == 0


def test_an_area_relink_finds_a_polygon_in_a_grid_outside_the_area(conn):
    """A building meets the area (in grid A) but lies, by its point on surface, in grid
    B, which does not meet the area: relinking the area links it to B."""
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 3, 1)
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'on', true)"))
    building = conn.execute(sa.text(
        "INSERT INTO buildings (geom) VALUES (ST_Multi(ST_GeomFromText(:w, 32635))) "
        "RETURNING id"), {"w": shapely.box(X0 + 10, Y0 + 40, X0 + 290, Y0 + 60).wkt}
    ).scalar_one()
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'off', true)"))
    area = shapely.box(X0 + 20, Y0 + 45, X0 + 40, Y0 + 55)
    assert relink(conn, shapely.to_wkb(area)) == 1
    assert grid_of(conn, "buildings", building) == conn.execute(sa.text(
        "SELECT gridgis_grid_at(geom) FROM buildings WHERE id = :b"), {"b": building}
    ).scalar_one() == grids["G001000"]


def test_grid_index_agrees_with_the_database(conn):
    plan = add_plan(conn)
    fishnet(conn, plan, 5, 5)
    rng = np.random.default_rng(7)
    xs = np.concatenate([rng.uniform(X0 - 50, X0 + 550, 400), X0 + np.arange(0, 600, 100.0)])
    ys = np.concatenate([rng.uniform(Y0 - 50, Y0 + 550, 400), Y0 + np.arange(0, 600, 100.0)])
    # also exact grid edges and vertices
    xs = np.concatenate([xs, X0 + 100 * rng.integers(0, 6, 200), X0 + rng.uniform(0, 500, 200)])
    ys = np.concatenate([ys, Y0 + rng.uniform(0, 500, 200), Y0 + 100 * rng.integers(0, 6, 200)])
    index = GridIndex.load(conn)
    ours = index.locate(shapely.points(xs, ys))
    theirs = conn.execute(sa.text(
        "SELECT coalesce(gridgis_grid_at(ST_SetSRID(ST_MakePoint(x, y), 32635)), -1) "
        "FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS t(x, y)"),
        {"xs": xs.tolist(), "ys": ys.tolist()}).scalars().all()
    assert ours.tolist() == theirs


def test_relink_goes_table_by_table_and_an_area_limits_it(conn):
    plan = add_plan(conn)
    grids = fishnet(conn, plan, 2, 1)
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'on', true)"))
    west = add_incident(conn, X0 + 50, Y0 + 50)
    east = add_incident(conn, X0 + 150, Y0 + 50)
    conn.execute(sa.text("SELECT set_config('gridgis.trusted_grid_id', 'off', true)"))
    told: list[str] = []
    assert relink(conn, shapely.to_wkb(square(1, 0)), progress=told.append) == 1
    assert told == list(LINKED_TABLES)
    assert grid_of(conn, "incidents", east) == grids["G001000"]
    assert grid_of(conn, "incidents", west) is None  # outside the area: not relinked
    assert unassigned_counts(conn)["incidents"] == 1
    assert relink(conn) == 1


def test_publish_plan_switches_plans_and_relinks_with_progress(conn):
    first = add_plan(conn, "first")
    fishnet(conn, first, 1, 1)
    second = add_plan(conn, "second", state="draft")
    moved = add_grid(conn, second, "B", square(0, 0).union(square(1, 0)))
    incident = add_incident(conn, X0 + 150, Y0 + 50)
    assert grid_of(conn, "incidents", incident) is None
    told: list[str] = []
    assert publish_plan(conn, second, progress=told.append) == 1
    assert len(told) == len(LINKED_TABLES)
    assert grid_of(conn, "incidents", incident) == moved
    states = dict(conn.execute(sa.text("SELECT name, state FROM grid_plans")).all())
    assert states == {"first": "retired", "second": "published"}
    published = conn.execute(sa.text("SELECT code FROM published_grids")).scalars().all()
    assert published == ["B"]


def test_publishing_a_missing_plan_is_not_found(conn):
    with pytest.raises(NotFound):
        publish_plan(conn, 424242)


def test_a_time_limit_bounds_the_whole_run_not_each_statement(conn):
    limit = TimeLimit(conn, 300)
    limit.next_statement()
    conn.execute(sa.text("SELECT pg_sleep(0.1)"))  # within the budget
    time.sleep(0.3)  # the budget is spent
    limit.next_statement()
    with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
        conn.execute(sa.text("SELECT pg_sleep(0.05)"))
