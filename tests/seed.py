"""A small seeded district and an app over it, shared by API and map tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from tests.accounts import api_client, token_for
from tests.helpers import X0, Y0, add_grid, add_plan, square


def seed(conn: sa.Connection) -> dict[str, int]:
    """A district, one subdistrict, two communities, a published 3x3 plan of 100 m grids,
    workers, people, a building with a household, an organisation, places, a camera and
    incidents (one outside every grid)."""
    ids: dict[str, int] = {}

    def area(level, code, name, parent, geom):
        ids[code] = conn.execute(sa.text(
            "INSERT INTO areas (level, code, name, parent_id, geom) VALUES "
            "(:l, :c, :n, :p, ST_Multi(ST_GeomFromText(:w, 32635))) RETURNING id"),
            {"l": level, "c": code, "n": name, "p": parent, "w": geom.wkt}).scalar_one()
        return ids[code]

    from shapely.geometry import box
    whole = box(X0, Y0, X0 + 300, Y0 + 300)
    d = area("district", "110101", "示范区", None, whole)
    s = area("subdistrict", "110101001", "东街道", d, whole)
    area("community", "110101001001", "西社区", s, box(X0, Y0, X0 + 150, Y0 + 300))
    area("community", "110101001002", "东社区", s, box(X0 + 150, Y0, X0 + 300, Y0 + 300))
    plan = add_plan(conn, "2026")
    ids["plan"] = plan
    for c in range(3):
        for r in range(3):
            gid = add_grid(conn, plan, f"110101001001{c}{r:02d}", square(c, r))
            ids[f"grid{c}{r}"] = gid
    conn.execute(sa.text("UPDATE grids SET community_id = :c, name = 'grid ' || code"),
                 {"c": ids["110101001001"]})
    worker = conn.execute(sa.text("INSERT INTO workers (name, phone) VALUES "
                                  "('张敏', '13800138000') RETURNING id")).scalar_one()
    ids["worker"] = worker
    conn.execute(sa.text("INSERT INTO grid_assignments (worker_id, grid_id) VALUES (:w, :g)"),
                 {"w": worker, "g": ids["grid00"]})
    for i, (x, y, group) in enumerate([(50, 50, False), (60, 40, True), (150, 150, False)]):
        conn.execute(sa.text(
            "INSERT INTO people (name, id_number, residence_type, community_correction, geom) "
            "VALUES (:n, '110101199001011234', :rt, :g, "
            "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
            {"n": f"居民{i}", "rt": "floating" if i else "registered", "g": group,
             "x": X0 + x, "y": Y0 + y})
    conn.execute(sa.text(
        "INSERT INTO places (name, category, risk_level, geom) VALUES "
        "('<b>酒吧</b>', 'bar', 'high', ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
        {"x": X0 + 55, "y": Y0 + 55})
    building = conn.execute(sa.text(
        "INSERT INTO buildings (name, use, levels, households, geom) VALUES "
        "('1号楼', 'apartments', 6, 1, ST_Multi(ST_GeomFromText(:w, 32635))) RETURNING id"),
        {"w": box(X0 + 60, Y0 + 60, X0 + 90, Y0 + 90).wkt}).scalar_one()
    conn.execute(sa.text(
        "INSERT INTO households (building_id, unit, members, geom) VALUES "
        "(:b, '101', 3, ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
        {"b": building, "x": X0 + 75, "y": Y0 + 75})
    conn.execute(sa.text(
        "INSERT INTO organisations (name, kind, geom) VALUES "
        "('物业公司', 'enterprise', ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
        {"x": X0 + 210, "y": Y0 + 210})
    conn.execute(sa.text(
        "INSERT INTO things (type, range_m, fov_deg, geom) VALUES "
        "('camera', 30, 90, ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
        {"x": X0 + 10, "y": Y0 + 10})
    for k, (x, y, cat, when) in enumerate([(20, 20, "property_crime", "2026-01-05T10:00Z"),
                                           (30, 25, "violent_crime", "2026-02-05T23:00Z"),
                                           (250, 250, "dispute", "2026-03-01T12:00Z"),
                                           (-500, -500, "fire", "2026-03-02T12:00Z")]):
        ids[f"incident{k}"] = conn.execute(sa.text(
            "INSERT INTO incidents (category, occurred_at, description, geom) VALUES "
            "(:c, :t, :d, ST_SetSRID(ST_MakePoint(:x, :y), 32635)) RETURNING id"),
            {"c": cat, "t": when, "d": "<script>alert(1)</script>",
             "x": X0 + x, "y": Y0 + y}).scalar_one()
    conn.execute(sa.text("UPDATE gridgis_meta SET value = '© OpenStreetMap contributors' "
                         "WHERE key = 'attribution'"))
    return ids


def add_hot_cluster(conn: sa.Connection, seed: int = 4) -> None:
    """A dense cluster of violent incidents in the south-west corner over six months of
    2026 (growing month by month), and scattered property crime."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for month in range(1, 7):
        for _ in range(6 + 3 * month):
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, geom) VALUES "
                "('violent_crime', make_timestamptz(2026, :m, :d, 22, 0, 0, 'UTC'), "
                "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
                {"m": month, "d": int(rng.integers(1, 28)),
                 "x": X0 + 25 + rng.normal(0, 10), "y": Y0 + 25 + rng.normal(0, 10)})
        for _ in range(4):
            conn.execute(sa.text(
                "INSERT INTO incidents (category, occurred_at, geom) VALUES "
                "('property_crime', make_timestamptz(2026, :m, 10, 12, 0, 0, 'UTC'), "
                "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"),
                {"m": month, "x": X0 + rng.uniform(0, 300), "y": Y0 + rng.uniform(0, 300)})


@pytest.fixture
def seeded(db):
    with db.engine.begin() as conn:
        ids = seed(conn)
    return db, ids


@pytest.fixture
def api_settings() -> Settings:
    return Settings(api=ApiSettings(default_limit=50, max_limit=500, max_bbox_km2=500,
                                    max_body_bytes=64 * 1024))


@pytest.fixture
def client(seeded, api_settings) -> Iterator[TestClient]:
    """A client signed in as an administrator."""
    db, _ = seeded
    with api_client(create_app(api_settings, database=db), db) as test_client:
        yield test_client


@pytest.fixture
def admin_token(seeded) -> str:
    return token_for(seeded[0], "admin")


@pytest.fixture
def ids(seeded) -> dict[str, int]:
    return seeded[1]
