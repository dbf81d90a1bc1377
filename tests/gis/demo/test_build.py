"""The demo district built on a reduced setting (2 months of incidents)."""

import pytest
import sqlalchemy as sa

from gridgis.gis.db import Database, create_db_engine
from gridgis.gis.demo import DemoOptions, build_demo, demo_kind, load_model


@pytest.fixture(scope="module")
def demo(pg_server):
    name, url = pg_server.fresh(srid=None)
    db = Database(create_db_engine(url, statement_timeout_ms=600_000))
    summary = build_demo(db, DemoOptions(months=2, incident_scale=0.5))
    yield db, summary
    db.engine.dispose()
    pg_server.drop_database(name)


def scalar(db, sql: str, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_counts(demo):
    db, summary = demo
    counts = summary.counts
    assert counts["grids"] >= 30 and counts["buildings"] >= 450
    assert counts["people"] > 2 * counts["households"] * 0.9
    assert counts["things"] > 200 and counts["places"] > 1000
    assert demo_kind(db) == "demo"


@pytest.mark.parametrize("level", ["subdistrict", "community"])
def test_each_level_covers_the_district_without_gaps_or_overlaps(demo, level):
    db, _ = demo
    district = scalar(db, "SELECT ST_Area(geom) FROM areas WHERE level = 'district'")
    union = scalar(db, f"SELECT ST_Area(ST_Union(geom)) FROM areas WHERE level = '{level}'")
    total = scalar(db, f"SELECT sum(ST_Area(geom)) FROM areas WHERE level = '{level}'")
    assert union == pytest.approx(district, rel=1e-6)
    assert total == pytest.approx(district, rel=1e-6)  # sum = union: no overlaps


def test_grids_cover_the_district_and_nest_in_their_communities(demo):
    db, _ = demo
    district = scalar(db, "SELECT ST_Area(geom) FROM areas WHERE level = 'district'")
    assert scalar(db, "SELECT ST_Area(ST_Union(geom)) FROM published_grids") == \
        pytest.approx(district, rel=1e-6)
    assert scalar(db, "SELECT sum(ST_Area(geom)) FROM published_grids") == \
        pytest.approx(district, rel=1e-6)
    outside = scalar(db, """
        SELECT max(ST_Area(ST_Difference(g.geom, c.geom)))
        FROM published_grids g JOIN areas c ON c.id = g.community_id""")
    assert outside < 1.0  # m²: numerical noise only
    assert scalar(db, "SELECT count(*) FROM grids WHERE community_id IS NULL") == 0
    assert scalar(db, """SELECT count(*) FROM areas c LEFT JOIN areas s ON s.id = c.parent_id
                         WHERE c.level = 'community' AND s.level IS DISTINCT FROM
                         'subdistrict'""") == 0


def test_codes_follow_the_hierarchy(demo):
    db, _ = demo
    assert scalar(db, """
        SELECT count(*) FROM grids g JOIN areas c ON c.id = g.community_id
        JOIN areas s ON s.id = c.parent_id JOIN areas d ON d.id = s.parent_id
        WHERE NOT (g.code LIKE c.code || '___' AND c.code LIKE s.code || '___'
                   AND s.code LIKE d.code || '___' AND length(g.code) = 15)""") == 0


def test_every_building_person_and_incident_lies_in_exactly_one_grid(demo):
    db, _ = demo
    for table in ("buildings", "people", "households", "incidents", "places", "things"):
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE grid_id IS NULL") == 0, table
    assert scalar(db, """
        SELECT count(*) FROM people p
        WHERE (SELECT count(*) FROM published_grids g WHERE ST_Intersects(g.geom, p.geom))
              <> 1""") == 0


def test_grid_workloads_are_within_the_documented_range(demo):
    db, _ = demo
    floor = load_model()[0]["partition"]["grid_min_households"]
    low, high = (scalar(db, f"SELECT {f}(n) FROM (SELECT count(h.id) n FROM published_grids g "
                            "LEFT JOIN households h ON h.grid_id = g.id GROUP BY g.id) x")
                 for f in ("min", "max"))
    assert floor <= low and high <= 4 * floor


def test_every_grid_has_a_primary_worker(demo):
    db, _ = demo
    assert scalar(db, """SELECT count(*) FROM published_grids g WHERE NOT EXISTS (
        SELECT 1 FROM grid_assignments a WHERE a.grid_id = g.id AND a.role = 'primary')""") == 0


def test_synthetic_rows_are_marked_and_real_geography_is_attributed(demo):
    db, _ = demo
    assert scalar(db, "SELECT bool_and(synthetic) FROM people")
    assert scalar(db, "SELECT bool_and(synthetic) FROM incidents")
    assert scalar(db, "SELECT count(*) FROM people WHERE id_number IS NOT NULL") == 0
    assert "OpenStreetMap" in scalar(db, "SELECT value FROM gridgis_meta "
                                         "WHERE key = 'attribution'")
    assert scalar(db, "SELECT count(*) FROM roads") > 500


def test_an_account_per_role_signs_in_with_the_password_shown_once(demo):
    from gridgis.gis.access.accounts import sign_in
    from gridgis.gis.access.principal import Principal
    from gridgis.gis.access.roles import ROLES

    db, summary = demo
    assert sorted(a.role for a in summary.accounts) == sorted(ROLES)
    for account in summary.accounts:
        user, _, _ = sign_in(db.engine, account.name, account.password, Principal.anonymous())
        assert user.scope == account.scope
    scoped = {a.role: a.scope for a in summary.accounts}
    assert scalar(db, "SELECT level FROM areas WHERE code = :c",
                  c=scoped["patrol_leader"][0]) == "subdistrict"
    assert scalar(db, "SELECT count(*) FROM published_grids WHERE code = :c",
                  c=scoped["grid_worker"][0]) == 1


def test_the_blind_spot_audit_finds_something_of_every_kind(demo):
    """The demo shows each kind of blind spot with something real to find."""
    from gridgis.gis.demo.load import DRAFT_NAME
    from gridgis.gis.services.blindspots import AuditOptions, BlindSpotService

    db, _ = demo
    service = BlindSpotService(db.engine, 32635)
    options = AuditOptions(hot_class=90)
    card = service.scorecard(options).grids
    assert not service.scorecard(options).coverage_failed  # the published plan is clean
    draft = service.coverage(AuditOptions(plan=DRAFT_NAME)).coverage
    assert draft.gap_m2 > 1000 and draft.overlap_m2 > 1000  # the flawed draft is not
    assert (card["workers"] == 0).sum() == 1  # the worker who left
    assert (card["days_since_check"] > 90).sum() >= 3  # the stale grids
    assert card["street_in_view_share"].between(0, 1).all()
    assert (card["street_in_view_share"] < 1).all() and (card["street_in_view_share"] > 0).any()
    assert (card["foot_beyond_share"] > 0).any()  # far from the two patrol bases
    patrol = service.patrol(options)
    assert patrol.has_data and len(patrol.cells)
    assert patrol.cells["minutes_per_week"].max() > 0
    assert (~patrol.cells["patrolled_recently"]).any()  # units cover two subdistricts
    assert len(service.cameras(options).sites) == 10
    assert set(card["status"]) <= {"red", "amber", "green"}


def test_the_demo_shift_is_planned_and_its_tracks_show_a_skipped_target(demo):
    from gridgis.gis.services.patrols import PatrolService

    db, _ = demo
    service = PatrolService(db.engine, db.srid)
    plans, total = service.plans(None)
    assert total == 1 and plans[0]["status"] == "ready"
    assert plans[0]["scope"]  # the patrol leader's subdistrict: they see it
    result = service.plan(plans[0]["id"], None)["result"]
    assert len(result["units"]) == 3 and result["dropped_mandatory"] == []
    assert result["totals"]["value"] > result["comparison"]["naive"]["value"]
    report = service.dosage(plans[0]["id"], None)
    assert report["fixes"] > 1000 and len(report["units_seen"]) == 3
    missed = [r["name"] for r in report["targets"] if r["planned_but_missed"]]
    assert 1 <= len(missed) < report["targets_planned"] / 2


def test_a_generated_plan_of_the_demo_keeps_every_grid_within_bounds(demo):
    """Grids redrawn along the demo's real streets: 300 to 500 households each,
    contiguous, inside their communities, no gaps or overlaps, and the report compares
    them with the published plan."""
    from gridgis.gis.services.blindspots import AuditOptions, BlindSpotService
    from gridgis.gis.services.plan_generate import GenerateOptions, generate

    db, _ = demo
    report = generate(db.engine, 32635, GenerateOptions(
        name="generated", min_households=300, max_households=500))
    assert report.out_of_bounds == [] and report.proposed.out_of_bounds == 0
    assert 300 <= report.proposed.min and report.proposed.max <= 500
    assert report.proposed.cv < report.current.cv  # better balanced than the demo's
    assert 0 < report.people_moved < report.people
    coverage = BlindSpotService(db.engine, 32635).coverage(
        AuditOptions(plan="generated")).coverage
    assert not coverage.has_gaps_or_overlaps
    assert (coverage.grids["parts"] == 1).all()
    assert (coverage.grids["outside_community_m2"] < 1).all()
    counted = scalar(db, """
        SELECT count(*) FROM grids g JOIN grid_plans p ON p.id = g.plan_id
        WHERE p.name = 'generated' AND (SELECT count(*) FROM households h
                                        WHERE ST_Intersects(h.geom, g.geom))
              NOT BETWEEN 300 AND 500""")
    assert counted == 0
