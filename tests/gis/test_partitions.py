"""Incidents kept by district and year (migration 0021): every row in its own partition,
whoever writes it; external ids unique across partitions; a period read from its
partitions only; the migration keeps every row as it was."""

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from shapely.geometry import box, mapping

from gridgis.gis.db import _alembic_config
from gridgis.gis.features.collections import ESTIMATED_EXTENT_SQL
from gridgis.gis.importing import Mapping, import_file
from gridgis.gis.partitions import incident_partitions, place_incidents
from gridgis.gis.sqlfiles import INCIDENT_FILTER
from tests.helpers import LAT0, LON0, incidents_frame

THIS_YEAR = datetime.now(UTC).year
# West half of the incidents' square (tests.helpers.incidents_frame), in WGS84.
WEST = box(LON0, LAT0, LON0 + 0.0075, LAT0 + 0.015)
EAST = box(LON0 + 0.0075, LAT0, LON0 + 0.015, LAT0 + 0.015)

ROWS = sa.text("""
    SELECT i.id, i.tableoid::regclass::text AS partition, i.district_id,
           extract(year FROM i.occurred_at AT TIME ZONE 'UTC')::int AS year,
           (SELECT a.id FROM areas a WHERE a.level = 'district'
              AND ST_Intersects(a.geom, i.geom) ORDER BY a.code LIMIT 1) AS holds,
           i.external_id, i.version, i.grid_id
    FROM incidents i ORDER BY i.id""")


def districts_file(path, *districts):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": mapping(shape),
         "properties": {"level": "district", "code": code, "name": code}}
        for code, shape in districts]}))
    return path


def incidents_file(path, n=200, years=(2024,)):
    frame = incidents_frame(n)
    stamps = pd.to_datetime(frame["occurred_at"])
    frame["occurred_at"] = [s.replace(year=years[i % len(years)]).isoformat()
                            for i, s in enumerate(stamps)]
    frame.to_csv(path, index=False)
    return frame


def rows(db) -> pd.DataFrame:
    with db.engine.connect() as conn:
        return pd.DataFrame(conn.execute(ROWS).mappings().all())


def district_id(db, code) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM areas WHERE code = :c"),
                            {"c": code}).scalar_one()


def expect_placed(frame: pd.DataFrame) -> None:
    """Each row in the partition of the district PostGIS finds and of its year."""
    assert (frame["district_id"].astype("Int64") == frame["holds"].astype("Int64")) \
        .fillna(frame["holds"].isna()).all()
    expected = [f"incidents_d{int(d)}_{y}" if pd.notna(d) else "incidents_other"
                for d, y in zip(frame["district_id"], frame["year"], strict=True)]
    assert frame["partition"].tolist() == expected


def test_imported_incidents_land_in_their_district_and_year(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST), ("E", EAST)))
    years = (1998, 2024, 2025)  # no partition is made ahead for 1998
    incidents_file(tmp_path / "i.csv", years=years)
    import_file(db, "incidents", tmp_path / "i.csv")
    placed = rows(db)
    expect_placed(placed)
    assert placed["holds"].notna().all()  # both districts: all land in one
    assert set(placed["district_id"]) == {district_id(db, "W"), district_id(db, "E")}
    assert set(placed["year"]) == set(years)
    with db.engine.connect() as conn:
        layout = {p.name: p for p in incident_partitions(conn)}
    west = district_id(db, "W")
    assert layout[f"incidents_d{west}"].partitioned
    assert f"incidents_d{west}_1998" in layout and f"incidents_d{west}_{THIS_YEAR + 1}" in layout
    assert layout["incidents_other"].bound == "DEFAULT"


