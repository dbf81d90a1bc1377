"""gridgis import: atomicity, formats, CRSs, upserts, references and every bad-input class."""

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from gridgis.gis.errors import ImportRejected, InvalidInput
from gridgis.gis.importing import Mapping, import_file, load_mapping_file
from tests.helpers import LAT0, LON0, PORTLAND_SRID, count, grid_geojson, incidents_frame


# Central Helsinki, in WGS84.
@pytest.fixture
def with_grids(db, tmp_path):
    import_file(db, "grids", grid_geojson(tmp_path / "grids.geojson"))
    return db


def test_bad_row_at_the_end_of_10000_rows_writes_nothing(with_grids, tmp_path):
    frame = incidents_frame(10_000)
    frame.loc[9_999, "category"] = "alien_abduction"
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    with pytest.raises(ImportRejected) as caught:
        import_file(with_grids, "incidents", tmp_path / "incidents.csv")
    assert [(r.row, r.field) for r in caught.value.rejections] == [(10_000, "category")]
    assert "alien_abduction" in caught.value.rejections[0].reason
    assert count(with_grids, "incidents") == 0


def test_every_bad_row_is_reported_with_its_number(with_grids, tmp_path):
    frame = incidents_frame(20)
    frame["lat"] = frame["lat"].astype(object)
    frame.loc[3, "lat"] = "north"
    frame.loc[7, "occurred_at"] = "yesterday-ish"
    frame.loc[11, "category"] = ""
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    with pytest.raises(ImportRejected) as caught:
        import_file(with_grids, "incidents", tmp_path / "incidents.csv")
    reasons = {r.row: r.reason for r in caught.value.rejections}
    assert sorted(reasons) == [4, 8, 12]
    assert "not numbers" in reasons[4]
    assert "not a date-time" in reasons[8]
    assert "required value is missing" in reasons[12]


def test_skip_invalid_imports_good_rows_and_writes_rejects_with_reasons(with_grids, tmp_path):
    frame = incidents_frame(50)
    frame.loc[[5, 9], "category"] = "unknown_thing"
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    report = import_file(with_grids, "incidents", tmp_path / "incidents.csv", skip_invalid=True)
    assert report.inserted == 48
    assert count(with_grids, "incidents") == 48
    rejects = pd.read_csv(report.rejects_file)
    assert rejects["_row"].tolist() == [6, 10]
    assert rejects["case_no"].tolist() == ["C000005", "C000009"]
    assert rejects["_reason"].str.contains("unknown value 'unknown_thing'").all()


def test_reimport_with_external_id_updates_instead_of_duplicating(with_grids, tmp_path):
    frame = incidents_frame(100)
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    mapping = Mapping(external_id="case_no")
    first = import_file(with_grids, "incidents", tmp_path / "incidents.csv", mapping=mapping)
    assert (first.inserted, first.updated) == (100, 0)
    frame.loc[0, "category"] = "drugs"
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    second = import_file(with_grids, "incidents", tmp_path / "incidents.csv", mapping=mapping)
    assert (second.inserted, second.updated) == (0, 100)
    assert count(with_grids, "incidents") == 100
    with with_grids.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT category FROM incidents WHERE external_id = 'C000000'")).scalar() == "drugs"


def test_duplicate_external_ids_in_one_file_are_rejected(with_grids, tmp_path):
    frame = incidents_frame(10)
    frame.loc[6, "case_no"] = "C000002"
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    with pytest.raises(ImportRejected) as caught:
        import_file(with_grids, "incidents", tmp_path / "incidents.csv",
                    mapping=Mapping(external_id="case_no"))
    assert caught.value.rejections[0].row == 7
    assert "duplicate external_id 'C000002' (first on row 3)" in \
        caught.value.rejections[0].reason
    assert count(with_grids, "incidents") == 0


def test_a_grid_code_twice_names_the_plan_not_its_id(db, tmp_path):
    grids = json.loads(grid_geojson(tmp_path / "g.geojson").read_text())
    grids["features"][4]["properties"]["code"] = "G00"
    (tmp_path / "g.geojson").write_text(json.dumps(grids))
    with pytest.raises(ImportRejected) as caught:
        import_file(db, "grids", tmp_path / "g.geojson", plan_name="2027 草案")
    first = caught.value.rejections[0]
    assert (first.row, first.field) == (5, "code")
    assert first.reason == "duplicate code 'G00' in grid plan '2027 草案' (first on row 1)"


