"""`gridgis import roads`: lines checked, the network reported."""

from __future__ import annotations

from tests.api.test_routes import roads_geojson


def test_roads_import_reports_the_network_and_refuses_multi_part_lines(seeded, run,
                                                                       tmp_path):
    path = tmp_path / "roads.geojson"
    roads_geojson(path)
    refused = run("import", "roads", path)
    assert refused.returncode == 2 and "row 4" in refused.stderr
    assert "LineString" in refused.stderr and "explodecollections" in refused.stderr
    imported = run("import", "roads", path, "--skip-invalid",
                   "--rejects", tmp_path / "r.csv")
    assert imported.returncode == 0, imported.stderr
    assert "3 inserted" in imported.stdout
    assert "1 connected piece(s)" in imported.stdout
