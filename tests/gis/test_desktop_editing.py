"""Editing a draft in QGIS: plain SQL on the plan's view as the desktop planner role,
checked by the database at commit (migration 0014), and undone like any edit."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from gridgis.gis.drafts import draft_from
from gridgis.gis.services.plan_edits import DraftEditor
from tests.gis.test_database_roles import _as, _fails
from tests.helpers import X0, Y0

G00, G10, G22 = "110101001001000", "110101001001100", "110101001001202"


def envelope(x0: float, y0: float, x1: float, y1: float) -> str:
    return (f"ST_Multi(ST_MakeEnvelope({X0 + x0}, {Y0 + y0}, {X0 + x1}, {Y0 + y1}, "
            "32635))")


def refused(engine: sa.Engine, *statements: str) -> psycopg.Error:
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    assert isinstance(caught.value.orig, psycopg.errors.CheckViolation), caught.value.orig
    return caught.value.orig


def areas(db, plan: int) -> dict[str, float]:
    with db.engine.connect() as conn:
        return {c: round(a) for c, a in conn.execute(sa.text(
            "SELECT code, ST_Area(geom) FROM grids WHERE plan_id = :p"), {"p": plan})}


def test_desktop_edits_through_the_view_are_checked_at_commit_and_undone(seeded):
    db, ids = seeded
    with db.engine.begin() as conn:
        draft, _ = draft_from(conn, ids["plan"], "QGIS 草案")
        community = conn.execute(sa.text("SELECT community_id FROM grids WHERE id = :g"),
                                 {"g": ids["grid00"]}).scalar_one()
    view = f"gis.plan_{draft}"
    planner = _as(db, "gridgis_planner")
    with planner.begin() as conn:  # topological editing: both sides of the boundary
        conn.execute(sa.text(f"UPDATE {view} SET geom = {envelope(0, 0, 130, 100)} "
                             f"WHERE code = '{G00}'"))
        conn.execute(sa.text(f"UPDATE {view} SET geom = {envelope(130, 0, 200, 100)} "
                             f"WHERE code = '{G10}'"))
    assert areas(db, draft)[G00] == 13000 and areas(db, draft)[G10] == 7000

    overlap = refused(planner, f"UPDATE {view} SET geom = {envelope(0, 0, 160, 100)} "
                               f"WHERE code = '{G00}'")
    assert f"grid {G00} overlaps grid {G10} by 3000 m²" in str(overlap)
    assert overlap.diag.message_detail.startswith("POLYGON")
    gap = refused(planner, f"UPDATE {view} SET geom = {envelope(0, 0, 110, 100)} "
                           f"WHERE code = '{G00}'")
    assert "leaves 2000 m² in no grid" in str(gap)
    assert "leaves 10000 m² in no grid" in str(refused(
        planner, f"DELETE FROM {view} WHERE code = '{G22}'"))
    assert "cut into 2 pieces" in str(refused(
        planner, f"UPDATE {view} SET geom = ST_Multi(ST_Difference("
                 f"geom, {envelope(60, -1, 70, 101)})) WHERE code = '{G00}'"))
    message = _fails(planner, f"UPDATE gis.plan_{ids['plan']} SET name = 'x'",
                     psycopg.errors.InsufficientPrivilege)
    assert "is not a draft" in message  # the published plan is read-only
    message = _fails(planner, f"UPDATE public.grids SET plan_id = {draft} "
                              f"WHERE plan_id = {ids['plan']}",
                     psycopg.errors.InsufficientPrivilege)  # nor can it be taken
    assert "is not a draft" in message
    assert "another plan or community" in str(refused(
        planner, f"UPDATE {view} SET community_id = NULL WHERE code = '{G00}'"))
    assert "cut into 2 pieces" in str(refused(
        planner, f"INSERT INTO {view} (code, geom) VALUES ('two', ST_Multi(ST_Union("
                 f"{envelope(300, 0, 310, 10)}, {envelope(320, 0, 330, 10)})))"))

    with planner.begin() as conn:  # a split: one grid shrunk, one added, in one commit
        conn.execute(sa.text(f"UPDATE {view} SET geom = {envelope(0, 0, 130, 50)} "
                             f"WHERE code = '{G00}'"))
        conn.execute(sa.text(f"INSERT INTO {view} (code, community_id, geom) VALUES "
                             f"('{G00}b', {community}, {envelope(0, 50, 130, 100)})"))
    assert areas(db, draft)[f"{G00}b"] == 6500
    planner.dispose()
    with db.engine.connect() as conn:
        log = conn.execute(sa.text(
            "SELECT op, actor FROM plan_edits WHERE plan_id = :p ORDER BY id"),
            {"p": draft}).all()
    assert [tuple(r) for r in log] == [("desktop", "gridgis_planner")] * 2
    with db.engine.begin() as conn:  # undo, as from the API or the map
        DraftEditor(conn, 32635, draft, "test").undo()
    assert f"{G00}b" not in areas(db, draft) and areas(db, draft)[G00] == 13000
    with db.engine.begin() as conn:
        DraftEditor(conn, 32635, draft, "test").undo()
    assert areas(db, draft)[G00] == 10000 and areas(db, draft)[G10] == 10000
    with db.engine.connect() as conn:
        comment = conn.execute(sa.text("SELECT obj_description(CAST(:v AS regclass))"),
                               {"v": view}).scalar_one()
    assert comment == "grid plan QGIS 草案 (draft)"


QGIS_PYTHON = "/usr/bin/python3"  # Debian's, with python3-qgis


def test_qgis_saves_a_moved_boundary_and_reports_refused_edits(seeded):
    """QGIS's own PostgreSQL provider (Debian's python3-qgis) on the draft's view, as the
    desktop planner: a boundary moved in both grids is saved, an overlap is refused with
    the reason, the published plan cannot be saved."""
    db, ids = seeded
    found = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True)
    if found.returncode != 0:
        raise RuntimeError("QGIS's Python bindings are missing: scripts/bootstrap.sh --test "
                           "installs python3-qgis")
    with db.engine.begin() as conn:
        draft, _ = draft_from(conn, ids["plan"], "QGIS")
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conninfo = psycopg.conninfo.conninfo_to_dict(url)

    def wkt(x0: float, x1: float) -> str:
        return (f"MULTIPOLYGON((({X0 + x0} {Y0}, {X0 + x1} {Y0}, {X0 + x1} {Y0 + 100}, "
                f"{X0 + x0} {Y0 + 100}, {X0 + x0} {Y0})))")

    args = {"conninfo": conninfo, "draft": draft, "published": ids["plan"],
            "move_boundary": {G00: wkt(0, 130), G10: wkt(130, 200)},
            "overlap": {G00: wkt(0, 160)}}
    script = Path(__file__).parent / "qgis" / "edit_draft.py"
    ran = subprocess.run([QGIS_PYTHON, str(script), json.dumps(args)], capture_output=True,
                         text=True, timeout=120,
                         env={**os.environ, "PGOPTIONS": "-c role=gridgis_planner",
                              "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""})
    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert report["valid"] and report["count"] == 9 and report["crs"] == "EPSG:32635"
    assert report["boundary_moved"] == []
    assert areas(db, draft)[G00] == 13000 and areas(db, draft)[G10] == 7000
    assert any(f"grid {G00} overlaps grid {G10} by 3000 m²" in e for e in report["overlap"])
    assert areas(db, draft)[G00] == 13000  # the refused edit left nothing behind
    assert not report["published_saved"]
    assert any("is not a draft" in e for e in report["published_errors"])
    with db.engine.connect() as conn:
        log = conn.execute(sa.text(
            "SELECT op, actor FROM plan_edits WHERE plan_id = :p"), {"p": draft}).all()
    assert [tuple(r) for r in log] == [("desktop", "gridgis_planner")]