def test_incidents_before_their_district_move_in_when_it_is_drawn(db, tmp_path):
    incidents_file(tmp_path / "i.csv", years=(2023, 2024))
    import_file(db, "incidents", tmp_path / "i.csv", mapping=Mapping(external_id="case_no"))
    before = rows(db)
    assert set(before["partition"]) == {"incidents_other"}
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    after = rows(db)
    expect_placed(after)
    assert after["district_id"].notna().sum() == after["holds"].notna().sum() > 0
    assert (after["partition"] == "incidents_other").sum() == after["holds"].isna().sum() > 0
    for column in ("id", "external_id", "grid_id"):
        assert after[column].tolist() == before[column].tolist()
    with db.engine.connect() as conn:  # every key still names its row
        keys = dict(conn.execute(sa.text(
            "SELECT external_id, incident_id FROM incident_keys")).all())
    assert keys == dict(zip(after["external_id"], after["id"], strict=True))


def test_a_district_drawn_or_redrawn_takes_its_incidents_at_once(db, tmp_path):
    incidents_file(tmp_path / "i.csv", years=(2024,))
    import_file(db, "incidents", tmp_path / "i.csv")
    before = rows(db)
    with db.engine.begin() as conn:  # as the API or a desktop edit would
        conn.execute(sa.text(
            "INSERT INTO areas (level, code, name, geom) VALUES ('district', 'W', 'W', "
            "ST_Multi(ST_Transform(ST_GeomFromText(:w, 4326), 32635)))"), {"w": WEST.wkt})
    drawn = rows(db)
    pd.testing.assert_series_equal(drawn["district_id"], drawn["holds"], check_dtype=False,
                                   check_names=False)
    assert drawn["holds"].notna().sum() > 0
    assert set(drawn["partition"]) == {"incidents_other"}  # until its partition is made
    with db.engine.begin() as conn:
        place_incidents(conn)
    expect_placed(rows(db))
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE areas SET geom = ST_Multi(ST_Transform(ST_GeomFromText(:e, 4326), "
            "32635)) WHERE code = 'W'"), {"e": EAST.wkt})
    redrawn = rows(db)
    expect_placed(redrawn)
    assert not redrawn["holds"].fillna(0).equals(drawn["holds"].fillna(0))
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM areas WHERE code = 'W'"))
    removed = rows(db)
    expect_placed(removed)
    assert removed["district_id"].isna().all()
    for column in ("id", "grid_id", "version"):  # a change of district alone: same version
        assert removed[column].tolist() == before[column].tolist()


def test_an_incident_moved_by_sql_takes_its_new_district(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST), ("E", EAST)))
    incidents_file(tmp_path / "i.csv", years=(2024,))
    import_file(db, "incidents", tmp_path / "i.csv")
    west, east = district_id(db, "W"), district_id(db, "E")
    with db.engine.begin() as conn:
        moved = conn.execute(sa.text(
            "UPDATE incidents SET geom = ST_Translate(geom, 5000, 0) "  # out of both
            "WHERE district_id = :w RETURNING id"), {"w": west}).scalars().all()
        conn.execute(sa.text(
            "UPDATE incidents SET geom = ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), "
            "4326), 32635) WHERE id = :i"),
            {"x": LON0 + 0.01, "y": LAT0 + 0.005, "i": moved[0]})  # into the east
    after = rows(db).set_index("id")
    expect_placed(after.reset_index())
    assert after.loc[moved[0], "district_id"] == east
    assert after.loc[moved[1:], "district_id"].isna().all()
    assert (after.loc[moved[1:], "version"] == 2).all()  # a real change: a new version
    assert after.loc[moved[0], "version"] == 3


