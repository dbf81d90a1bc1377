"""The gridgis command line, as a user runs it (a separate process)."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from tests.gis.importing.test_loader import grid_geojson, incidents_frame


@pytest.fixture
def run(db):
    env = {**os.environ, "GRIDGIS_DATABASE_URL":
           db.engine.url.render_as_string(hide_password=False)}

    def gridgis(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gridgis", *map(str, args)], env=env,
                              capture_output=True, text=True, timeout=120)
    return gridgis


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
    assert result.returncode == 2 and "unknown kind" in result.stderr
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


def test_relink_and_plans(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    result = run("relink")
    assert result.returncode == 0 and "changed grid" in result.stdout
    assert "default" in run("plans", "list").stdout
    missing = run("plans", "publish", "nope")
    assert missing.returncode == 2 and "no grid plan named" in missing.stderr


def test_backtest_prints_every_method(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    incidents_frame(600).to_csv(tmp_path / "i.csv", index=False)  # 2024-01-01 .. 01-08
    assert run("import", "incidents", tmp_path / "i.csv").returncode == 0
    result = run("backtest", "--train-start", "2024-01-01", "--train-end", "2024-01-06",
                 "--test-end", "2024-01-08", "--unit", "grids")
    assert result.returncode == 0, result.stderr
    for method in ("blended", "last_period", "kde", "oracle"):
        assert method in result.stdout
    bad = run("backtest", "--train-start", "2024-01-06", "--train-end", "2024-01-01",
              "--test-end", "2024-01-08")
    assert bad.returncode == 2 and "train-start < train-end" in bad.stderr