def test_imported_points_are_linked_like_the_database_links_them(with_grids, tmp_path):
    incidents_frame(500).to_csv(tmp_path / "incidents.csv", index=False)
    import_file(with_grids, "incidents", tmp_path / "incidents.csv")
    with with_grids.engine.connect() as conn:
        mismatched = conn.execute(sa.text(
            "SELECT count(*) FROM incidents "
            "WHERE grid_id IS DISTINCT FROM gridgis_grid_at(geom)")).scalar_one()
        linked = conn.execute(sa.text(
            "SELECT count(*) FROM incidents WHERE grid_id IS NOT NULL")).scalar_one()
    assert mismatched == 0
    assert linked == 500


def test_points_outside_every_grid_are_counted_unassigned(with_grids, tmp_path):
    frame = incidents_frame(10)
    frame.loc[[0, 1], "lon"] = LON0 - 0.05
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    report = import_file(with_grids, "incidents", tmp_path / "incidents.csv")
    assert report.unassigned == 2


def _same_places_frame():
    frame = incidents_frame(30)
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]),
                            geometry=gpd.points_from_xy(frame.lon, frame.lat), crs=4326)


DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile",
           "fgb": "FlatGeobuf", "gml": "GML", "kml": "KML"}


@pytest.mark.parametrize("suffix", ["geojson", "gpkg", "shp", "zip", "fgb", "gml", "kml",
                                    "csv"])
def test_each_file_format_imports_the_same_rows(with_grids, tmp_path, suffix):
    frame = _same_places_frame()
    path = tmp_path / f"incidents.{suffix}"
    if suffix == "csv":
        pd.DataFrame(frame.drop(columns="geometry")).assign(
            lon=frame.geometry.x, lat=frame.geometry.y).to_csv(path, index=False)
    elif suffix == "zip":
        frame.to_file(tmp_path / "incidents.shp")
        with zipfile.ZipFile(path, "w") as archive:
            for part in tmp_path.glob("incidents.*"):
                if part.suffix != ".zip":
                    archive.write(part, part.name)
    else:
        # (FlatGeobuf's spatial index would reorder the features)
        options = {"SPATIAL_INDEX": "NO"} if suffix == "fgb" else {}
        frame.to_file(path, driver=DRIVERS[suffix], engine="pyogrio", layer_options=options)
    mapping = Mapping(fields={"occurred_at": "occurred_a"}) if suffix in ("shp", "zip") \
        else Mapping()
    report = import_file(with_grids, "incidents", path, mapping=mapping)
    assert report.inserted == 30
    with with_grids.engine.connect() as conn:
        stored = gpd.read_postgis("SELECT category, ST_Transform(geom, 4326) AS geom "
                                  "FROM incidents ORDER BY id", conn, geom_col="geom")
    assert stored.category.tolist() == frame.category.tolist()
    assert np.allclose(stored.geometry.x, frame.geometry.x, atol=1e-7)
    assert np.allclose(stored.geometry.y, frame.geometry.y, atol=1e-7)


