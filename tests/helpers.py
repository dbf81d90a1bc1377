"""Small builders shared by tests: plans, grids and points in the deployment CRS, and
files to import."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry import box

HELSINKI_SRID = 32635  # UTM 35N
PORTLAND_SRID = 32610  # UTM 10N
# A spot in central Helsinki in UTM 35N (EPSG:32635).
X0, Y0 = 385_000.0, 6_671_000.0


def add_plan(conn: sa.Connection, name: str = "plan", state: str = "published") -> int:
    return conn.execute(sa.text(
        "INSERT INTO grid_plans (name, state) VALUES (:n, :s) RETURNING id"),
        {"n": name, "s": state}).scalar_one()


def add_grid(conn: sa.Connection, plan_id: int, code: str, geom, srid: int = 32635) -> int:
    return conn.execute(sa.text(
        "INSERT INTO grids (plan_id, code, geom) VALUES "
        "(:p, :c, ST_Multi(ST_GeomFromText(:wkt, :srid))) RETURNING id"),
        {"p": plan_id, "c": code, "wkt": geom.wkt, "srid": srid}).scalar_one()


def square(col: int, row: int, size: float = 100.0):
    return box(X0 + col * size, Y0 + row * size, X0 + (col + 1) * size, Y0 + (row + 1) * size)


def fishnet(conn: sa.Connection, plan_id: int, cols: int, rows: int, size: float = 100.0,
            prefix: str = "G") -> dict[str, int]:
    ids = {}
    for c in range(cols):
        for r in range(rows):
            code = f"{prefix}{c:03d}{r:03d}"
            ids[code] = add_grid(conn, plan_id, code, square(c, r, size))
    return ids


def add_incident(conn: sa.Connection, x: float, y: float, srid: int = 32635,
                 category: str = "property_crime") -> int:
    return conn.execute(sa.text(
        "INSERT INTO incidents (category, occurred_at, geom) VALUES "
        "(:c, now(), ST_SetSRID(ST_MakePoint(:x, :y), :srid)) RETURNING id"),
        {"c": category, "x": x, "y": y, "srid": srid}).scalar_one()


def grid_of(conn: sa.Connection, table: str, row_id: int) -> int | None:
    return conn.execute(sa.text(f"SELECT grid_id FROM {table} WHERE id = :i"),
                        {"i": row_id}).scalar()


def points(xs, ys):
    return shapely.points(xs, ys)


LON0, LAT0 = 24.93, 60.165


def count(db, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def grid_geojson(path, cols=3, rows=3, step=0.005):
    features = [{
        "type": "Feature",
        "properties": {"code": f"G{c}{r}", "name": f"grid {c}-{r}"},
        "geometry": shapely.geometry.mapping(box(LON0 + c * step, LAT0 + r * step,
                                                 LON0 + (c + 1) * step, LAT0 + (r + 1) * step)),
    } for c in range(cols) for r in range(rows)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def incidents_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "case_no": [f"C{i:06d}" for i in range(n)],
        "category": rng.choice(["property_crime", "violent_crime", "dispute"], n),
        "occurred_at": pd.date_range("2024-01-01", periods=n, freq="17min").strftime(
            "%Y-%m-%dT%H:%M:%S"),
        "lon": rng.uniform(LON0, LON0 + 0.015, n).round(6),
        "lat": rng.uniform(LAT0, LAT0 + 0.015, n).round(6),
    })


def add_draft_without(conn: sa.Connection, name: str, missing: tuple[int, int],
                      prefix: str = "D") -> int:
    """A draft plan of the seeded 3 x 3 grids with the square ``missing`` left out: a gap
    of 100 x 100 m."""
    plan = add_plan(conn, name, state="draft")
    for c in range(3):
        for r in range(3):
            if (c, r) != missing:
                add_grid(conn, plan, f"{prefix}{c}{r}", square(c, r))
    return plan


def add_street_and_post(conn: sa.Connection, post_x: float) -> None:
    """A street along the middle row of the seeded district and a police post on it,
    ``post_x`` metres from its west end."""
    conn.execute(sa.text(
        "INSERT INTO roads (highway, oneway, geom) VALUES ('residential', false, "
        "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0, :y), ST_MakePoint(:x1, :y)), 32635))"),
        {"x0": X0, "x1": X0 + 300, "y": Y0 + 150})
    conn.execute(sa.text(
        "INSERT INTO places (name, category, geom) VALUES ('岗亭', 'police_post', "
        "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + post_x, "y": Y0 + 150})


def add_street_lattice(conn: sa.Connection, post: tuple[float, float] = (0.0, 0.0)) -> None:
    """Streets along every 100 m line of the seeded district (x and y 0 to 300) and a
    police post ``post`` metres from its south-west corner."""
    for at in range(0, 301, 100):
        for x0, y0, x1, y1 in ((at, 0, at, 300), (0, at, 300, at)):
            conn.execute(sa.text(
                "INSERT INTO roads (highway, oneway, geom) VALUES ('residential', false, "
                "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0, :y0), ST_MakePoint(:x1, :y1)), "
                "32635))"), {"x0": X0 + x0, "y0": Y0 + y0, "x1": X0 + x1, "y1": Y0 + y1})
    conn.execute(sa.text(
        "INSERT INTO places (name, category, geom) VALUES ('北岗亭', 'police_post', "
        "ST_SetSRID(ST_MakePoint(:x, :y), 32635))"), {"x": X0 + post[0], "y": Y0 + post[1]})


def until(condition: Callable[[], object], what: str = "the condition",
          wait_s: float = 20.0) -> None:
    """Wait for ``condition`` (a notice from the database, a background read). The wait
    bounds a hang; it is not a speed requirement."""
    deadline = time.monotonic() + wait_s
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def replay(replica_conninfo: str, paused: bool) -> None:
    """Pause or resume a standby's replay of its primary's changes."""
    import psycopg

    with psycopg.connect(replica_conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else
                     "SELECT pg_wal_replay_resume()")
