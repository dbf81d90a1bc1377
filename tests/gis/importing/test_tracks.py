"""GPS fixes imported as tracks: impossible jumps and fixes far outside the district are
rejected like any bad row, the rest snapped to the streets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridgis.gis.errors import ImportRejected
from gridgis.gis.importing import Mapping, import_file
from tests.helpers import X0, Y0, add_street_and_post

HEADER = "unit,recorded_at,x,y\n"


def fixes(rows) -> str:
    return HEADER + "".join(f"{u},2026-06-30T08:{m:02d}:{s:02d}Z,{X0 + x},{Y0 + y}\n"
                            for u, m, s, x, y in rows)


@pytest.fixture
def district(seeded):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_street_and_post(conn, post_x=0)  # a street along y = 150
    return db


def test_a_jump_out_and_back_and_a_fix_far_outside_are_rejected(district, tmp_path):
    path = tmp_path / "track.csv"
    path.write_text(fixes([
        ("A", 0, 0, 10, 150), ("A", 1, 0, 90, 150),
        ("A", 2, 0, 290, 20_000),  # 20 km out and back within two minutes
        ("A", 3, 0, 170, 150), ("A", 4, 0, 250, 150),
        ("B", 0, 0, 5_000, 150),  # 4.7 km east of the district
        ("B", 5, 0, 200, 150),
        # a jump as a track's second fix: the first, before it, is good
        ("C", 0, 0, 20, 150), ("C", 0, 10, 20, 1100), ("C", 0, 20, 30, 150)]),
        encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_file(district, "patrol_points", path, mapping=Mapping(crs="EPSG:32635"))
    reasons = {r.row: r.reason for r in rejected.value.rejections}
    assert set(reasons) == {3, 6, 9}, reasons
    assert "impossible speed" in reasons[3] and "km/h" in reasons[3]
    assert "outside the district" in reasons[6]
    with district.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM patrol_points")).scalar_one() == 0


def test_good_fixes_are_snapped_to_the_street_keeping_the_gps_position(district, tmp_path):
    path = tmp_path / "track.csv"
    path.write_text(fixes([("A", 0, 0, 10, 160), ("A", 1, 0, 90, 140),
                           ("A", 2, 0, 120, 250)]), encoding="utf-8")  # 100 m off: kept
    report = import_file(district, "patrol_points", path, mapping=Mapping(crs="EPSG:32635"))
    assert report.inserted == 3
    with district.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT ST_X(geom) - :x0 AS x, ST_Y(geom) - :y0 AS y, properties FROM "
            "patrol_points ORDER BY recorded_at"), {"x0": X0, "y0": Y0}).all()
    assert [(round(r.x), round(r.y)) for r in rows] == [(10, 150), (90, 150), (120, 250)]
    assert rows[0].properties["snapped_m"] == pytest.approx(10.0)
    assert rows[0].properties["gps_y"] == pytest.approx(Y0 + 160)
    assert "snapped_m" not in rows[2].properties
