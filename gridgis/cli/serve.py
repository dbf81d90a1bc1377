"""``gridgis serve``: the API and map pages."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from .console import err, out

HOST, PORT = "127.0.0.1", 8000
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
    out.print(f"gridgis on http://{host}:{port}/  (API docs: /docs)", highlight=False)
    uvicorn.run("gridgis.api.app:create_app", factory=True, host=host, port=port,
                log_level="info")
