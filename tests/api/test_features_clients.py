"""The OGC API read by the GIS clients users have: GDAL's OAPIF driver (ogrinfo, and
ogr2ogr of a whole collection across pages), OWSLib, and QGIS's OAPIF provider in
headless Python (Debian's python3-qgis), each reading every collection with the right
feature count and CRS, through a live server and a user's token."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from gridgis.api.app import create_app
from tests.accounts import token_for
from tests.browser import live_server
from tests.helpers import X0, Y0

TO_LONLAT = Transformer.from_crs(32635, 4326, always_xy=True)
QGIS_PYTHON = "/usr/bin/python3"  # Debian's, with python3-qgis
READ_LAYERS = Path(__file__).parent / "read_oapif_in_qgis.py"
COUNTS = {"areas-district": 1, "areas-subdistrict": 1, "areas-community": 2, "grids": 9,
          "buildings": 1, "places": 1, "things": 1, "organisations": 1, "incidents": 4,
          "households": 1, "people": 3,
          "hotspots-gi": 7}  # 150 m hexagons over the 300 m district: an analysis, staged


@pytest.fixture
def served(seeded, api_settings):
    db, _ = seeded
    with db.engine.begin() as conn:  # a draft plan: its grids are a collection too
        draft = conn.execute(sa.text("INSERT INTO grid_plans (name, state) VALUES "
                                     "('草案', 'draft') RETURNING id")).scalar_one()
    token = token_for(db, "admin")
    with live_server(create_app(api_settings, database=db)) as base:
        yield base, token, f"grids-plan-{draft}"


def gdal(*args: str, token: str) -> str:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}",
           "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_and_counts_every_collection_and_copies_one_across_pages(served, tmp_path):
    base, token, draft = served
    listing = gdal("ogrinfo", "-ro", "-q", f"OAPIF:{base}", token=token)
    for name in (*COUNTS, draft):
        assert f": {name} " in listing or listing.rstrip().endswith(f": {name}") or \
            f": {name} (" in listing, (name, listing)
    for name, count in COUNTS.items():
        summary = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}", name, token=token)
        assert f"Feature Count: {count}" in summary, (name, summary)
        assert 'ID["EPSG",4326]' in summary or "WGS 84" in summary, summary
    copied = tmp_path / "grids.geojson"
    gdal("ogr2ogr", "-f", "GeoJSON", str(copied), f"OAPIF:{base}", "grids",
         "-oo", "PAGE_SIZE=2", token=token)
    features = json.loads(copied.read_text())["features"]
    assert len(features) == 9 and len({f["properties"]["code"] for f in features}) == 9


def test_owslib_reads_collections_and_edits_a_draft(served):
    from owslib.ogcapi.features import Features

    base, token, draft = served
    api = Features(base, headers={"Authorization": f"Bearer {token}"})
    assert api.conformance()["conformsTo"]
    found = {c["id"] for c in api.collections()["collections"]}
    assert set(COUNTS) <= found
    for name, count in COUNTS.items():
        body = api.collection_items(name, limit=100)
        assert body["numberMatched"] == count and len(body["features"]) == count, name
    assert "category" in api.collection_queryables("incidents")["properties"]
    filtered = api.collection_items("incidents", filter="category = 'fire'")
    assert filtered["numberMatched"] == 1
    # Part 4 on the draft plan's grids: a grid drawn where no grid was, then renamed
    lon, lat = TO_LONLAT.transform(X0 + 10, Y0 + 10)
    ring = [[lon, lat], [lon + 0.0005, lat], [lon + 0.0005, lat + 0.0005], [lon, lat]]
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"code": "Q1", "name": "东"}}
    assert api.collection_item_create(draft, feature)
    made = api.collection_items(draft)["features"]
    assert [f["properties"]["code"] for f in made] == ["Q1"]
    feature["properties"]["name"] = "西"
    assert api.collection_item_update(draft, made[0]["id"], feature)
    assert api.collection_item(draft, made[0]["id"])["properties"]["name"] == "西"


def test_qgis_oapif_provider_reads_every_collection(served):
    base, token, _ = served
    found = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True)
    if found.returncode != 0:
        raise RuntimeError("QGIS's Python bindings are missing: scripts/bootstrap.sh --test "
                           "installs python3-qgis")
    done = subprocess.run([QGIS_PYTHON, str(READ_LAYERS), json.dumps(
        {"url": base, "token": token, "layers": list(COUNTS)})],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-3000:]
    layers = json.loads(done.stdout.strip().splitlines()[-1])
    for name, count in COUNTS.items():
        assert layers[name]["valid"], (name, layers[name])
        assert layers[name]["count"] == count, (name, layers[name])
        assert layers[name]["crs"] in ("OGC:CRS84", "EPSG:4326"), layers[name]
