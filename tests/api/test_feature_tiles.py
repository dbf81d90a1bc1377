"""Vector tiles of the collections, decoded by an independent decoder
(mapbox-vector-tile): features where they are, unmasked fields only, clusters below the
point detail zoom, the user's scope, ETag and 304, empty tiles, the tile matrix set and
TileJSON documents."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
from pyproj import Transformer

from tests.api.helpers import assert_problem
from tests.helpers import X0, Y0

TMS = morecantile.tms.get("WebMercatorQuad")
TO_LONLAT = Transformer.from_crs(32635, 4326, always_xy=True)
CENTRE = TO_LONLAT.transform(X0 + 150, Y0 + 150)
FIRST_INCIDENT = TO_LONLAT.transform(X0 + 20, Y0 + 20)


def tile_path(collection: str, zoom: int, at: tuple[float, float] = CENTRE) -> str:
    tile = TMS.tile(*at, zoom)
    return f"/collections/{collection}/tiles/WebMercatorQuad/{zoom}/{tile.x}/{tile.y}"


def decoded(client, collection: str, zoom: int, at: tuple[float, float] = CENTRE
            ) -> list[dict]:
    answer = client.get(tile_path(collection, zoom, at))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(answer.content)[collection]["features"]


def test_grids_come_whole_with_their_codes(client):
    grids = decoded(client, "grids", 12)
    assert sorted(f["properties"]["code"] for f in grids)[0] == "110101001001000"
    assert len(grids) == 9 and all(f["geometry"]["type"] == "Polygon" for f in grids)
    assert len({f["id"] for f in grids}) == 9


def test_points_are_clustered_below_the_detail_zoom_and_single_above(as_role):
    with as_role("viewer") as viewer:
        clusters = decoded(viewer, "incidents", 12)
        assert sum(f["properties"]["count"] for f in clusters) == 4
        assert set(clusters[0]["properties"]) == {"count"}
        single = decoded(viewer, "incidents", 17, FIRST_INCIDENT)
        assert single and all("category" in f["properties"] for f in single)
        assert all("description" not in f["properties"] for f in single)  # masked: absent
        assert single[0]["properties"]["occurred_at"].endswith("Z")


def test_a_scoped_user_gets_only_their_grids_rows(as_role):
    with as_role("grid_worker", ["110101001001000"]) as worker:
        people = decoded(worker, "people", 12)
        assert sum(f["properties"]["count"] for f in people) == 2
    with as_role("admin") as admin:
        assert sum(f["properties"]["count"] for f in decoded(admin, "people", 12)) == 3


def test_etag_empty_tiles_and_bad_coordinates(client):
    path = tile_path("grids", 12)
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    far = client.get("/collections/grids/tiles/WebMercatorQuad/12/0/0")
    assert far.status_code == 204
    assert_problem(client.get("/collections/grids/tiles/WebMercatorQuad/3/9/0"), 400,
                   "tileCol")
    assert_problem(client.get("/collections/grids/tiles/WebMercatorQuad/30/0/0"), 400,
                   "tileMatrix")
    assert_problem(client.get("/collections/grids/tiles/WorldCRS84Quad/1/0/0"), 404)


def test_tile_matrix_set_tilesets_and_tilejson(client):
    matrix_set = client.get("/tileMatrixSets/WebMercatorQuad").json()
    assert matrix_set["id"] == "WebMercatorQuad" and len(matrix_set["tileMatrices"]) > 20
    tilesets = client.get("/collections/incidents/tiles").json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector"
    template = [link for link in tilesets[0]["links"] if link["rel"] == "item"][0]["href"]
    assert template.endswith("/collections/incidents/tiles/WebMercatorQuad/{tileMatrix}/"
                             "{tileCol}/{tileRow}")
    document = client.get("/collections/incidents/tiles/WebMercatorQuad/tilejson.json").json()
    assert document["tilejson"] == "3.0.0" and document["tiles"][0].endswith("/{z}/{x}/{y}")
    assert document["vector_layers"][0]["fields"]["category"] == "String"


def test_tiles_carry_no_personal_field_and_reads_of_personal_kinds_are_audited(as_role,
                                                                                seeded):
    import sqlalchemy as sa

    db, _ = seeded
    person = TO_LONLAT.transform(X0 + 50, Y0 + 50)
    with as_role("admin") as admin:  # who may see every personal field
        people = decoded(admin, "people", 17, person)
        assert people and not {"name", "id_number", "phone", "birth_date",
                               "community_correction"} & set(people[0]["properties"])
    with db.engine.connect() as conn:
        entries = conn.execute(sa.text(
            "SELECT detail FROM audit_log WHERE resource = 'people' AND action = 'read'")
        ).scalars().all()
    assert any(entry.startswith("vector tile 17/") for entry in entries)