def test_us_feet_shapefile_and_wgs84_geojson_land_in_the_same_place(make_db, tmp_path):
    db = make_db(srid=PORTLAND_SRID)
    lon = np.array([-122.68, -122.65, -122.60, -122.55])
    lat = np.array([45.52, 45.50, 45.55, 45.48])
    wgs84 = gpd.GeoDataFrame({"category": ["property_crime"] * 4,
                              "occurred_at": ["2016-08-01"] * 4,
                              "source_crs": ["4326"] * 4},
                             geometry=gpd.points_from_xy(lon, lat), crs=4326)
    wgs84.to_file(tmp_path / "wgs84.geojson")
    feet = wgs84.assign(source_crs="2913").to_crs(2913)
    assert feet.crs.axis_info[0].unit_name == "foot"
    feet.to_file(tmp_path / "feet.shp")
    with zipfile.ZipFile(tmp_path / "feet.zip", "w") as archive:
        for part in tmp_path.glob("feet.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    import_file(db, "incidents", tmp_path / "wgs84.geojson")
    import_file(db, "incidents", tmp_path / "feet.zip",
                mapping=Mapping(fields={"occurred_at": "occurred_a"}))
    with db.engine.connect() as conn:
        gap = conn.execute(sa.text("""
            SELECT max(ST_Distance(a.geom, b.geom)) FROM
              (SELECT row_number() OVER (ORDER BY id) n, geom FROM incidents
                WHERE properties->>'source_crs' = '4326') a
              JOIN (SELECT row_number() OVER (ORDER BY id) n, geom FROM incidents
                WHERE properties->>'source_crs' = '2913') b USING (n)""")).scalar_one()
    assert gap < 1.0


def test_csv_with_split_date_and_time_columns_via_mapping_file(make_db, tmp_path):
    db = make_db(srid=PORTLAND_SRID)
    to_utm = Transformer.from_crs(4326, 32610, always_xy=True)
    x, y = to_utm.transform([-123.11, -123.10], [49.28, 49.27])
    pd.DataFrame({"TYPE": ["Theft from Vehicle", "Other Theft"], "YEAR": [2020, 2020],
                  "MONTH": [3, 12], "DAY": [14, 31], "HOUR": [23, 0], "MINUTE": [5, 59],
                  "X": x, "Y": y}).to_csv(tmp_path / "thefts.csv", index=False)
    (tmp_path / "thefts.toml").write_text("""
kind = "incidents"
crs = "EPSG:32610"
timezone = "America/Vancouver"
[fields]
category = "TYPE"
subcategory = "TYPE"
x = "X"
y = "Y"
[datetime.occurred_at]
year = "YEAR"
month = "MONTH"
day = "DAY"
hour = "HOUR"
minute = "MINUTE"
[values.category]
"Theft from Vehicle" = "property_crime"
"Other Theft" = "property_crime"
""")
    mapping = load_mapping_file(tmp_path / "thefts.toml")
    report = import_file(db, "incidents", tmp_path / "thefts.csv", mapping=mapping)
    assert report.inserted == 2
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT subcategory, category, occurred_at AT TIME ZONE 'America/Vancouver' "
            "FROM incidents ORDER BY id")).all()
    assert [(r[0], r[1]) for r in rows] == [("Theft from Vehicle", "property_crime"),
                                            ("Other Theft", "property_crime")]
    assert [r[2].isoformat() for r in rows] == ["2020-03-14T23:05:00", "2020-12-31T00:59:00"]


def test_malformed_geojson_is_a_clear_error(db, tmp_path):
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(InvalidInput, match="not valid JSON"):
        import_file(db, "grids", tmp_path / "broken.geojson")


