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


def test_a_draft_copies_the_published_plan_and_names_must_be_new(run, db, tmp_path):
    import sqlalchemy as sa

    no_plan = run("plans", "draft", "first")
    assert no_plan.returncode != 0 and "no plan is published" in no_plan.stderr
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    run("plans", "publish", "default")
    made = run("plans", "draft", "2027 redraw")
    assert made.returncode == 0, made.stderr
    assert "9 grids copied" in made.stdout
    again = run("plans", "draft", "2027 redraw", "--from", "default")
    assert again.returncode != 0 and "exists already" in again.stderr
    missing = run("plans", "draft", "x", "--from", "nope")
    assert missing.returncode != 0 and "no grid plan named 'nope'" in missing.stderr
    with db.engine.connect() as conn:
        same = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE ST_Equals(a.geom, b.geom) "
            "AND a.name IS NOT DISTINCT FROM b.name), count(*) "
            "FROM grids a JOIN grids b ON a.code = b.code "
            "JOIN grid_plans pa ON pa.id = a.plan_id AND pa.name = 'default' "
            "JOIN grid_plans pb ON pb.id = b.plan_id AND pb.name = '2027 redraw'")).one()
        state = conn.execute(sa.text(
            "SELECT state FROM grid_plans WHERE name = '2027 redraw'")).scalar_one()
    assert tuple(same) == (9, 9) and state == "draft"


def test_which_grid_a_place_is_in_now_and_on_a_past_date(run, tmp_path):
    from tests.helpers import LAT0, LON0

    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    here = (LON0 + 0.0075, LAT0 + 0.0025)  # grid G10
    now = run("plans", "at", *here)
    assert now.returncode == 0, now.stderr
    assert "grid G10" in now.stdout and "plan default" in now.stdout
    past = run("plans", "at", *here, "--date", "2001-01-01")
    assert past.returncode != 0 and "no grid plan was published on 2001-01-01" in past.stderr
    bad = run("plans", "at", *here, "--date", "soon")
    assert bad.returncode != 0 and "--date" in bad.stderr
