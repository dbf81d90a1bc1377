"""``gridgis serve``: the API and map pages, in as many worker processes as the machine
has cores, each with its share of the database's connections."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape

from .console import err, out

HOST, PORT = "127.0.0.1", 8000
GRACEFUL_SHUTDOWN_S = 3  # requests still open after a SIGTERM get this long to finish
Host = Annotated[str, typer.Option(help="address to listen on")]
Port = Annotated[int, typer.Option(help="port")]
Workers = Annotated[int | None, typer.Option(
    min=1, help="server processes (default: one per core, as many as the database's "
                "max_connections allows)")]


def register(root: typer.Typer) -> None:
    @root.command()
    def serve(host: Host = HOST, port: Port = PORT, workers: Workers = None) -> None:
        """Serve the API and map pages (on the embedded database unless
        GRIDGIS_DATABASE_URL is set)."""
        from gridgis.gis.db import open_database

        with open_database(pool_size=1) as db:
            run_server(host, port, workers, db)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_server(host: str, port: int, workers: int | None, db) -> None:
    """Serve on ``db`` (opened by the caller, which keeps an embedded cluster running
    for the workers): the schema is brought up to date here, once, before the workers
    start; each worker is told its share of the connections in its environment."""
    import sqlalchemy as sa
    import uvicorn

    from gridgis.api.settings import ApiSettings
    from gridgis.gis.connections import max_workers, plan_connections, server_limits
    from gridgis.gis.db import ensure_roles
    from gridgis.gis.errors import ConfigurationError
    from gridgis.gis.settings import DatabaseSettings
    from gridgis.maps.assets import AssetSettings, require

    try:
        require(AssetSettings().assets_dir)
    except ConfigurationError as exc:  # the API works without them; the pages say so
        err.print(f"[yellow]warning:[/] {escape(exc.message)}", highlight=False)
    api, db_settings = ApiSettings(), DatabaseSettings()
    with db.engine.connect() as conn:
        max_connections, reserved = server_limits(conn)
    ensure_roles(db.engine)
    db.engine.dispose()
    if workers is None:
        workers = max(1, min(cores(), max_workers(max_connections, reserved,
                                                  api.analytics_slots)))
    plan = plan_connections(max_connections, reserved, workers, api.analytics_slots)
    os.environ.update({"GRIDGIS_API_DB_POOL_SIZE": str(plan.pool_size),
                       "GRIDGIS_API_DB_MAX_OVERFLOW": str(plan.max_overflow),
                       "GRIDGIS_API_ANALYTICS_SLOTS": str(plan.analytics_slots)})
    if host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        # A name or address the service was told to listen on is one it answers to.
        os.environ["GRIDGIS_API_ALLOWED_HOSTS"] = ",".join([*api.allowed_hosts, host])
    out.print(f"gridgis on http://{host}:{port}/  (API docs: /docs); {plan.workers} "
              f"worker{'s' if plan.workers > 1 else ''}, each with {plan.pool_size}+"
              f"{plan.max_overflow} database connections and {plan.analytics_slots} "
              f"analysis process{'es' if plan.analytics_slots > 1 else ''} "
              f"(at most {plan.total} of the server's {max_connections})", highlight=False)
    replica = db_settings.replica_url
    if replica is not None:
        shown = sa.engine.make_url(replica).render_as_string(hide_password=True)
        out.print(f"maps, tiles and analyses read from the replica {shown} once it has "
                  f"caught up (else from the primary after "
                  f"{db_settings.replica_wait_s:g} s)", highlight=False)
    uvicorn.run("gridgis.api.app:create_app", factory=True, host=host, port=port,
                workers=plan.workers, log_level="info",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
