"""Incidents counted per 64 m cell and category by the database (migration 0022): the
cells agree with the incidents after every kind of write, merge without losing
anything, are counted again when a partition went round the triggers; tiles take
their clusters from them only when the selection allows it."""

import math

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from gridgis.api.app import create_app
from gridgis.gis import db as db_module
from gridgis.gis.importing import import_file, loader
from gridgis.gis.incident_cells import (
    counted_incidents,
    disagreeing_categories,
    tend_incident_cells,
)
from gridgis.gis.partitions import place_incidents
from tests.accounts import api_client
from tests.api.test_feature_tiles import tile_path
from tests.gis.test_partitions import EAST, WEST, districts_file, incidents_file
from tests.helpers import X0, Y0

CELL_M = 64
INSERT = sa.text("""
    INSERT INTO incidents (category, occurred_at, geom)
    SELECT (ARRAY['dispute', 'fire', 'drugs'])[1 + i % 3],
           timestamptz '2025-03-01' + i * interval '7 hours',
           ST_SetSRID(ST_MakePoint(:x0 + (i * 37.3) % 900, :y0 + (i * 53.9) % 700), 32635)
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i""")


def expected(conn) -> pd.DataFrame:
    """The cells as computed here from the incidents' coordinates."""
    rows = pd.DataFrame(conn.execute(sa.text(
        "SELECT category, ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents")).mappings().all(),
        columns=["category", "x", "y"])
    rows["cell_x"] = np.floor(rows["x"] / CELL_M).astype(int)
    rows["cell_y"] = np.floor(rows["y"] / CELL_M).astype(int)
    return rows.groupby(["cell_x", "cell_y", "category"]).agg(
        n=("x", "size"), sum_x=("x", "sum"), sum_y=("y", "sum")).sort_index()


def kept(conn) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(sa.text(
        "SELECT cell_x, cell_y, category, sum(n) AS n, sum(sum_x) AS sum_x, "
        "sum(sum_y) AS sum_y FROM incident_cells GROUP BY 1, 2, 3 HAVING sum(n) <> 0"
    )).mappings().all(), columns=["cell_x", "cell_y", "category", "n", "sum_x", "sum_y"]
    ).astype({"n": int}).set_index(["cell_x", "cell_y", "category"]).sort_index()


def agree(conn) -> None:
    want, have = expected(conn), kept(conn)
    pd.testing.assert_index_equal(have.index, want.index)
    assert (have["n"] == want["n"]).all()
    np.testing.assert_allclose(have[["sum_x", "sum_y"]], want[["sum_x", "sum_y"]],
                               rtol=1e-12)


def test_the_cells_follow_every_write(db, tmp_path, monkeypatch):
    with db.engine.begin() as conn:
        conn.execute(INSERT, {"x0": X0, "y0": Y0, "first": 1, "last": 300})
        conn.execute(INSERT, {"x0": X0, "y0": Y0, "first": 301, "last": 500})
        agree(conn)
        rows = conn.execute(sa.text("SELECT count(*) FROM incident_cells")).scalar_one()
        conn.execute(sa.text("UPDATE incidents SET status = 'closed'"))  # no place changed
        assert conn.execute(sa.text("SELECT count(*) FROM incident_cells")
                            ).scalar_one() == rows
        conn.execute(sa.text("UPDATE incidents SET geom = ST_Translate(geom, 130, -70) "
                             "WHERE id % 10 = 0"))
        conn.execute(sa.text("UPDATE incidents SET category = 'traffic' WHERE id % 7 = 0"))
        conn.execute(sa.text("DELETE FROM incidents WHERE id % 11 = 0"))
        agree(conn)
        assert counted_incidents(conn) == conn.execute(sa.text(
            "SELECT count(*) FROM incidents")).scalar_one()
        assert counted_incidents(conn, ("fire", "traffic")) == conn.execute(sa.text(
            "SELECT count(*) FROM incidents WHERE category IN ('fire', 'traffic')")
        ).scalar_one()
    incidents_file(tmp_path / "i.csv", n=150)
    with monkeypatch.context() as patched:  # the import's own merge and check left out
        patched.setattr(loader, "tend_incident_cells_quietly", lambda engine: None)
        import_file(db, "incidents", tmp_path / "i.csv")
    with db.engine.connect() as conn:
        agree(conn)
    import_file(db, "incidents", tmp_path / "i.csv")  # again: rows updated, then merged
    with db.engine.begin() as conn:
        agree(conn)
        assert conn.execute(sa.text(
            "SELECT count(*) FROM incident_cells WHERE NOT merged")).scalar_one() == 0
        assert conn.execute(sa.text(
            "SELECT count(*) = count(DISTINCT (cell_x, cell_y, category)) "
            "FROM incident_cells")).scalar_one()
        conn.execute(sa.text("TRUNCATE incidents"))
        assert conn.execute(sa.text("SELECT count(*) FROM incident_cells")).scalar_one() == 0


