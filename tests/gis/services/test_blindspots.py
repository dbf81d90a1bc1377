"""The blind-spot service on the seeded district: visits and patrol tracks imported like
any other kind (CSV and GPX), then every audit read from PostGIS."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from gridgis.gis.errors import Conflict, ImportRejected, InvalidInput
from gridgis.gis.importing import Mapping, import_file
from gridgis.gis.services.blindspots import AuditOptions, BlindSpotService, publish_blocker
from tests.helpers import X0, Y0, add_draft_without, add_street_and_post

GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<trk><name>unit 1</name><trkseg>
{points}
</trkseg></trk></gpx>"""


@pytest.fixture
def district(seeded, tmp_path):
    """The seeded district with a street along the middle row, a patrol base at its west
    end, a household with an external id and its visit."""
    db, ids = seeded
    with db.engine.begin() as conn:
        add_street_and_post(conn, post_x=0)
        conn.execute(sa.text(
            "INSERT INTO households (unit, external_id, geom) VALUES ('9', 'H-9', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + 150, "y": Y0 + 150})
        conn.execute(sa.text("UPDATE workers SET employee_no = 'W1'"))
    visits = tmp_path / "visits.csv"
    visits.write_text("household,worker,when,outcome\nH-9,W1,2026-03-01T10:00:00Z,verified\n",
                      encoding="utf-8")
    report = import_file(db, "visits", visits, mapping=Mapping(fields={
        "household_id_ref": "household", "worker_ref": "worker", "visited_at": "when"}))
    assert report.inserted == 1
    return db, ids


def test_visits_are_imported_with_their_references_checked(district, tmp_path):
    db, _ = district
    with db.engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT v.outcome, h.external_id, w.employee_no FROM visits v "
            "JOIN households h ON h.id = v.household_id JOIN workers w ON w.id = v.worker_id"
        )).one()
    assert tuple(row) == ("verified", "H-9", "W1")
    bad = tmp_path / "bad.csv"
    bad.write_text("household_id_ref,visited_at,outcome\nH-404,2026-03-01T10:00:00Z,maybe\n",
                   encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, "visits", bad)
    reasons = " ".join(r.reason for r in rejected.value.rejections)
    assert "maybe" in reasons or "H-404" in reasons


def test_patrol_tracks_import_from_gpx(district, tmp_path):
    db, _ = district
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(32635, 4326, always_xy=True)
    points = []
    for minute in range(10):
        lon, lat = to_wgs84.transform(X0 + 20 + minute, Y0 + 20)
        points.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}">'
                      f"<time>2026-06-30T08:{minute:02d}:00Z</time></trkpt>")
    path = tmp_path / "unit1.gpx"
    path.write_text(GPX.format(points="\n".join(points)), encoding="utf-8")
    report = import_file(db, "patrol_points", path, mapping=Mapping(
        layer="track_points", fields={"recorded_at": "time"},
        constants={"unit": "巡逻1组", "shift": "2026-06-30"}))
    assert report.inserted == 10
    service = BlindSpotService(db.engine, 32635)
    assert service.patrol(AuditOptions(hot_class=90)).has_data


def test_every_audit_on_the_seeded_district(district):
    db, ids = district
    service = BlindSpotService(db.engine, 32635)
    options = AuditOptions()
    coverage = service.coverage(options)
    assert not coverage.coverage.has_gaps_or_overlaps
    assert coverage.outside_counts["incidents"] == 1  # the fire far outside
    outside = coverage.outside.set_index("kind").loc["incidents"]
    assert outside["nearest"] == "110101001001000" and outside["distance_m"] > 600

    duty = service.responsibility(options).grids.set_index("code")
    assert duty.loc["110101001001000", "workers"] == 1
    assert (duty.drop(index="110101001001000")["workers"] == 0).all()
    assert duty.loc["110101001001101", "households"] == 1  # the household H-9 at (150, 150)
    assert duty.loc["110101001001100", "households"] == 0

    reach = service.reach(options)
    assert len(reach.posts) == 1 and reach.pieces == 1
    minutes = reach.grids.set_index("code")
    # The street runs through the middle row; the other grids have no street.
    assert minutes.loc["110101001001001", "foot_beyond_share"] == 0
    assert np.isnan(minutes.loc["110101001001000", "foot_beyond_share"])
    # On foot at 5 km/h, 2 minutes are 166.7 m and 2.5 minutes 208.3 m from the post at
    # the street's west end: a third of the middle grid's stretch (100-200 m) is beyond
    # the first, none beyond the second; the east grid's (200-300 m) all and 92 %.
    for limit, middle, east in ((2.0, 1 / 3, 1.0), (2.5, 0.0, 0.9167)):
        shares = service.reach(AuditOptions(foot_min=limit)).grids.set_index("code")
        assert shares.loc["110101001001101", "foot_beyond_share"] == \
            pytest.approx(middle, abs=0.03)  # measured every 5 m
        assert shares.loc["110101001001201", "foot_beyond_share"] == \
            pytest.approx(east, abs=0.03)
        assert shares.loc["110101001001001", "foot_beyond_share"] == 0

    cameras = service.cameras(options)
    assert len(cameras.views) == 1
    card = service.scorecard(options)
    assert len(card.grids) == 9
    assert card.grids.iloc[0]["status"] == "red"
    assert set(card.communities["code"]) == {"110101001001"}
    assert not card.coverage_failed


def test_a_draft_with_a_gap_cannot_be_published_unless_forced(district):
    db, ids = district
    with db.engine.begin() as conn:
        add_draft_without(conn, "draft", missing=(1, 1))
    service = BlindSpotService(db.engine, 32635)
    report = service.coverage(AuditOptions(plan="draft"))
    assert report.coverage.gap_m2 == pytest.approx(100 * 100)
    assert report.outside_counts["people"] == 1  # the resident at (150, 150)
    with pytest.raises(Conflict, match="uncovered"):
        publish_blocker(service, "draft", force=False, reason=None)
    with pytest.raises(InvalidInput, match="reason"):
        publish_blocker(service, "draft", force=True, reason=" ")
    assert "uncovered" in publish_blocker(service, "draft", force=True, reason="storm")
    assert publish_blocker(service, "2026", force=False, reason=None) is None


def test_options_are_validated():
    with pytest.raises(InvalidInput, match="hot_class"):
        AuditOptions(hot_class=80)
    with pytest.raises(InvalidInput, match="households_min"):
        AuditOptions(households_min=600, households_max=500)
