"""``gridgis audit`` and the publish gate, as a user runs them."""

from __future__ import annotations

import json

from tests.helpers import add_draft_without


def _draft_with_a_gap(db) -> None:
    with db.engine.begin() as conn:
        add_draft_without(conn, "redraw", missing=(2, 2), prefix="R")


def test_audit_prints_the_scorecard_in_every_format(seeded, run):
    table = run("audit")
    assert table.returncode == 0, table.stderr
    assert "blind spots of 2026" in table.stdout and "red" in table.stdout
    document = json.loads(run("audit", "--format", "json").stdout)
    assert document["plan"] == "2026" and document["coverage_problem"] is None
    assert len(document["grids"]) == 9
    assert {r["measure"] for r in document["rules"]} >= {"gap_m2", "workers",
                                                          "dead_corners"}
    csv = run("audit", "--format", "csv", "--stale-days", "30").stdout.splitlines()
    assert csv[0].startswith("id,code,community") and len(csv) == 10


def test_a_plan_with_a_gap_fails_the_audit_and_is_not_published_unforced(seeded, run):
    db, _ = seeded
    _draft_with_a_gap(db)
    audit = run("audit", "--plan", "redraw", "--format", "json")
    assert audit.returncode == 1
    assert "uncovered" in json.loads(audit.stdout)["coverage_problem"]
    refused = run("plans", "publish", "redraw")
    assert refused.returncode == 2 and "uncovered" in refused.stderr
    assert run("plans", "publish", "redraw", "--force").returncode == 2  # no reason
    forced = run("plans", "publish", "redraw", "--force", "--reason", "interim, storm")
    assert forced.returncode == 0, forced.stderr
    log = run("audit-log", "--action", "publish", "--json").stdout
    assert "interim, storm" in log and "uncovered" in log


def test_bad_audit_options_are_clear_errors(seeded, run):
    bad = run("audit", "--households-min", "600", "--households-max", "500")
    assert bad.returncode == 2 and "households_min" in bad.stderr
    missing = run("audit", "--plan", "nope")
    assert missing.returncode == 2 and "no grid plan named 'nope'" in missing.stderr
