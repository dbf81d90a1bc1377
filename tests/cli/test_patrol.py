"""`gridgis patrol`: plan a shift into a folder of GPX files, GeoJSON and route sheets;
list plans, export one again, and compare it with where the units went."""

from __future__ import annotations

import json

from tests.api.test_patrols import TARGETS
from tests.helpers import X0, Y0, add_street_lattice


def test_a_shift_is_planned_into_files_and_can_be_exported_again(seeded, run, tmp_path):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_street_lattice(conn)
    targets = tmp_path / "targets.csv"
    rows = ["name,lon,lat,risk,window,mandatory"] + [
        f"{t['name']},{t['lon']},{t['lat']},{t.get('risk', 1)},{t.get('window', '')},"
        f"{'yes' if t.get('mandatory') else ''}" for t in TARGETS]
    targets.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "shift"
    planned = run("patrol", "plan", "--units", 2, "--mode", "foot", "--shift", "08:00-10:00",
                  "--date", "2026-06-30", "--source", "list", "--targets", targets,
                  "--seed", 9, "--time-limit", 2, "--compare", 1, "--out", out)
    assert planned.returncode == 0, planned.stderr
    assert "seed 9" in planned.stderr and "naive nearest-neighbour plan" in planned.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "plan.geojson", "sheet-unit-1.html", "sheet-unit-2.html", "unit-1.gpx", "unit-2.gpx"]
    collection = json.loads((out / "plan.geojson").read_text(encoding="utf-8"))
    assert collection["properties"]["seed"] == 9
    listed = run("patrol", "list")
    assert listed.returncode == 0 and "ready" in listed.stdout
    again = run("patrol", "export", 1, "--out", tmp_path / "again")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "unit-2.gpx").read_bytes().count(b"<wpt") == \
        (out / "unit-2.gpx").read_bytes().count(b"<wpt")
    track = tmp_path / "track.csv"
    track.write_text("unit,shift,recorded_at,x,y\n" + "".join(
        f"1,#1,2026-06-30T00:{m:02d}:00Z,{X0 + 100},{Y0 + 200}\n" for m in range(20)),
        encoding="utf-8")  # 08:00-08:19 local (UTC+8) at the market
    imported = run("import", "patrol_points", track, "--crs", "EPSG:32635")
    assert imported.returncode == 0, imported.stderr
    dosage = run("patrol", "dosage", 1, "--radius", 30)
    assert dosage.returncode == 0, dosage.stderr
    assert "市场 market" in dosage.stdout and "20 fixes" in dosage.stdout


def test_bad_options_are_clear_messages(seeded, run, tmp_path):
    bad_shift = run("patrol", "plan", "--shift", "8-16", "--out", tmp_path)
    assert bad_shift.returncode != 0 and "HH:MM-HH:MM" in bad_shift.stderr
    bad_date = run("patrol", "plan", "--date", "30/06/2026", "--out", tmp_path)
    assert bad_date.returncode != 0 and "YYYY-MM-DD" in bad_date.stderr
    missing = run("patrol", "plan", "--targets", tmp_path / "none.csv", "--out", tmp_path)
    assert missing.returncode != 0 and "none.csv" in missing.stderr
    no_post = run("patrol", "plan", "--out", tmp_path, "--compare", 0)
    assert no_post.returncode != 0 and "post" in no_post.stderr
    assert "Traceback" not in no_post.stderr
