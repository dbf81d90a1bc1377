"""``gridgis import`` and ``gridgis export``."""

import json
import os
import pwd

import pandas as pd
import pyogrio
import sqlalchemy as sa

from gridgis.api.app import create_app
from tests.accounts import api_client
from tests.helpers import grid_geojson, incidents_frame


def test_import_export_round_trip(run, tmp_path):
    assert run("import", "grids", grid_geojson(tmp_path / "g.geojson")).returncode == 0
    incidents_frame(25).to_csv(tmp_path / "i.csv", index=False)
    result = run("import", "incidents", tmp_path / "i.csv", "--external-id", "case_no")
    assert result.returncode == 0, result.stderr
    assert "25 inserted" in result.stdout
    again = run("import", "incidents", tmp_path / "i.csv", "--external-id", "case_no")
    assert "0 inserted, 25 updated" in again.stdout
    for suffix in ("geojson", "gpkg", "csv"):
        out = tmp_path / f"out.{suffix}"
        assert run("export", "incidents", out).returncode == 0
        assert out.exists()
    exported = pd.read_csv(tmp_path / "out.csv")
    assert len(exported) == 25 and {"lon", "lat", "grid_id"} <= set(exported.columns)


def test_export_takes_the_same_crs_option_as_import(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    result = run("export", "grids", tmp_path / "g.gpkg", "--crs", "EPSG:3067")
    assert result.returncode == 0, result.stderr
    assert pyogrio.read_info(tmp_path / "g.gpkg")["crs"] == "EPSG:3067"
    result = run("export", "grids", tmp_path / "g2.gpkg", "--crs", "32635")
    assert result.returncode == 0, result.stderr


def test_export_errors_are_one_line_without_traceback(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    missing = run("export", "grids", tmp_path / "no" / "such" / "folder" / "g.gpkg")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad_crs = run("export", "grids", tmp_path / "g.gpkg", "--crs", "99999")
    assert bad_crs.returncode == 2 and "--crs" in bad_crs.stderr
    geojson_utm = run("export", "grids", tmp_path / "g.geojson", "--crs", "EPSG:32635")
    assert geojson_utm.returncode == 2 and "WGS84" in geojson_utm.stderr
    for result in (missing, bad_crs, geojson_utm):
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "g.gpkg").exists()


def test_rejected_import_exits_2_with_rows_and_no_traceback(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    frame = incidents_frame(5)
    frame.loc[4, "category"] = "aliens"
    frame.to_csv(tmp_path / "i.csv", index=False)
    result = run("import", "incidents", tmp_path / "i.csv")
    assert result.returncode == 2
    assert "row 5" in result.stderr and "[values.category]" in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr


def test_skip_invalid_reports_the_rejects_file(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    frame = incidents_frame(5)
    frame.loc[1, "lat"] = 95
    frame.to_csv(tmp_path / "i.csv", index=False)
    result = run("import", "incidents", tmp_path / "i.csv", "--skip-invalid",
                 "--rejects", tmp_path / "out" / "bad.csv")
    assert result.returncode == 0
    assert "4 inserted" in result.stdout and "bad.csv" in result.stdout
    assert pd.read_csv(tmp_path / "out" / "bad.csv")["_row"].tolist() == [2]


def test_unknown_kind_and_missing_file(run, tmp_path):
    result = run("import", "aliens", tmp_path / "x.csv")
    assert result.returncode == 2 and "'aliens' is not one of" in result.stderr
    assert "incidents" in result.stderr  # the valid kinds are named
    result = run("import", "grids", tmp_path / "missing.geojson")
    assert result.returncode == 2 and "does not exist" in result.stderr


PEOPLE = pd.DataFrame({
    "name": ["王五", "欧阳娜娜"],
    "id_number": ["110101199001011234", "44010519851231002X"],
    "phone": ["13800138000", None],
    "birth_date": ["1985-07-14", None],
    "sex": ["male", "female"],
    "residence_type": ["registered", "floating"],
    "community_correction": ["true", "false"],
    "note": ["曾因盗窃被处理", None],  # not mapped: kept in properties
    "lon": [24.931, 24.936], "lat": [60.166, 60.168]})
# What the masking rule (gis/access/masking.py) makes of them, row by row.
MASKED = {
    "name": ["王**", "欧***"],
    "id_number": ["110***********1234", "440***********002X"],
    "phone": ["138****8000", None],
    "birth_date": ["1985-**-**", None],
    "community_correction": ["***", "***"],
}


def _import_people(run, tmp_path) -> list[int]:
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    PEOPLE.to_csv(tmp_path / "p.csv", index=False)
    result = run("import", "people", tmp_path / "p.csv")
    assert result.returncode == 0, result.stderr
    exported = run("export", "people", tmp_path / "ids.csv", "--include-sensitive")
    assert exported.returncode == 0, exported.stderr
    return pd.read_csv(tmp_path / "ids.csv")["id"].tolist()


def _column(frame: pd.DataFrame, name: str) -> list:
    return [None if pd.isna(v) else v for v in frame[name]]


def _audit(run, *filters: str) -> list[dict]:
    result = run("audit-log", "--json", *filters)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_export_masks_personal_fields_as_the_api_does(run, db, tmp_path, api_settings):
    ids = _import_people(run, tmp_path)
    result = run("export", "people", tmp_path / "masked.csv")
    assert result.returncode == 0, result.stderr
    assert "2 people written" in result.stdout and "personal fields masked (" in result.stdout
    masked = pd.read_csv(tmp_path / "masked.csv", dtype=str)
    for name, expected in MASKED.items():
        assert _column(masked, name) == expected, name
    assert _column(masked, "released_prisoner") == ["***", "***"]  # stored false: hidden too
    assert json.loads(masked["properties"][0]) == {"note": "***"}
    assert _column(masked, "sex") == ["male", "female"]  # not personal: as stored
    assert _column(masked, "residence_type") == ["registered", "floating"]
    text = (tmp_path / "masked.csv").read_text()
    for secret in ("王五", "110101199001011234", "13800138000", "1985-07-14", "盗窃"):
        assert secret not in text
    # the service shows the same rows the same way to a role that may not see them
    with api_client(create_app(api_settings, database=db), db, "police") as police:
        served = police.get("/people", params={"sort": "id"}).json()["features"]
    assert [f["id"] for f in served] == ids
    for row, feature in enumerate(served):
        for name in MASKED:
            assert feature["properties"][name] == _column(masked, name)[row], name
        assert feature["properties"]["properties"] == json.loads(masked["properties"][row])


def test_export_with_include_sensitive_writes_personal_fields_as_stored(run, tmp_path):
    _import_people(run, tmp_path)
    result = run("export", "people", tmp_path / "shown.gpkg", "--include-sensitive")
    assert result.returncode == 0, result.stderr
    assert "personal fields UNMASKED" in result.stdout
    shown = pyogrio.read_dataframe(tmp_path / "shown.gpkg")
    assert shown["name"].tolist() == ["王五", "欧阳娜娜"]
    assert shown["id_number"].tolist() == ["110101199001011234", "44010519851231002X"]
    assert _column(shown, "phone") == ["13800138000", None]
    assert str(shown["birth_date"][0])[:10] == "1985-07-14"
    assert shown["community_correction"].tolist() == [True, False]
    assert json.loads(shown["properties"][0]) == {"note": "曾因盗窃被处理"}


def test_every_export_is_in_the_audit_log_with_the_people_and_how(run, tmp_path):
    ids = _import_people(run, tmp_path)
    run("export", "people", tmp_path / "masked.csv")
    run("export", "people", tmp_path / "shown.csv", "--include-sensitive")
    run("export", "grids", tmp_path / "grids.csv")
    entries = _audit(run, "--action", "export")
    actor = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"
    assert [(e["resource"], e["personal"]) for e in entries] == [
        ("grids", None), ("people", "unmasked"), ("people", "masked"),
        ("people", "unmasked")]  # newest first; the last made ids.csv
    assert {e["user_name"] for e in entries} == {actor}
    grids, shown, masked, _ = entries
    assert masked["person_ids"] == ids and shown["person_ids"] == ids
    assert masked["detail"] == f"2 rows to {(tmp_path / 'masked.csv').resolve()}"
    assert shown["detail"] == f"2 rows to {(tmp_path / 'shown.csv').resolve()}"
    assert grids["person_ids"] is None and grids["detail"].startswith("9 rows to ")
    for person in ids:
        assert _audit(run, "--person", str(person), "--action", "export") == \
            [shown, masked, entries[3]]


def test_a_kind_without_personal_fields_exports_unchanged(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    plain = run("export", "grids", tmp_path / "plain.csv")
    assert plain.returncode == 0, plain.stderr
    assert "personal fields" not in plain.stdout
    run("export", "grids", tmp_path / "all.csv", "--include-sensitive")
    assert (tmp_path / "plain.csv").read_bytes() == (tmp_path / "all.csv").read_bytes()
    grids = pd.read_csv(tmp_path / "plain.csv", dtype=str).sort_values("code")
    assert grids["code"].tolist()[:2] == ["G00", "G01"]
    assert grids["name"].tolist()[:2] == ["grid 0-0", "grid 0-1"]


def test_an_export_the_audit_log_cannot_record_leaves_no_file(run, db, tmp_path):
    _import_people(run, tmp_path)
    with db.engine.begin() as conn:  # the database refuses the export's audit entry
        conn.execute(sa.text(
            "CREATE FUNCTION refuse_export() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.action = 'export' THEN RAISE EXCEPTION 'no exports today'; END IF; "
            "RETURN NEW; END $$; "
            "CREATE TRIGGER refuse_export BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION refuse_export()"))
    result = run("export", "people", tmp_path / "unrecorded.csv", "--include-sensitive")
    assert result.returncode != 0
    assert "no exports today" in result.stderr
    assert not (tmp_path / "unrecorded.csv").exists()


def test_imports_relinks_and_publishing_from_the_command_line_are_audited(run, db,
                                                                           tmp_path):
    actor = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"
    assert run("import", "grids", grid_geojson(tmp_path / "g.geojson"),
               "--plan", "redraw").returncode == 0
    incidents_frame(5).to_csv(tmp_path / "i.csv", index=False)
    assert run("import", "incidents", tmp_path / "i.csv").returncode == 0
    bad = incidents_frame(3)
    bad.loc[2, "category"] = "aliens"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert run("import", "incidents", tmp_path / "bad.csv").returncode == 2
    assert run("relink").returncode == 0
    assert run("plans", "publish", "redraw").returncode == 0
    with db.engine.connect() as conn:
        entries = conn.execute(sa.text(
            "SELECT user_name, action, resource, personal, detail FROM audit_log "
            "WHERE action IN ('import', 'relink', 'publish') ORDER BY id")).all()
    assert [(e.action, e.resource) for e in entries] == [
        ("import", "grids"), ("import", "incidents"), ("relink", None),
        ("publish", "plans")]  # the rejected import left nothing, its entry neither
    assert {e.user_name for e in entries} == {actor}
    assert entries[1].personal == "unmasked" and entries[0].personal is None
    assert entries[1].detail.startswith("5 inserted, 0 updated, 0 rejected, from ")
    assert str(tmp_path / "i.csv") in entries[1].detail
    assert entries[3].detail.startswith("redraw: ")


def test_dissolve_joins_grid_rows_that_share_a_code(run, tmp_path):
    grids = json.loads(grid_geojson(tmp_path / "g.geojson").read_text())
    for feature in grids["features"][1:3]:  # G01 and G02 become parts of G00
        feature["properties"]["code"] = "G00"
    (tmp_path / "g.geojson").write_text(json.dumps(grids))
    refused = run("import", "grids", tmp_path / "g.geojson")
    assert refused.returncode == 2 and "duplicate code 'G00'" in refused.stderr
    joined = run("import", "grids", tmp_path / "g.geojson", "--dissolve")
    assert joined.returncode == 0, joined.stderr
    assert "7 inserted" in joined.stdout
    assert "dissolved 3 rows into 1 multipolygon: G00 (3 parts, attributes differed: the " \
        "first row's kept)" in " ".join(joined.stdout.split())
    wrong = run("import", "incidents", tmp_path / "g.geojson", "--dissolve")
    assert wrong.returncode == 2 and "for areas and grids, not incidents" in wrong.stderr