def test_bad_features_are_named_by_number(with_grids, tmp_path):
    good = {"type": "Feature", "properties": {"category": "fire", "occurred_at": "2024-05-01"},
            "geometry": {"type": "Point", "coordinates": [LON0 + 0.001, LAT0 + 0.001]}}
    features = [good, {**good, "geometry": {"type": "Point", "coordinates": ["a"]}},
                {**good, "geometry": None}, {"type": "Nope"},
                {**good, "geometry": {"type": "LineString",
                                      "coordinates": [[LON0, LAT0], [LON0 + 0.01, LAT0]]}}]
    (tmp_path / "f.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                   "features": features}))
    with pytest.raises(ImportRejected) as caught:
        import_file(with_grids, "incidents", tmp_path / "f.geojson")
    reasons = {r.row: r.reason for r in caught.value.rejections}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "malformed Point" in reasons[2]
    assert "no geometry" in reasons[3]
    assert "not a GeoJSON Feature" in reasons[4]
    assert "expected a Point, got LineString" in reasons[5]


def test_swapped_coordinates_are_rejected_with_a_hint(with_grids, tmp_path):
    frame = incidents_frame(5)
    frame.loc[2, ["lon", "lat"]] = [LAT0, LON0]  # in range but swapped: far outside UTM 35N
    frame.loc[3, ["lon", "lat"]] = [LAT0, 124.9]  # latitude out of range
    frame.to_csv(tmp_path / "incidents.csv", index=False)
    with pytest.raises(ImportRejected) as caught:
        import_file(with_grids, "incidents", tmp_path / "incidents.csv")
    reasons = {r.row: r.reason for r in caught.value.rejections}
    assert "swapped" in reasons[3]
    assert "swapped" in reasons[4]


def test_self_intersecting_polygon_is_repaired_and_reported(db, tmp_path):
    bowtie = Polygon([(LON0, LAT0), (LON0 + 0.01, LAT0 + 0.01), (LON0 + 0.01, LAT0),
                      (LON0, LAT0 + 0.01)])
    assert not bowtie.is_valid
    gpd.GeoDataFrame({"code": ["B1"]}, geometry=[bowtie], crs=4326).to_file(
        tmp_path / "bowtie.geojson")
    report = import_file(db, "grids", tmp_path / "bowtie.geojson")
    assert report.repaired == [1]
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT ST_IsValid(geom) FROM grids")).scalar() is True
    with pytest.raises(ImportRejected, match="Self-intersection"):
        import_file(db, "grids", tmp_path / "bowtie.geojson", repair=False)


def test_polygon_that_cannot_be_repaired_is_rejected(db, tmp_path):
    flat = Polygon([(LON0, LAT0), (LON0 + 0.01, LAT0), (LON0 + 0.02, LAT0), (LON0, LAT0)])
    gpd.GeoDataFrame({"code": ["F1"]}, geometry=[flat], crs=4326).to_file(
        tmp_path / "flat.geojson")
    with pytest.raises(ImportRejected, match="cannot be repaired"):
        import_file(db, "grids", tmp_path / "flat.geojson")


def test_unknown_crs_is_a_clear_error(with_grids, tmp_path):
    incidents_frame(3).to_csv(tmp_path / "incidents.csv", index=False)
    with pytest.raises(InvalidInput, match="EPSG:999999"):
        import_file(with_grids, "incidents", tmp_path / "incidents.csv",
                    mapping=Mapping(crs="EPSG:999999"))


def test_projected_csv_without_crs_asks_for_one(with_grids, tmp_path):
    pd.DataFrame({"category": ["fire"], "occurred_at": ["2024-01-01"], "x": [385000],
                  "y": [6672000]}).to_csv(tmp_path / "xy.csv", index=False)
    with pytest.raises(InvalidInput, match="pass --crs"):
        import_file(with_grids, "incidents", tmp_path / "xy.csv")


def test_wrong_types_are_rejected_per_row(db, tmp_path):
    gpd.GeoDataFrame({"levels": ["3", "three", "2.5"]},
                     geometry=[box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)] * 3,
                     crs=4326).to_file(tmp_path / "b.geojson")
    with pytest.raises(ImportRejected) as caught:
        import_file(db, "buildings", tmp_path / "b.geojson")
    assert [(r.row, r.field) for r in caught.value.rejections] == [(2, "levels"), (3, "levels")]


def test_missing_required_column_names_the_field(with_grids, tmp_path):
    incidents_frame(3).drop(columns="category").to_csv(tmp_path / "i.csv", index=False)
    with pytest.raises(InvalidInput, match="required field category.*--map category=COLUMN"):
        import_file(with_grids, "incidents", tmp_path / "i.csv")


def test_field_mapping_with_value_map(with_grids, tmp_path):
    frame = incidents_frame(3).rename(columns={"category": "TYPE", "occurred_at": "WHEN"})
    frame["TYPE"] = ["BURGLARY", "burglary", "STREET CRIMES"]
    frame.to_csv(tmp_path / "i.csv", index=False)
    mapping = Mapping(fields={"category": "TYPE", "occurred_at": "WHEN"},
                      values={"category": {"BURGLARY": "property_crime",
                                           "STREET CRIMES": "public_order"}})
    import_file(with_grids, "incidents", tmp_path / "i.csv", mapping=mapping)
    with with_grids.engine.connect() as conn:
        got = conn.execute(sa.text("SELECT category FROM incidents ORDER BY id")).scalars().all()
    assert got == ["property_crime", "property_crime", "public_order"]


