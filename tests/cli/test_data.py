"""``gridgis import`` and ``gridgis export``."""

import pandas as pd
import pyogrio

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


def test_export_hides_personal_fields_unless_asked(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    pd.DataFrame({"name": ["王五"], "id_number": ["110101199001011234"], "lon": [24.931],
                  "lat": [60.166]}).to_csv(tmp_path / "p.csv", index=False)
    assert run("import", "people", tmp_path / "p.csv").returncode == 0
    run("export", "people", tmp_path / "hidden.csv")
    assert "id_number" not in pd.read_csv(tmp_path / "hidden.csv").columns
    run("export", "people", tmp_path / "shown.csv", "--include-sensitive")
    assert pd.read_csv(tmp_path / "shown.csv", dtype=str).id_number[0] == "110101199001011234"
