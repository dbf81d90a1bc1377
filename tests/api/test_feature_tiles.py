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


def test_a_kept_tile_is_made_again_when_its_data_change_and_each_read_is_audited(
        as_role, seeded, monkeypatch):
    import sqlalchemy as sa

    from gridgis.gis.features import tiles

    made = []
    make = tiles.make_tile
    monkeypatch.setattr(tiles, "make_tile", lambda *args: made.append(args[2:]) or make(*args))
    db, _ = seeded
    with as_role("admin") as admin:
        first = decoded(admin, "incidents", 12)
        assert decoded(admin, "incidents", 12) == first and len(made) == 1  # kept
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, geom) VALUES ('fire', "
                "'2026-05-01 12:00+00', ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
                {"x": X0 + 150, "y": Y0 + 150})
        after = decoded(admin, "incidents", 12)
        assert len(made) == 2 and sum(f["properties"]["count"] for f in after) == \
            sum(f["properties"]["count"] for f in first) + 1
        assert decoded(admin, "grids", 12)  # other tables' tiles are kept apart
        with db.engine.connect() as conn:
            reads = conn.execute(sa.text(
                "SELECT count(*) FROM audit_log WHERE resource = 'incidents' "
                "AND detail LIKE 'vector tile 12/%'")).scalar_one()
        assert reads == 3  # the tile from the cache is audited too


def test_a_kept_tile_is_never_given_to_a_reader_of_another_scope(as_role):
    with as_role("admin") as admin:
        assert sum(f["properties"]["count"] for f in decoded(admin, "people", 12)) == 3
    with as_role("grid_worker", ["110101001001000"]) as worker:
        assert sum(f["properties"]["count"] for f in decoded(worker, "people", 12)) == 2


def test_tiles_of_the_features_a_filter_or_a_time_selects(client):
    def count(**params) -> int:
        answer = client.get(tile_path("incidents", 12), params=params)
        if answer.status_code == 204:
            return 0
        assert answer.status_code == 200, answer.text
        return sum(f["properties"]["count"]
                   for f in mapbox_vector_tile.decode(answer.content)["incidents"]["features"])

    assert count() == 4
    assert count(category="fire") == count(filter="category IN ('fire')") == 1
    assert count(filter="category <> 'fire'") == 3
    assert count(datetime="2100-01-01T00:00:00Z/..") == 0
    assert_problem(client.get(tile_path("incidents", 12), params={"limit": 3}), 400, "limit")
    assert_problem(client.get(tile_path("incidents", 12), params={"category": "x",
                                                                  "f": "png"}), 400)


def test_polygons_smaller_than_a_pixel_are_left_out(client):
    building = TO_LONLAT.transform(X0 + 75, Y0 + 75)  # 30 x 30 m
    assert len(decoded(client, "buildings", 12, building)) == 1  # a pixel: 19 x 19 m
    far = client.get(tile_path("buildings", 10, building))  # a pixel: 76 x 76 m
    assert far.status_code == 204


def test_tiles_carry_the_properties_asked_for(client):
    answer = client.get(tile_path("grids", 12), params={"properties": "id,code"})
    grids = mapbox_vector_tile.decode(answer.content)["grids"]["features"]
    assert {frozenset(f["properties"]) for f in grids} == {frozenset({"id", "code"})}
    assert_problem(client.get(tile_path("grids", 12), params={"properties": "secret"}), 400,
                   "properties")


def test_a_tile_is_sent_compressed_to_clients_that_take_it(client):
    import gzip

    path = tile_path("grids", 12)
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # decoded by the client
    assert packed.headers["ETag"] != plain.headers["ETag"]
    raw = client.build_request("GET", path, headers={"Accept-Encoding": "gzip"})
    body = client.send(raw, stream=True)
    assert gzip.decompress(b"".join(body.iter_raw())) == plain.content
    again = client.get(path, headers={"Accept-Encoding": "gzip",
                                      "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    page = client.get("/collections?f=json", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip"  # the middleware, for the rest


def test_a_filter_on_a_masked_field_is_refused_also_when_the_tile_is_kept(as_role):
    path = tile_path("incidents", 17, FIRST_INCIDENT)
    with as_role("police") as police:  # sees the incidents' descriptions
        assert police.get(path, params={"description": "x"}).status_code in (200, 204)
    with as_role("viewer") as viewer:
        assert_problem(viewer.get(path, params={"description": "x"}), 403)



def test_road_tiles_carry_minor_streets_only_from_street_zoom(seeded, as_role):
    import sqlalchemy as sa

    db, _ = seeded
    with db.engine.begin() as conn:
        for name, highway, y in (("主干道", "primary", 140), ("小巷", "residential", 160)):
            conn.execute(sa.text(
                "INSERT INTO roads (name, highway, geom) VALUES (:n, :h, "
                "ST_GeomFromText(:line, 32635))"),
                {"n": name, "h": highway,
                 "line": f"LINESTRING({X0} {Y0 + y}, {X0 + 300} {Y0 + y})"})
    with as_role("viewer") as viewer:
        far = {f["properties"]["name"] for f in decoded(viewer, "roads", 13)}
        near = {f["properties"]["name"] for f in decoded(viewer, "roads", 14)}
    assert "主干道" in far and "小巷" not in far
    assert {"主干道", "小巷"} <= near


def test_road_tiles_below_street_zoom_draw_a_street_as_one_line(seeded, as_role):
    """A street noded at every junction, in segments each shorter than a pixel at zoom 13
    (about 10 m there), is one line carrying its name, class and direction, but no id;
    from zoom 14 its segments come one by one with their ids."""
    import sqlalchemy as sa

    db, _ = seeded
    with db.engine.begin() as conn:
        for step in range(20):  # 100 m of 5 m segments, zig-zagging by 1 m
            conn.execute(sa.text(
                "INSERT INTO roads (name, highway, oneway, geom) VALUES ('长街', 'primary', "
                "false, ST_MakeLine(ST_MakePoint(:x0, :y0), ST_MakePoint(:x1, :y1)))"),
                {"x0": X0 + 100 + 5 * step, "y0": Y0 + 120 + step % 2,
                 "x1": X0 + 105 + 5 * step, "y1": Y0 + 120 + (step + 1) % 2})
        conn.execute(sa.text("UPDATE roads SET geom = ST_SetSRID(geom, 32635) "
                             "WHERE ST_SRID(geom) = 0"))
    with as_role("viewer") as viewer:
        far = [f for f in decoded(viewer, "roads", 13) if f["properties"]["name"] == "长街"]
        near = [f for f in decoded(viewer, "roads", 14) if f["properties"]["name"] == "长街"]
    assert len(far) == 1
    street = far[0]
    assert street["properties"] == {"name": "长街", "highway": "primary", "oneway": False}
    assert not street.get("id") and street["geometry"]["type"] == "LineString"  # 0: none
    xs = [x for x, _ in street["geometry"]["coordinates"]]
    # 100 m at about 60°N is 200 Web Mercator metres; a zoom-13 tile is 4,892 m wide
    assert abs((max(xs) - min(xs)) - 200 / (2 * 20037508.34 / 2 ** 13) * 4096) <= 4
    assert len(near) == 20 and all(f["id"] for f in near)
    assert len({f["properties"]["id"] for f in near}) == 20