def test_area_hierarchy_resolves_parents_within_the_file(db, tmp_path):
    district = box(LON0, LAT0, LON0 + 0.02, LAT0 + 0.02)
    rows = [("community", "110101001001", "社区一", "110101001", district),
            ("subdistrict", "110101001", "街道", "110101", district),
            ("district", "110101", "区", None, district)]
    gpd.GeoDataFrame([dict(level=a, code=b, name=c, parent_code=d) for a, b, c, d, _ in rows],
                     geometry=[r[4] for r in rows], crs=4326).to_file(tmp_path / "a.geojson")
    import_file(db, "areas", tmp_path / "a.geojson")
    with db.engine.connect() as conn:
        chain = conn.execute(sa.text(
            "SELECT c.code, p.code FROM areas c LEFT JOIN areas p ON p.id = c.parent_id "
            "ORDER BY c.code")).all()
    assert chain == [("110101", None), ("110101001", "110101"), ("110101001001", "110101001")]


def test_unknown_parent_code_is_rejected_with_its_row(db, tmp_path):
    gpd.GeoDataFrame([dict(level="community", code="X1", name="x", parent_code="NOPE")],
                     geometry=[box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)],
                     crs=4326).to_file(tmp_path / "a.geojson")
    with pytest.raises(ImportRejected) as caught:
        import_file(db, "areas", tmp_path / "a.geojson")
    assert (caught.value.rejections[0].row, caught.value.rejections[0].field) == \
        (1, "parent_code")
    assert "[values.parent_code]" in caught.value.rejections[0].reason  # how to fix it
    assert count(db, "areas") == 0


def test_a_value_map_fixes_a_zero_padded_parent_code(db, tmp_path):
    """The district is '1'; the file's communities say '01': a value map on the
    parent code, as the error suggests, imports them."""
    square = box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)
    gpd.GeoDataFrame([dict(level="district", code="1", name="d", parent_code=None),
                      dict(level="community", code="11", name="c", parent_code="01")],
                     geometry=[square, square], crs=4326).to_file(tmp_path / "a.geojson")
    with pytest.raises(ImportRejected):
        import_file(db, "areas", tmp_path / "a.geojson")
    mapping = tmp_path / "areas.toml"
    mapping.write_text('[values.parent_code]\n"01" = "1"\n')
    report = import_file(db, "areas", tmp_path / "a.geojson",
                         mapping=load_mapping_file(mapping))
    assert report.inserted == 2
    with db.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT p.code FROM areas c JOIN areas p ON p.id = c.parent_id")).scalar_one() == "1"


def test_workers_are_assigned_to_grids_by_code(with_grids, tmp_path):
    pd.DataFrame({"name": ["王芳", "李伟"], "emp": ["W1", "W2"],
                  "grid_codes": ["G00,G01", "G11"]}).to_csv(tmp_path / "w.csv", index=False)
    import_file(with_grids, "workers", tmp_path / "w.csv",
                mapping=Mapping(external_id="emp"))
    with with_grids.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT w.name, g.code, a.role FROM grid_assignments a JOIN workers w "
            "ON w.id = a.worker_id JOIN grids g ON g.id = a.grid_id ORDER BY 1, 2")).all()
    assert [tuple(r) for r in rows] == [("李伟", "G11", "primary"), ("王芳", "G00", "primary"),
                                        ("王芳", "G01", "secondary")]


def test_first_import_into_an_empty_database_chooses_the_utm_zone(make_db, tmp_path):
    db = make_db(srid=None)
    report = import_file(db, "grids", grid_geojson(tmp_path / "g.geojson"))
    assert report.srid == 32635
    assert db.srid == 32635


def test_grids_reimport_upserts_on_code_and_relinks(with_grids, tmp_path):
    frame = incidents_frame(20)
    frame.to_csv(tmp_path / "i.csv", index=False)
    import_file(with_grids, "incidents", tmp_path / "i.csv")
    report = import_file(with_grids, "grids", grid_geojson(tmp_path / "g.geojson", cols=1,
                                                           rows=1, step=0.05))
    assert (report.inserted, report.updated) == (0, 1)
    with with_grids.engine.connect() as conn:
        codes = conn.execute(sa.text(
            "SELECT DISTINCT g.code FROM incidents i JOIN grids g ON g.id = i.grid_id"
        )).scalars().all()
    assert codes == ["G00"]


