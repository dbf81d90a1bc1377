"""CQL2 filters become clauses with every literal bound, geometry moved into the table's
CRS, and refusals that say what is wrong; run against PostGIS in tests/api."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gridgis.gis.errors import Forbidden, InvalidInput
from gridgis.gis.features.cql2 import Queryable, Translator, parse_filter

TABLE = sa.table("incidents", sa.column("category", sa.Text), sa.column("levels", sa.Integer),
                 sa.column("occurred_at", sa.DateTime(timezone=True)),
                 sa.column("description", sa.Text), sa.column("geom"))
QUERYABLES = {"category": Queryable(TABLE.c.category, "text"),
              "levels": Queryable(TABLE.c.levels, "int"),
              "occurred_at": Queryable(TABLE.c.occurred_at, "datetime"),
              "description": Queryable(TABLE.c.description, "text"),
              "geometry": Queryable(TABLE.c.geom, "geometry")}


def sql(text: str, **kwargs) -> tuple[str, dict]:
    translator = Translator(QUERYABLES, 32635, **kwargs)
    compiled = translator.clause(parse_filter(text)).compile(dialect=postgresql.dialect())
    return str(compiled), compiled.params


def test_literals_are_bound_never_spliced_into_the_sql():
    text, params = sql("category = 'x''; DROP TABLE incidents; --'")
    assert "DROP" not in text and "x'; DROP TABLE incidents; --" in params.values()


def test_a_value_before_the_property_keeps_its_meaning():
    text, params = sql("5 < levels")
    assert "levels >" in text and 5 in params.values()


def test_geometry_literals_are_moved_into_the_table_crs_with_their_axis_order():
    _, params = sql("S_INTERSECTS(geometry, POINT(24.9 60.2))")
    assert 32635 in params.values()
    wkt = next(v for v in params.values() if isinstance(v, str))
    x, y = (float(v) for v in wkt.removeprefix("POINT (").rstrip(")").split())
    assert 380_000 < x < 390_000 and 6_670_000 < y < 6_680_000
    _, flipped = sql("S_INTERSECTS(geometry, POINT(60.2 24.9))", lat_first=True)
    assert next(v for v in flipped.values() if isinstance(v, str)) == wkt
    _, params = sql("S_INTERSECTS(geometry, POINT(500000 6670000))", filter_srid=32635)
    assert "POINT (500000 6670000)" in params.values()
    _, params = sql("S_INTERSECTS(geometry, BBOX(-180,-90,180,90))")  # cut to where it
    wkt = next(v for v in params.values() if isinstance(v, str))  # can be projected
    assert wkt.startswith("POLYGON") and "inf" not in wkt.lower()


def test_deep_nesting_is_refused_before_parsing():
    with pytest.raises(InvalidInput, match="nests deeper"):
        parse_filter("(" * 2000 + "category = 'a'" + ")" * 2000)
    with pytest.raises(InvalidInput, match="nests deeper"):
        parse_filter("NOT " * 100 + "category = 'a'")
    assert parse_filter("category = '((((((((((((((((((((((((((((((((((((((((((((((((((('")


def test_open_intervals_compile():
    text, _ = sql("T_DISJOINT(occurred_at, INTERVAL('..', '..'))")
    assert "NOT" in text and "IS NOT NULL" in text


def test_dates_cover_the_whole_day_in_intervals():
    _, params = sql("T_INTERSECTS(occurred_at, INTERVAL('2026-01-01', '2026-01-31'))")
    ends = sorted(v.isoformat() for v in params.values())
    assert ends == ["2026-01-01T00:00:00+00:00", "2026-01-31T23:59:59.999999+00:00"]
    _, params = sql("T_INTERSECTS(occurred_at, INTERVAL('2026-01-01', '9999-12-31'))")
    assert max(v.isoformat() for v in params.values()) == "9999-12-31T23:59:59.999999+00:00"


@pytest.mark.parametrize(("text", "message"), [
    ("category = ", "not valid cql2-text"),
    ("colour = 'red'", "not a queryable here; queryables: category"),
    ("levels = 'six'", "levels is of type int"),
    ("levels = 2.5", "levels is of type int"),
    ("occurred_at LIKE '2026%'", "LIKE needs text"),
    ("S_INTERSECTS(category, POINT(0 0))", "needs the geometry property"),
    ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "not valid"),
    ("T_MEETS(occurred_at, INTERVAL('2026-01-01', '2026-02-01'))", "does not support"),
    ("T_DURING(occurred_at, TIMESTAMP('2026-01-01T00:00:00Z'))", "needs an INTERVAL"),
    ("levels = 1" + "0" * 400, "levels is of type int"),
    ("category = levels", "cannot be compared"),
    ("levels + 1 = 2", "where a property is expected"),
])
def test_what_cannot_be_done_is_refused_with_the_reason(text, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        sql(text)


def test_hidden_properties_are_forbidden():
    with pytest.raises(Forbidden, match="personal"):
        sql("description LIKE 'a%'", hidden=frozenset({"description"}))
