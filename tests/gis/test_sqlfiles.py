"""Shared SQL fragments are filled into queries; schema files stay as written."""

from gridgis.gis import taxonomy
from gridgis.gis.sqlfiles import read_query, read_sql


def test_queries_get_the_shared_fragments():
    stats = read_query("grid_stats.sql")
    assert "$" not in stats.replace("$$", "")
    assert " OR ".join(taxonomy.SPECIAL_GROUPS) in stats
    summary = read_query("grid_summary.sql")
    for group in taxonomy.SPECIAL_GROUPS:
        assert f"'{group}', count(*) FILTER (WHERE {group})" in summary
    assert "category = ANY" in read_query("hotspot_incidents.sql")


def test_schema_files_are_read_as_they_are():
    assert "$$" in read_sql("schema_0001.sql")