def test_empty_optional_cells_become_nulls(with_grids, tmp_path):
    frame = incidents_frame(2)
    frame["description"] = ["", "窗户被砸"]
    frame.to_csv(tmp_path / "i.csv", index=False)
    import_file(with_grids, "incidents", tmp_path / "i.csv")
    with with_grids.engine.connect() as conn:
        got = conn.execute(sa.text("SELECT description FROM incidents ORDER BY id")).scalars()
        assert list(got) == [None, "窗户被砸"]


def test_unmapped_columns_are_kept_as_properties(with_grids, tmp_path):
    frame = incidents_frame(1)
    frame["census_tract"] = "004101"
    frame.to_csv(tmp_path / "i.csv", index=False)
    import_file(with_grids, "incidents", tmp_path / "i.csv")
    with with_grids.engine.connect() as conn:
        props = conn.execute(sa.text("SELECT properties FROM incidents")).scalar_one()
    assert props == {"case_no": "C000000", "census_tract": "004101"}


def test_point_geometry_for_polygon_kind_is_rejected(db, tmp_path):
    gpd.GeoDataFrame({"code": ["P"]}, geometry=[Point(LON0, LAT0)], crs=4326).to_file(
        tmp_path / "p.geojson")
    with pytest.raises(ImportRejected, match="expected a Polygon or MultiPolygon, got Point"):
        import_file(db, "grids", tmp_path / "p.geojson")


def test_local_times_around_daylight_saving_changes(make_db, tmp_path):
    db = make_db(srid=PORTLAND_SRID)
    to_utm = Transformer.from_crs(4326, 32610, always_xy=True)
    x, y = to_utm.transform(-123.1, 49.28)
    pd.DataFrame({"category": ["other"] * 2,
                  "when": ["2020-11-01 01:30", "2020-03-08 02:30"],  # repeated / skipped
                  "X": [x, x], "Y": [y, y]}).to_csv(tmp_path / "dst.csv", index=False)
    import_file(db, "incidents", tmp_path / "dst.csv", mapping=Mapping(
        crs="EPSG:32610", timezone="America/Vancouver",
        fields={"occurred_at": "when", "x": "X", "y": "Y"}))
    with db.engine.connect() as conn:
        got = conn.execute(sa.text("SELECT occurred_at AT TIME ZONE 'UTC' FROM incidents "
                                   "ORDER BY id")).scalars().all()
    # 01:30 PDT (first occurrence) = 08:30 UTC; 02:30 does not exist, moved to 03:30 PDT
    assert [t.isoformat() for t in got] == ["2020-11-01T08:30:00", "2020-03-08T10:30:00"]


