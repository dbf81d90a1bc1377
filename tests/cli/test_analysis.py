"""``gridgis backtest``."""

from tests.helpers import grid_geojson, incidents_frame


def test_backtest_prints_every_method(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    incidents_frame(600).to_csv(tmp_path / "i.csv", index=False)  # 2024-01-01 .. 01-08
    assert run("import", "incidents", tmp_path / "i.csv").returncode == 0
    result = run("backtest", "--train-start", "2024-01-01", "--train-end", "2024-01-06",
                 "--test-end", "2024-01-08", "--unit", "grids")
    assert result.returncode == 0, result.stderr
    for method in ("blended", "ewma", "counts_all", "last_period", "kde", "oracle"):
        assert method in result.stdout
    assert "ranked by density" in " ".join(result.stdout.split())
    assert "blended: bandwidth_m" in result.stdout and "half_life_days" in result.stdout


def test_backtest_refuses_bad_dates_and_values(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    dates = ["--train-start", "2024-01-06", "--train-end", "2024-01-01", "--test-end",
             "2024-01-08"]
    order = run("backtest", *dates)
    assert order.returncode == 2 and "train start < train end < test end" in order.stderr
    blank = run("backtest", "--train-start", "", "--train-end", "2024-01-06",
                "--test-end", "2024-01-08")
    assert blank.returncode == 2 and "--train-start" in blank.stderr
    category = run("backtest", "--train-start", "2024-01-01", "--train-end", "2024-01-06",
                   "--test-end", "2024-01-08", "--category", "aliens")
    assert category.returncode == 2 and "aliens" in category.stderr
    zone = run("backtest", "--train-start", "2024-01-01", "--train-end", "2024-01-06",
               "--test-end", "2024-01-08", "--timezone", "Mars/Olympus")
    assert zone.returncode == 2 and "time zone" in zone.stderr
    for result in (order, blank, category, zone):
        assert "Traceback" not in result.stderr


def test_backtest_on_a_polygon_file_and_in_another_time_zone(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    incidents_frame(600).to_csv(tmp_path / "i.csv", index=False)
    assert run("import", "incidents", tmp_path / "i.csv").returncode == 0
    west = grid_geojson(tmp_path / "west.geojson", cols=1, rows=3)  # a third of the grids
    dates = ["--train-start", "2024-01-01", "--train-end", "2024-01-06", "--test-end",
             "2024-01-08", "--unit", "grids"]
    result = run("backtest", *dates, "--study-area", str(west), "--timezone", "Asia/Tokyo")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "3 grids units; study area a polygon, " in text
    assert "dates are read in Asia/Tokyo; the deployment's time zone is" in text
    missing = run("backtest", *dates, "--study-area", "no-such-area")
    assert missing.returncode == 2 and "no area has code 'no-such-area'" in missing.stderr
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    assert run("backtest", *dates, "--study-area", str(empty)).returncode == 2
