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


def test_a_draft_is_edited_from_the_command_line_and_undone(run, tmp_path):
    import json

    from tests.helpers import LAT0, LON0

    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    run("plans", "draft", "edit me")
    middle = LON0 + 0.0025
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "LineString", "coordinates": [[middle, LAT0 - 1e-5], [middle, LAT0 + 0.00501]]}}))
    split = run("plans", "split", "edit me", "G00", line, "--new-code", "G00b")
    assert split.returncode == 0, split.stderr
    assert "split G00 into G00, G00b" in split.stdout
    figures = run("plans", "figures", "edit me", "--csv", tmp_path / "f.csv")
    assert figures.returncode == 0, figures.stderr
    assert "grids=10" in figures.stdout and (tmp_path / "f.csv").read_text().count("\n") == 11
    apart = run("plans", "merge", "edit me", "G00", "G22")
    assert apart.returncode != 0 and "share no boundary" in apart.stderr
    published = run("plans", "split", "default", "G00", line)
    assert published.returncode != 0 and "only drafts are edited" in published.stderr
    assert "undid: split G00" in run("plans", "undo", "edit me").stdout
    nothing = run("plans", "undo", "edit me")
    assert nothing.returncode != 0 and "no edit of this draft to undo" in nothing.stderr


def test_the_diff_of_two_plans_as_tables_and_csv(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    run("import", "grids", grid_geojson(tmp_path / "g2.geojson", cols=2), "--plan", "narrow")
    found = run("plans", "diff", "default", "narrow", "--csv-dir", tmp_path / "diff")
    assert found.returncode == 0, found.stderr
    assert "removed=3" in found.stdout and "unchanged=6" in found.stdout
    assert (tmp_path / "diff" / "grids.csv").read_text().count("removed") == 3
    missing = run("plans", "diff", "default", "nope")
    assert missing.returncode != 0 and "no grid plan named 'nope'" in missing.stderr


def test_generate_needs_communities_and_a_workable_band(run, tmp_path):
    run("import", "grids", grid_geojson(tmp_path / "g.geojson"))
    narrow = run("plans", "generate", "g", "--min-households", "400",
                 "--max-households", "500")
    assert narrow.returncode != 0 and "at least 1.5" in narrow.stderr
    bare = run("plans", "generate", "g", "--min-households", "300",
               "--max-households", "500")
    assert bare.returncode != 0 and "no communities" in bare.stderr
    odd = run("plans", "generate", "g", "--min-households", "300",
              "--max-households", "500", "--follow", "rivers")
    assert odd.returncode != 0 and "streets or lattice" in odd.stderr
