"""Reading files: the row count a CSV's progress bar shows."""

import gzip

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
