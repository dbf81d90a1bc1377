"""Reading files: the row count a CSV's progress bar shows; GeoJSON streamed in chunks
with the file's row numbers, and clear errors for broken documents."""

import gzip
import json

import pytest

from gridgis.gis.errors import InvalidInput
from gridgis.gis.importing.readers import count_data_lines, open_source


def test_csv_rows_are_counted_for_progress(tmp_path):
    plain = tmp_path / "a.csv"
    plain.write_text("lon,lat\n1,2\n3,4\n5,6\n")
    assert count_data_lines(plain) == 3
    unterminated = tmp_path / "b.csv"
    unterminated.write_text("lon,lat\n1,2\n3,4")
    assert count_data_lines(unterminated) == 2
    packed = tmp_path / "c.csv.gz"
    packed.write_bytes(gzip.compress(b"lon,lat\n" + b"1,2\n" * 1000))
    assert count_data_lines(packed) == 1000
    header_only = tmp_path / "d.csv"
    header_only.write_text("lon,lat\n")
    assert count_data_lines(header_only) == 0
    source = open_source(plain)
    assert source.rows is None and source.total_rows() == 3


def _feature(i: int, **extra) -> dict:
    return {"type": "Feature", "properties": {"n": i, **extra},
            "geometry": {"type": "Point", "coordinates": [24.9 + i / 1000, 60.1]}}


def test_a_feature_collection_is_streamed_in_chunks_with_file_row_numbers(tmp_path):
    path = tmp_path / "f.geojson"
    features = [_feature(i) for i in range(4)] + [42, _feature(5, late="x")]
    path.write_text(json.dumps({"features": features, "type": "FeatureCollection",
                                "crs": {"type": "name",
                                        "properties": {"name": "EPSG:3857"}}}))
    source = open_source(path, chunk_rows=2)
    assert source.total_rows() == 6 and source.crs.to_epsg() == 3857
    assert source.columns == ["late", "n"]  # every feature's properties, also the last's
    chunks = list(source.chunks)
    assert [c.first_row for c in chunks] == [1, 3, 5]
    assert chunks[2].geometry_errors == {0: "not a GeoJSON Feature object"}
    assert chunks[2].frame["late"].tolist()[1] == "x"


@pytest.mark.parametrize(("text", "message"), [
    ('{"type": "FeatureCollection", "features": [{"type": "Feature"', "not valid JSON"),
    ("[1, 2]", "no 'type' member"),
    ('{"type": "FeatureCollection"}', "needs a 'features' array"),
    ('{"type": "Nonsense"}', "unknown GeoJSON type 'Nonsense'"),
])
def test_broken_geojson_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        list(open_source(path).chunks)


def test_a_bare_feature_is_still_read(tmp_path):
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(_feature(1)))
    (chunk,) = open_source(path).chunks
    assert chunk.frame["n"].tolist() == ["1"] and chunk.geometry[0].x == pytest.approx(24.901)


@pytest.mark.parametrize(("encoding", "value"), [("utf-8-sig", 1.5), ("utf-16", 1.5),
                                                  ("utf-8", float("nan"))])
def test_what_python_reads_is_still_read(tmp_path, encoding, value):
    """A byte-order mark (Windows tools), UTF-16 and NaN stop the streaming parser; the
    document is then read whole, as before."""
    path = tmp_path / "bom.geojson"
    text = json.dumps({"type": "FeatureCollection", "features": [_feature(1, v=value)]})
    path.write_bytes(text.encode(encoding))
    (chunk,) = open_source(path).chunks
    assert chunk.frame["n"].tolist() == ["1"] and not chunk.geometry_errors
