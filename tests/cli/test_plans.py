"""``gridgis plans``."""

from tests.helpers import grid_geojson


def test_list_and_publish(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    assert run("import", "grids", grid_geojson(tmp_path / "g.geojson"), "--plan",
               "redraw").returncode == 0
    listed = run("plans", "list").stdout
    assert "default" in listed and "redraw" in listed and "draft" in listed
    published = run("plans", "publish", "redraw")
    assert published.returncode == 0, published.stderr
    assert "published redraw" in published.stdout
    listed = run("plans", "list").stdout
    assert "retired" in listed


def test_publishing_a_missing_plan_is_a_clear_error(run):
    missing = run("plans", "publish", "nope")
    assert missing.returncode == 2 and "no grid plan named" in missing.stderr
