"""The hotspot service: inputs read from PostGIS, results cached per data version in a
cache its owner holds, and no connection held while the analytics compute."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from gridgis.gis.errors import InvalidInput
from gridgis.gis.hotspots.forecast import METHODS
from gridgis.gis.services import hotspots as service_module
from gridgis.gis.services.cache import ResultCache
from gridgis.gis.services.hotspot_inputs import Selection
from gridgis.gis.services.hotspots import BacktestWindow, HotspotService
from tests.helpers import X0, Y0, add_incident
from tests.seed import add_hot_cluster, seed


@pytest.fixture
def hot(db):
    with db.engine.begin() as conn:
        seed(conn)
        add_hot_cluster(conn)
    return db


def test_a_result_is_computed_once_per_data_version(hot, monkeypatch):
    calls = []
    real = service_module.gi_star
    monkeypatch.setattr(service_module, "gi_star",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    service = HotspotService(hot.engine, 32635)
    grids = Selection("grids")
    first = service.gi(grids)
    assert service.gi(grids).equals(first) and len(calls) == 1
    with hot.engine.begin() as conn:
        add_incident(conn, X0 + 20, Y0 + 20, category="violent_crime")
    changed = service.gi(grids)
    assert len(calls) == 2
    assert changed["incidents"].sum() == first["incidents"].sum() + 1


def test_each_owner_has_its_own_cache(hot):
    one, two = ResultCache(), ResultCache()
    HotspotService(hot.engine, 32635, one).gi(Selection("grids"))
    assert len(one) > 0 and len(two) == 0
    HotspotService(hot.engine, 32635, two).gi(Selection("grids"))
    assert len(two) == len(one)


def test_no_connection_is_held_while_the_analytics_compute(hot, monkeypatch):
    held = []
    real = service_module.gi_star

    def watching(*args, **kwargs):
        held.append(hot.engine.pool.checkedout())
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "gi_star", watching)
    service = HotspotService(hot.engine, 32635)
    service.gi(Selection("grids"))
    service.ranking()
    assert held and set(held) == {0}


def test_backtest_window_and_selection_refuse_bad_values(hot):
    with pytest.raises(InvalidInput, match="in order"):
        BacktestWindow(pd.Timestamp("2026-05-01", tz="UTC"), pd.Timestamp("2026-01-01", tz="UTC"),
                       pd.Timestamp("2026-06-01", tz="UTC"))
    with pytest.raises(InvalidInput) as bad_category:
        Selection(categories=("aliens",))
    assert bad_category.value.details["field"] == "category"
    with pytest.raises(InvalidInput, match="cell size"):
        Selection(cell_m=5)
    with pytest.raises(InvalidInput, match="permutations"):
        HotspotService(hot.engine, 32635).gi(Selection("grids"), permutations=5000)


def test_backtest_reports_each_step(hot):
    told: list[str] = []
    window = BacktestWindow(*(pd.Timestamp(d, tz="UTC") for d in
                              ("2026-01-01", "2026-05-01", "2026-06-01")))
    table = HotspotService(hot.engine, 32635).backtest(Selection("grids"), window,
                                                       progress=told.append)
    assert len(told) == service_module.BACKTEST_STEPS
    assert told[:2] == ["read the units and incidents", "tuning"]
    assert set(table["method"]) == {*METHODS, "oracle"} - {"counts_3y", "counts_1y"}
    assert set(table["study_area"]) == {"all units"}


def test_ranking_defaults_to_the_last_thirty_days_of_data(hot):
    rows = HotspotService(hot.engine, 32635).ranking()
    assert rows[0]["end"] - rows[0]["start"] == pd.Timedelta(days=30)
    latest = max(r["end"] for r in rows)
    assert latest > pd.Timestamp("2026-06-01", tz="UTC")


def test_backtests_of_different_windows_are_different_results(hot):
    service = HotspotService(hot.engine, 32635)

    def scored(train_end: str) -> int:
        window = BacktestWindow(*(pd.Timestamp(d, tz="UTC") for d in
                                  ("2026-01-01", train_end, "2026-07-01")))
        return int(service.backtest(Selection("grids"), window)["incidents"].iloc[0])

    early, late = scored("2026-03-01"), scored("2026-05-01")
    fresh = HotspotService(hot.engine, 32635)
    window = BacktestWindow(*(pd.Timestamp(d, tz="UTC") for d in
                              ("2026-01-01", "2026-05-01", "2026-07-01")))
    assert late == int(fresh.backtest(Selection("grids"), window)["incidents"].iloc[0])
    assert early > late


def test_the_data_version_moves_with_every_committed_change_and_only_then(hot):
    service = HotspotService(hot.engine, 32635)
    before = service.version()
    with hot.engine.connect() as conn:
        conn.execute(sa.text("UPDATE incidents SET status = 'closed' WHERE id = "
                             "(SELECT min(id) FROM incidents)"))
        assert service.version() == before  # not committed yet: not seen
        conn.commit()
    after_update = service.version()
    assert after_update > before
    with hot.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO people (name, geom) VALUES "
                             "('x', ST_SetSRID(ST_MakePoint(385000, 6671000), 32635))"))
    assert service.version() == after_update  # people are not what analyses read
    for statement in ("UPDATE grids SET name = 'g' WHERE id = (SELECT min(id) FROM grids)",
                      "UPDATE areas SET name = 'a' WHERE id = (SELECT min(id) FROM areas)",
                      "DELETE FROM incidents WHERE id = (SELECT max(id) FROM incidents)",
                      "TRUNCATE incidents"):
        previous = service.version()
        with hot.engine.begin() as conn:
            conn.execute(sa.text(statement))
        assert service.version() > previous, statement
