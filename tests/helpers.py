"""Small builders shared by tests: plans, grids and points in the deployment CRS."""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from shapely.geometry import box

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