def test_rows_waiting_in_a_default_partition_are_moved_unchanged(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    west = district_id(db, "W")
    incidents_file(tmp_path / "i.csv", years=(2024,))
    import_file(db, "incidents", tmp_path / "i.csv", mapping=Mapping(external_id="case_no"))
    placed = rows(db)
    expect_placed(placed)
    with db.engine.begin() as conn:  # 2024 as if its partition had not been made yet
        conn.execute(sa.text(f"ALTER TABLE incidents_d{west} DETACH PARTITION "
                             f"incidents_d{west}_2024"))
        conn.execute(sa.text(f"INSERT INTO incidents_d{west}_other "
                             f"SELECT * FROM incidents_d{west}_2024"))
        conn.execute(sa.text(f"DROP TABLE incidents_d{west}_2024"))
    waiting = rows(db)
    assert set(waiting["partition"]) >= {f"incidents_d{west}_other"}
    with db.engine.begin() as conn:
        moved = place_incidents(conn)
    assert moved == (placed["district_id"] == west).sum() > 0
    again = rows(db)
    expect_placed(again)
    pd.testing.assert_frame_equal(again, placed)


def test_external_ids_stay_unique_across_partitions(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    frame = incidents_file(tmp_path / "i.csv", n=50, years=(2024,))
    first = import_file(db, "incidents", tmp_path / "i.csv",
                        mapping=Mapping(external_id="case_no"))
    assert (first.inserted, first.updated) == (50, 0)
    frame["occurred_at"] = frame["occurred_at"].str.replace("2024-", "2022-")  # other year
    frame["lon"] = LON0 + 0.014  # all east, outside the district
    frame.to_csv(tmp_path / "i.csv", index=False)
    second = import_file(db, "incidents", tmp_path / "i.csv",
                         mapping=Mapping(external_id="case_no"))
    assert (second.inserted, second.updated) == (0, 50)
    moved = rows(db)
    assert len(moved) == 50 and set(moved["partition"]) == {"incidents_other"}
    assert set(moved["year"]) == {2022}
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incident_keys")).scalar_one() == 50
        with pytest.raises(sa.exc.IntegrityError, match="incident_keys_pkey"):
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, external_id, geom) VALUES "
                "('other', '2025-03-01', 'C000007', (SELECT geom FROM incidents LIMIT 1))"))
        conn.rollback()
    with db.engine.begin() as conn:  # a deleted row's id is free again
        conn.execute(sa.text("DELETE FROM incidents WHERE external_id = 'C000007'"))
        conn.execute(sa.text(
            "INSERT INTO incidents (category, occurred_at, external_id, geom) VALUES "
            "('other', '2025-03-01', 'C000007', (SELECT geom FROM incidents LIMIT 1))"))
        conn.execute(sa.text("UPDATE incidents SET external_id = 'X1' "
                             "WHERE external_id = 'C000008'"))
        keys = dict(conn.execute(sa.text(
            "SELECT external_id, incident_id FROM incident_keys")).all())
        ids = dict(conn.execute(sa.text("SELECT external_id, id FROM incidents")).all())
    assert keys == ids and "X1" in keys and "C000008" not in keys


def test_rows_of_a_dropped_partition_can_be_imported_again(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    frame = incidents_file(tmp_path / "i.csv", n=40, years=(2021, 2024))
    mapping = Mapping(external_id="case_no")
    import_file(db, "incidents", tmp_path / "i.csv", mapping=mapping)
    west = district_id(db, "W")
    with db.engine.begin() as conn:  # 2021 archived: detached and dropped, keys left behind
        archived = conn.execute(sa.text(
            f"SELECT count(*) FROM incidents_d{west}_2021")).scalar_one()
        conn.execute(sa.text(f"ALTER TABLE incidents_d{west} DETACH PARTITION "
                             f"incidents_d{west}_2021"))
        conn.execute(sa.text(f"DROP TABLE incidents_d{west}_2021"))
    assert archived > 0
    again = import_file(db, "incidents", tmp_path / "i.csv", mapping=mapping)
    assert (again.inserted, again.updated) == (archived, len(frame) - archived)
    with db.engine.connect() as conn:
        keys = dict(conn.execute(sa.text(
            "SELECT external_id, incident_id FROM incident_keys")).all())
        ids = dict(conn.execute(sa.text("SELECT external_id, id FROM incidents")).all())
    assert len(ids) == len(frame) and keys == ids


def test_a_period_is_read_from_its_partitions_only(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    incidents_file(tmp_path / "i.csv", years=(2022, 2023, 2024))
    import_file(db, "incidents", tmp_path / "i.csv")
    west = district_id(db, "W")
    query = ("SELECT count(*) FROM incidents WHERE " + INCIDENT_FILTER) \
        .replace(":cats", "$1").replace(":start", "$2").replace(":end", "$3")
    with db.engine.connect() as conn:  # as a prepared statement runs: one generic plan
        conn.execute(sa.text("SET plan_cache_mode = force_generic_plan"))
        conn.exec_driver_sql(f"PREPARE period(text[], timestamptz, timestamptz) AS {query}")
        plan = conn.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) EXECUTE period(NULL, '2023-01-01', '2023-02-01')"
        ).scalar_one()
        count = conn.exec_driver_sql(
            "EXECUTE period(NULL, '2023-01-01', '2023-02-01')").scalar_one()
        whole = conn.exec_driver_sql("EXECUTE period(NULL, NULL, NULL)").scalar_one()
    scanned = {s.split('"')[0] for s in json.dumps(plan).split('"Relation Name": "')[1:]}
    assert f"incidents_d{west}_2023" in scanned
    assert not {f"incidents_d{west}_2022", f"incidents_d{west}_2024"} & scanned
    assert scanned <= {f"incidents_d{west}_2023", f"incidents_d{west}_other", "incidents_other"}
    assert 0 < count < whole == 200


