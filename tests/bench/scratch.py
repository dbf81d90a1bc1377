"""A throw-away embedded cluster for benchmark and development scripts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import Database, create_db_engine, ensure_postgis


@contextmanager
def scratch_database(prefix: str = "gridgis-bench-", pool_size: int = 5
                     ) -> Iterator[tuple[EmbeddedCluster, Database, Path]]:
    """(cluster, database with PostGIS, work directory), all removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    work.chmod(0o755)  # as root, the server runs as an unprivileged user
    try:
        with EmbeddedCluster(work / "home").session() as cluster:
            engine = create_db_engine(cluster.url(), pool_size=pool_size,
                                      statement_timeout_ms=600_000)
            try:
                ensure_postgis(engine)
                yield cluster, Database(engine), work
            finally:
                engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
