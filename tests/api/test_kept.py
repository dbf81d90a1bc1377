"""Map pages and analyses kept per data version: an unchanged page is not made again,
comes compressed with an ETag, and a browser sending that ETag back is told 304 without
the page; a change of the data, or a reader with another view (roles, scope), gets its
own page; however many ask at once, one makes it."""

from __future__ import annotations

import asyncio
import gzip
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from fastapi import Request, Response

from gridgis.api.app import create_app
from gridgis.api.kept import KeptAnswers
from gridgis.api.routes import maps
from gridgis.gis.access.principal import Principal
from gridgis.gis.notifications import HeardChanges
from gridgis.gis.versions import DATA_TABLES
from tests.accounts import api_client
from tests.helpers import until
from tests.seed import add_hot_cluster


@pytest.fixture
def built(monkeypatch) -> list[str]:
    """The measures of every grid page made (not served from memory)."""
    made: list[str] = []
    page = maps.grids_page

    def counting(data, options, measure, *args):
        made.append(measure)
        return page(data, options, measure, *args)
    monkeypatch.setattr(maps, "grids_page", counting)
    return made


def test_an_unchanged_page_is_made_once_and_revalidated_with_its_etag(seeded, api_settings,
                                                                      built):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police, api_client(app, db, "police") as other:
        first = police.get("/maps/grids", headers={"Accept-Encoding": "identity"})
        assert first.status_code == 200 and first.headers["etag"]
        assert first.headers["cache-control"] == "private, no-cache"
        again = other.get("/maps/grids", headers={"Accept-Encoding": "identity"})
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        assert built == ["incidents"]  # another police officer: the same view, kept
        unchanged = police.get("/maps/grids", headers={"If-None-Match": first.headers["etag"],
                                                       "Accept-Encoding": "identity"})
        assert unchanged.status_code == 304 and unchanged.content == b""
        packed = police.get("/maps/grids", headers={"Accept-Encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["etag"] == first.headers["etag"][:-1] + '-gz"'
        assert packed.content == first.content  # httpx unpacks it
        assert police.get("/maps/grids", params={"measure": "people"}).status_code == 200
        assert built == ["incidents", "people"]
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, geom) SELECT 'fire', "
                "'2026-03-03T00:00Z', ST_Centroid(geom) FROM grids LIMIT 1"))
        # made again as soon as the change's notice has arrived
        until(lambda: police.get("/maps/grids", headers={
            "If-None-Match": first.headers["etag"]}).status_code == 200)
    assert built == ["incidents", "people", "incidents"]


def test_a_reader_with_another_view_gets_a_page_of_their_own(seeded, api_settings, built):
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police, \
            api_client(app, db, "grid_worker", ["110101001001000"]) as worker:
        whole = police.get("/maps/grids")
        scoped = worker.get("/maps/grids")
    assert whole.status_code == scoped.status_code == 200
    assert whole.headers["etag"] != scoped.headers["etag"]
    assert len(built) == 2


def test_an_analysis_is_kept_too(seeded, api_settings):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police:
        first = police.get("/hotspots/gi", params={"cell": 50})
        assert first.status_code == 200
        unchanged = police.get("/hotspots/gi", params={"cell": 50},
                               headers={"If-None-Match": first.headers["etag"]})
        assert unchanged.status_code == 304
        other = police.get("/hotspots/gi", params={"cell": 60})
        assert other.headers["etag"] != first.headers["etag"]
        assert police.get("/hotspots/gi", params={"cell": 5}).status_code == 422
    assert len(app.state.gridgis.answers.cache) == 2


def _request(db, who: Principal, headers: dict[str, str] | None = None) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(gridgis=SimpleNamespace(
        database=db, heard_changes=HeardChanges())))  # not listening: versions are read
    request = Request({"type": "http", "method": "GET", "path": "/maps/grids",
                       "query_string": b"", "app": app, "headers": [
                           (k.lower().encode(), v.encode()) for k, v in
                           (headers or {}).items()]})
    request.state.principal = who
    return request


def test_many_asking_at_once_wait_for_one_making(db):
    answers = KeptAnswers(2**20)
    who = Principal("p", frozenset({"police"}), user_id=1)
    made = []

    async def make() -> Response:
        made.append(1)
        await asyncio.sleep(0.2)
        return Response(b"<html>" + b"x" * 2000, media_type="text/html")

    async def ask_all() -> list[Response]:
        return await asyncio.gather(*(answers.answer(_request(db, who), make)
                                      for _ in range(20)))
    responses = asyncio.run(ask_all())
    assert len(made) == 1
    assert {r.body for r in responses} == {b"<html>" + b"x" * 2000}
    packed = asyncio.run(answers.answer(_request(db, who, {"Accept-Encoding": "gzip"}),
                                        make))
    assert gzip.decompress(packed.body) == b"<html>" + b"x" * 2000 and len(made) == 1


