"""Import the real open crime data in ../shared/data with the generic importer.

    .venv/bin/python tests/bench/bench_real_data.py [--shared ../shared/data]

For Portland (calls for service Aug + Sep 2016, zipped shapefiles in EPSG:2913 feet,
60 police districts) and Vancouver (thefts 2020, CSV with split date/time columns in
UTM 10N, 22 neighbourhoods), each in its own throw-away embedded cluster: imports the
areas, the same polygons as a published grid plan, and the incidents with the mapping
files in data/, then prints row counts, rejected rows with their reasons, time taken and
how many incidents fell outside every grid. The same commands are in the README.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridgis.gis.importing import import_file, load_mapping_file
from tests.bench.scratch import scratch_database

ROOT = Path(__file__).resolve().parents[2]

DATASETS = {
    "portland": [
        ("areas", "portland/portland-police-districts.zip", "portland-districts.toml"),
        ("grids", "portland/portland-police-districts.zip", "portland-districts.toml"),
        ("incidents", "portland/080116_083116_Data.zip", "portland.toml"),
        ("incidents", "portland/090116_093016_Data.zip", "portland.toml"),
    ],
    "vancouver": [
        ("areas", "vancouver/vancouver_neighbourhoods.geojson",
         "vancouver-neighbourhoods.toml"),
        ("grids", "vancouver/vancouver_neighbourhoods.geojson",
         "vancouver-neighbourhoods.toml"),
        ("incidents", "vancouver/vancouver_thefts.csv.gz", "vancouver.toml"),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    for name, steps in DATASETS.items():
        with scratch_database(prefix=f"gridgis-{name}-") as (_, db, _):
            print(f"\n== {name}")
            for kind, source, mapping_file in steps:
                mapping = load_mapping_file(ROOT / "data" / mapping_file)
                mapping.kind = None  # the district file serves as areas and as grids
                if kind == "grids":
                    mapping.constants.pop("level", None)
                    mapping.fields.pop("name", None)
                started = time.perf_counter()
                report = import_file(db, kind, args.shared / source, mapping=mapping,
                                     skip_invalid=True, keep_extra=True)
                reasons = Counter(r.reason for r in report.rejections)
                print(f"{kind:9} {source:45} {report.inserted:6} in, "
                      f"{len(report.rejections):3} rejected, "
                      f"{report.unassigned:5} outside every grid, "
                      f"{time.perf_counter() - started:5.1f} s (EPSG:{report.srid})")
                for reason, count in reasons.most_common(5):
                    print(f"          {count} × {reason}")


if __name__ == "__main__":
    main()
