"""An empty boolean cell means the column's default, not NULL (which a NOT NULL column
refused with a database error)."""

from __future__ import annotations

import sqlalchemy as sa

from gridgis.gis.importing import Mapping, import_file
from tests.helpers import X0, Y0


def test_empty_flags_take_their_defaults(seeded, tmp_path):
    db, _ = seeded
    path = tmp_path / "people.csv"
    path.write_text("name,x,y,community_correction,synthetic\n"
                    f"甲,{X0 + 10},{Y0 + 10},,\n"
                    f"乙,{X0 + 20},{Y0 + 20},true,yes\n", encoding="utf-8")
    report = import_file(db, "people", path, mapping=Mapping(crs="EPSG:32635"))
    assert report.inserted == 2
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT name, community_correction, synthetic FROM people "
            "WHERE name IN ('甲', '乙') ORDER BY name")).all()
    assert [tuple(r) for r in rows] == [("乙", True, True), ("甲", False, False)]
    workers = tmp_path / "workers.csv"
    workers.write_text("name,active\n丙,\n丁,false\n", encoding="utf-8")
    assert import_file(db, "workers", workers).inserted == 2
    with db.engine.connect() as conn:
        active = dict(conn.execute(sa.text(
            "SELECT name, active FROM workers WHERE name IN ('丙', '丁')")).all())
    assert active == {"丙": True, "丁": False}