def test_merging_loses_nothing_and_leaves_a_row_per_cell(db):
    with db.engine.begin() as conn:
        for first in range(1, 400, 50):  # a statement's deltas each
            conn.execute(INSERT, {"x0": X0, "y0": Y0, "first": first, "last": first + 49})
        conn.execute(sa.text("DELETE FROM incidents WHERE id % 5 = 0"))
        deltas = conn.execute(sa.text("SELECT count(*) FROM incident_cells")).scalar_one()
        assert tend_incident_cells(conn) is False  # they agreed: nothing counted again
        agree(conn)
        merged = conn.execute(sa.text("SELECT count(*) FROM incident_cells")).scalar_one()
        assert merged == len(expected(conn)) < deltas


def test_rows_moving_between_partitions_keep_their_cells(db, tmp_path, monkeypatch):
    """Incidents imported before their district move into it when it is drawn (an
    update of their district through incidents), then into partitions made for them
    (statements on the partitions themselves), then across districts when moved: the
    cells agree throughout, without being counted again."""
    monkeypatch.setattr(loader, "tend_incident_cells_quietly", lambda engine: None)
    monkeypatch.setattr(db_module, "tend_incident_cells_quietly", lambda engine: None)
    incidents_file(tmp_path / "i.csv", n=160, years=(2024, 2025))
    import_file(db, "incidents", tmp_path / "i.csv")
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST), ("E", EAST)))
    with db.engine.begin() as conn:
        place_incidents(conn)
        assert conn.execute(sa.text(
            "SELECT count(DISTINCT tableoid) FROM incidents")).scalar_one() >= 4
        agree(conn)
        moved = conn.execute(sa.text(
            "UPDATE incidents SET geom = ST_Translate(geom, 500, 0), category = 'fire' "
            "WHERE id % 3 = 0 RETURNING tableoid::regclass::text")).scalars().all()
        assert moved
        agree(conn)
        assert disagreeing_categories(conn) == []


def test_cells_are_counted_again_after_a_partition_is_dropped(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    incidents_file(tmp_path / "i.csv", n=120, years=(2024, 2025))
    import_file(db, "incidents", tmp_path / "i.csv")
    with db.engine.begin() as conn:
        west = conn.execute(sa.text("SELECT id FROM areas WHERE code = 'W'")).scalar_one()
        conn.execute(sa.text(f"ALTER TABLE incidents_d{west} DETACH PARTITION "
                             f"incidents_d{west}_2024"))
        conn.execute(sa.text(f"DROP TABLE incidents_d{west}_2024"))  # an archived year
        assert disagreeing_categories(conn)
        assert tend_incident_cells(conn) is True
        assert disagreeing_categories(conn) == []
        agree(conn)


def add_bogus_cell(db) -> None:
    """A delta of 1,000 fires in the cell of the seeded incidents' first: a tile that
    counts from the cells shows them, one that clusters the rows does not. (Added
    once the service has started: its start counts the cells again when they
    disagree with the incidents.)"""
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO incident_cells VALUES (:cx, :cy, 'fire', 1000, :sx, :sy, false)"),
            {"cx": math.floor((X0 + 20) / CELL_M), "cy": math.floor((Y0 + 20) / CELL_M),
             "sx": 1000 * (X0 + 20), "sy": 1000 * (Y0 + 20)})


@pytest.mark.parametrize(("role", "scope", "params", "from_cells"), [
    ("admin", None, {}, True),
    ("admin", None, {"category": "fire"}, True),
    ("admin", None, {"filter": "category IN ('fire', 'dispute')"}, True),
    ("admin", None, {"datetime": "2000-01-01T00:00:00Z/.."}, False),
    ("admin", None, {"filter": "category <> 'dispute'"}, False),
    ("grid_worker", ["110101001001000"], {}, False),  # scoped: clustered from its rows
])
def test_tiles_count_from_the_cells_only_where_the_selection_allows(
        seeded, api_settings, role, scope, params, from_cells):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, role, scope) as client:
        add_bogus_cell(db)
        answer = client.get(tile_path("incidents", 12), params=params)
        assert answer.status_code in (200, 204), answer.text
        counted = sum(f["properties"]["count"] for f in mapbox_vector_tile.decode(
            answer.content).get("incidents", {}).get("features", []))
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
    assert (counted >= 1000) is from_cells
    assert counted <= rows + 1000
