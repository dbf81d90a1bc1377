"""``gridgis serve``: the API and map pages."""

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


def register(root: typer.Typer) -> None:
    @root.command()
    def serve(host: Host = HOST, port: Port = PORT) -> None:
        """Serve the API and map pages (on the embedded database unless
        GRIDGIS_DATABASE_URL is set)."""
        run_server(host, port)


def run_server(host: str, port: int) -> None:
    import uvicorn

    from gridgis.gis.errors import ConfigurationError
    from gridgis.maps.assets import AssetSettings, require

    try:
        require(AssetSettings().assets_dir)
    except ConfigurationError as exc:  # the API works without them; the pages say so
        err.print(f"[yellow]warning:[/] {escape(exc.message)}", highlight=False)
    if host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        # A name or address the service was told to listen on is one it answers to.
        from gridgis.api.settings import ApiSettings

        hosts = ApiSettings().allowed_hosts
        os.environ["GRIDGIS_API_ALLOWED_HOSTS"] = ",".join([*hosts, host])
    out.print(f"gridgis on http://{host}:{port}/  (API docs: /docs)", highlight=False)
    uvicorn.run("gridgis.api.app:create_app", factory=True, host=host, port=port,
                log_level="info", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