def test_progress_reports_rows_read_of_the_total(with_grids, tmp_path):
    incidents_frame(250).to_csv(tmp_path / "i.csv", index=False)
    seen: list[tuple[int, int | None]] = []
    import_file(with_grids, "incidents", tmp_path / "i.csv",
                progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (250, 250)


def test_implausible_dates_are_rejected_with_their_rows(with_grids, tmp_path):
    frame = incidents_frame(4)
    frame.loc[1, "occurred_at"] = "0001-01-01T00:00:00"
    frame.loc[3, "occurred_at"] = "2999-06-01T00:00:00"
    frame.to_csv(tmp_path / "i.csv", index=False)
    with pytest.raises(ImportRejected) as rejected:
        import_file(with_grids, "incidents", tmp_path / "i.csv")
    reasons = {r.row: r.reason for r in rejected.value.rejections}
    assert set(reasons) == {2, 4}
    assert "earliest date" in reasons[2] and "future" in reasons[4]


def test_oversized_free_form_attributes_are_rejected(with_grids, tmp_path):
    frame = incidents_frame(2)
    frame["notes"] = ["short", "x" * 70_000]
    frame.to_csv(tmp_path / "i.csv", index=False)
    with pytest.raises(ImportRejected) as rejected:
        import_file(with_grids, "incidents", tmp_path / "i.csv")
    assert [(r.row, r.field) for r in rejected.value.rejections] == [(2, "properties")]


def test_rows_sharing_a_code_are_dissolved_into_one_multipolygon_on_request(db, tmp_path):
    """A district drawn as three polygons (two touching, one apart), as real KML and
    shapefiles often are: refused as duplicates by default, one area with --dissolve."""
    step = 0.01
    parts = [box(LON0, LAT0, LON0 + step, LAT0 + step),
             box(LON0 + step, LAT0, LON0 + 2 * step, LAT0 + step),
             box(LON0 + 5 * step, LAT0, LON0 + 6 * step, LAT0 + step)]
    rows = [dict(level="district", code="D1", name=f"part {i}", parent_code=None)
            for i in range(3)]
    rows.append(dict(level="subdistrict", code="S1", name="s", parent_code="D1"))
    gpd.GeoDataFrame(rows, geometry=[*parts, parts[0]], crs=4326).to_file(
        tmp_path / "areas.geojson")
    with pytest.raises(ImportRejected) as caught:
        import_file(db, "areas", tmp_path / "areas.geojson")
    assert [r.row for r in caught.value.rejections] == [2, 3]
    assert "duplicate code 'D1' (first on row 1)" in caught.value.rejections[0].reason
    report = import_file(db, "areas", tmp_path / "areas.geojson",
                         mapping=Mapping(dissolve=True))
    assert report.inserted == 2 and report.dissolved == [("D1", 3, True)]  # names differ
    with db.engine.connect() as conn:
        name, pieces, area, parent = conn.execute(sa.text(
            "SELECT d.name, ST_NumGeometries(d.geom), "
            "ST_Area(ST_Transform(d.geom, 4326)::geography), p.code "
            "FROM areas d LEFT JOIN areas s ON s.parent_id = d.id "
            "LEFT JOIN areas p ON p.id = s.parent_id WHERE d.code = 'D1'")).one()
        expected = conn.execute(sa.text(
            "SELECT sum(ST_Area(ST_GeomFromText(w, 4326)::geography)) "
            "FROM unnest(CAST(:w AS text[])) w"), {"w": [p.wkt for p in parts]}).scalar()
    assert (name, pieces, parent) == ("part 0", 2, "D1")  # the first row's attributes
    assert area == pytest.approx(expected, rel=1e-6)


def test_dissolve_is_only_for_areas_and_grids_by_code(with_grids, tmp_path):
    incidents_frame(3).to_csv(tmp_path / "i.csv", index=False)
    with pytest.raises(InvalidInput, match="for areas and grids, not incidents"):
        import_file(with_grids, "incidents", tmp_path / "i.csv",
                    mapping=Mapping(dissolve=True))
    with pytest.raises(InvalidInput, match="use one or the other"):
        import_file(with_grids, "grids", grid_geojson(tmp_path / "g.geojson"),
                    mapping=Mapping(dissolve=True, external_id="code"))


def test_a_refused_grid_import_leaves_no_plan_and_takes_no_id(db, tmp_path):
    def sequence() -> tuple:
        with db.engine.connect() as conn:
            return tuple(conn.execute(sa.text(
                "SELECT last_value, is_called FROM grid_plans_id_seq")).one())

    start = sequence()
    grids = json.loads(grid_geojson(tmp_path / "g.geojson").read_text())
    grids["features"][2]["properties"]["code"] = "G00"  # refused at the merge
    (tmp_path / "late.geojson").write_text(json.dumps(grids))
    grids["features"][2]["geometry"] = {"type": "Point", "coordinates": [LON0, LAT0]}
    (tmp_path / "early.geojson").write_text(json.dumps(grids))  # refused while reading
    for name in ("late", "early"):
        for plan in ("2027", None):  # a new draft, or the first (published) plan
            with pytest.raises(ImportRejected):
                import_file(db, "grids", tmp_path / f"{name}.geojson", plan_name=plan)
    assert count(db, "grid_plans") == 0 and sequence() == start
    # with --skip-invalid and every row refused, no (empty) plan is made either
    grids["features"] = grids["features"][2:3]
    (tmp_path / "none.geojson").write_text(json.dumps(grids))
    skipped = import_file(db, "grids", tmp_path / "none.geojson", plan_name="2027",
                          skip_invalid=True, rejects_path=tmp_path / "r.csv")
    assert skipped.inserted == 0 and count(db, "grid_plans") == 0 and sequence() == start
    report = import_file(db, "grids", grid_geojson(tmp_path / "ok.geojson"), plan_name="2027")
    assert report.inserted == 9
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id, state FROM grid_plans")).one() == (1, "draft")