def test_a_failed_making_is_not_kept_and_those_waiting_hear_of_it(db):
    answers = KeptAnswers(2**20)
    who = Principal("p", frozenset({"police"}), user_id=1)
    calls = []

    async def failing() -> Response:
        calls.append(1)
        await asyncio.sleep(0.1)
        raise RuntimeError("the analysis failed")

    async def ask_all():
        return await asyncio.gather(*(answers.answer(_request(db, who), failing)
                                      for _ in range(5)), return_exceptions=True)
    results = asyncio.run(ask_all())
    assert len(calls) == 1 and all(isinstance(r, RuntimeError) for r in results)
    assert len(answers.cache) == 0

    async def not_found() -> Response:
        return Response(b"{}", status_code=404)
    assert asyncio.run(answers.answer(_request(db, who), not_found)).status_code == 404
    assert len(answers.cache) == 0


def test_every_table_answers_are_made_from_is_versioned_and_notified(conn):
    def triggered(suffix: str) -> set[str]:
        return set(conn.execute(sa.text(
            "SELECT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name LIKE :n"), {"n": f"%{suffix}"}).scalars())
    assert set(DATA_TABLES) <= triggered("change_count")
    assert set(DATA_TABLES) <= triggered("gridgis_notify_data")


def test_while_changes_cannot_be_heard_the_version_is_read(db):
    """Not listening (the notices' connection is down): every request reads the tables'
    versions, so a change is never missed."""
    answers = KeptAnswers(2**20)
    who = Principal("p", frozenset({"police"}), user_id=1)
    made = []

    async def make() -> Response:
        made.append(1)
        return Response(b"page", media_type="text/html")

    asyncio.run(answers.answer(_request(db, who), make))
    asyncio.run(answers.answer(_request(db, who), make))
    assert len(made) == 1
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workers (name) VALUES ('王五')"))
    asyncio.run(answers.answer(_request(db, who), make))
    assert len(made) == 2


def test_routes_whose_reads_are_audited_audit_every_reader(seeded, api_settings):
    """The workers' names in the responsibility audit are audited reads: each request is
    logged, the second as the first (such answers are not kept)."""
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police, api_client(app, db, "police") as other:
        assert police.get("/blindspots/responsibility").status_code == 200
        assert other.get("/blindspots/responsibility").status_code == 200
    with db.engine.connect() as conn:
        readers = conn.execute(sa.text(
            "SELECT user_name FROM audit_log WHERE action = 'read' AND resource = 'workers' "
            "ORDER BY id")).scalars().all()
    assert len(readers) == 2 and readers[0] != readers[1]


@pytest.mark.parametrize(("header", "gzip_sent"), [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True),
    ("gzip;q=0", False), ("identity", False), ("", False), ("*", True),
    ("gzip;q=nonsense", False)])
def test_gzip_only_for_clients_that_take_it(db, header, gzip_sent):
    answers = KeptAnswers(2**20)
    who = Principal("p", frozenset({"police"}), user_id=1)

    async def make() -> Response:
        return Response(b"x" * 5000, media_type="text/html")
    answer = asyncio.run(answers.answer(_request(db, who, {"Accept-Encoding": header}),
                                        make))
    assert ("content-encoding" in answer.headers) == gzip_sent


def test_patrol_fixes_do_not_drop_the_map_pages(seeded, api_settings, built):
    """A patrol car's GPS fix changes what the blind-spot audit shows, not the grid map:
    the page stays kept (a 304), while the scorecard is made again."""
    db, _ = seeded
    app = create_app(api_settings, database=db)
    with api_client(app, db, "police") as police:
        heard = app.state.gridgis.heard_changes
        page = police.get("/maps/grids")
        card = police.get("/blindspots/scorecard")
        assert page.status_code == card.status_code == 200
        before = heard.current(("patrol_points",))
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO patrol_points (unit, recorded_at, geom) SELECT 'car 1', now(), "
                "ST_Centroid(geom) FROM grids LIMIT 1"))
        until(lambda: heard.current(("patrol_points",)) != before)
        assert police.get("/maps/grids", headers={
            "If-None-Match": page.headers["etag"]}).status_code == 304
        assert built == ["incidents"]
        kept = len(app.state.gridgis.answers.cache)
        assert police.get("/blindspots/scorecard").status_code == 200
        assert len(app.state.gridgis.answers.cache) == kept + 1  # made again


def test_heard_changes_count_per_table():
    heard = HeardChanges()
    assert heard.current(("incidents",)) is None  # not listening: nothing to trust
    heard.set_listening(True)
    start = heard.current(("incidents",))
    heard.changed("patrol_points")
    assert heard.current(("incidents",)) == start
    heard.changed("incidents")
    assert heard.current(("incidents",)) != start
    moved = heard.current(("incidents",))
    heard.changed("gridgis_meta")  # the attribution every page shows
    assert heard.current(("incidents",)) != moved
    heard.set_listening(False)
    heard.set_listening(True)  # anything may have changed meanwhile
    assert heard.current(("roads",)) != start
