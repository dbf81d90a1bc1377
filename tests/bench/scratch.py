"""What benchmark and development scripts share: a throw-away embedded cluster and
synthetic grids and points."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import Database, create_db_engine, ensure_postgis

SRID = 32635
X0, Y0, SIDE = 380_000.0, 6_665_000.0, 12_000.0  # a 12 km square around Helsinki


def bench_token(db: Database, role: str = "admin") -> str:
    """A bearer token of a new user with ``role`` (every data route needs one)."""
    from gridgis.gis.access.accounts import add_user, create_token

    name = f"bench-{role.replace('_', '-')}"
    with db.engine.begin() as conn:
        add_user(conn, name, [role], [])
        return create_token(conn, name, label="benchmark", days=1)[1]


@contextmanager
def scratch_database(prefix: str = "gridgis-bench-", pool_size: int = 5,
                     tcp_port: int | None = None
                     ) -> Iterator[tuple[EmbeddedCluster, Database, Path]]:
    """(cluster, database with PostGIS, work directory), all removed afterwards; with
    ``tcp_port``, the cluster also listens on 127.0.0.1 (for clients that need TCP)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    work.chmod(0o755)  # as root, the server runs as an unprivileged user
    cluster_options = {"port": tcp_port, "listen": "127.0.0.1"} if tcp_port else {}
    try:
        with EmbeddedCluster(work / "home", **cluster_options).session() as cluster:
            engine = create_db_engine(cluster.url(), pool_size=pool_size,
                                      statement_timeout_ms=600_000)
            try:
                ensure_postgis(engine)
                yield cluster, Database(engine), work
            finally:
                engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def voronoi_grids(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(X0, X0 + SIDE, n),
                                                 rng.uniform(Y0, Y0 + SIDE, n)]))
    frame = shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    return list(shapely.intersection(cells, frame))


def write_grids_geojson(cells: list, path: Path) -> None:
    to_wgs = Transformer.from_crs(SRID, 4326, always_xy=True)
    features = []
    for i, cell in enumerate(cells):
        lonlat = shapely.transform(cell, lambda xy: np.column_stack(to_wgs.transform(
            xy[:, 0], xy[:, 1])))
        features.append({"type": "Feature", "properties": {"code": f"G{i:05d}"},
                         "geometry": shapely.geometry.mapping(lonlat)})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def make_points(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(X0 - 200, X0 + SIDE + 200, n)  # a few fall outside every grid
    y = rng.uniform(Y0 - 200, Y0 + SIDE + 200, n)
    categories = np.array(["property_crime", "violent_crime", "dispute", "public_order"])
    start = np.datetime64("2024-01-01T00:00:00")
    occurred = start + rng.integers(0, 730 * 86400, n).astype("timedelta64[s]")
    return pd.DataFrame({"category": categories[rng.integers(0, 4, n)],
                         "occurred_at": occurred, "x": x, "y": y})


def import_city(db: Database, work: Path, grids: int, incidents: int, seed: int = 7) -> None:
    """``grids`` Voronoi grids over the 12 km square and ``incidents`` incidents spread
    over it and over two years, both through ``gridgis import`` (the schema migrated)."""
    from gridgis.gis.db import migrate
    from gridgis.gis.importing import import_file

    migrate(db.engine, SRID)
    write_grids_geojson(voronoi_grids(grids, seed), work / "grids.geojson")
    import_file(db, "grids", work / "grids.geojson")
    points = make_points(incidents, seed)
    lon, lat = Transformer.from_crs(SRID, 4326, always_xy=True).transform(points.x, points.y)
    pd.DataFrame({"category": points.category, "occurred_at": points.occurred_at,
                  "lon": np.round(lon, 7), "lat": np.round(lat, 7)}).to_csv(
        work / "incidents.csv", index=False)
    import_file(db, "incidents", work / "incidents.csv")