def test_the_migration_keeps_every_incident_as_it_was(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    incidents_file(tmp_path / "i.csv", years=(2021, 2024))
    import_file(db, "incidents", tmp_path / "i.csv", mapping=Mapping(external_id="case_no"))
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET status = 'closed' WHERE id % 3 = 0"))
    before = rows(db)
    with db.engine.begin() as conn:
        command.downgrade(_alembic_config(conn, None), "0020")
        assert conn.execute(sa.text(
            "SELECT relkind FROM pg_class WHERE oid = 'public.incidents'::regclass")
        ).scalar() == "r"
        command.upgrade(_alembic_config(conn, None), "head")
    after = rows(db)
    expect_placed(after)
    pd.testing.assert_frame_equal(after.drop(columns="partition"),
                                  before.drop(columns="partition"))
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incident_keys")).scalar_one() \
            == len(after)
        next_id = conn.execute(sa.text("SELECT nextval('incidents_id_seq')")).scalar_one()
        triggers = set(conn.execute(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'incidents'::regclass "
            "AND NOT tgisinternal")).scalars())
        rights = conn.execute(sa.text(
            "SELECT has_table_privilege('gridgis_app', 'incidents', 'INSERT'), "
            "has_table_privilege('gridgis_app', 'incident_keys', 'INSERT'), "
            "has_table_privilege('gridgis_gis_reader', 'gis.incidents', 'SELECT'), "
            "has_function_privilege('gridgis_gis_reader', "
            "'gridgis_place_incidents(boolean)', 'EXECUTE')")).one()
    assert next_id > after["id"].max()
    assert {"incidents_change_count", "incidents_data_version", "incidents_gridgis_notify_data",
            "incidents_link", "incidents_touch", "incidents_district"} <= triggers
    assert tuple(rights) == (True, False, True, False)


def test_the_estimated_extent_of_a_partitioned_table_is_its_partitions(db, tmp_path):
    import_file(db, "areas", districts_file(tmp_path / "d.geojson", ("W", WEST)))
    incidents_file(tmp_path / "i.csv", years=(2023, 2024))
    import_file(db, "incidents", tmp_path / "i.csv")
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        exact = conn.execute(sa.text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
            "ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, 32635), 4326) AS b "
            "FROM incidents) e")).one()
        estimated = {table: conn.execute(ESTIMATED_EXTENT_SQL, {
            "t": table, "srid": 32635, "step": 100.0}).first() for table in ("incidents", "areas")}
    box = estimated["incidents"]  # PostGIS's estimate: a little larger than the data
    assert box[0] <= exact[0] and box[1] <= exact[1] and box[2] >= exact[2] \
        and box[3] >= exact[3]
    assert max(abs(a - b) for a, b in zip(box, exact, strict=True)) < 0.002
    assert estimated["areas"] is not None  # a plain table: itself
