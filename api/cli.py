"""``gridgis serve`` (and the hooks other packages add to the CLI)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(root: typer.Typer) -> None:
    @root.command()
    def serve(host: Annotated[str, typer.Option()] = "127.0.0.1",
              port: Annotated[int, typer.Option()] = 8000) -> None:
        """Serve the API and map pages (on the embedded database unless
        GRIDGIS_DATABASE_URL is set)."""
        run_server(host, port)

    assets = typer.Typer(help="Map libraries served by gridgis (fetched from npm once).")
    root.add_typer(assets, name="assets")

    @assets.command("fetch")
    def fetch_assets(force: Annotated[bool, typer.Option()] = False) -> None:
        """Fetch Leaflet and its plugins so every page works offline."""
        from maps.assets import fetch

        fetched = fetch(force=force)
        typer.echo("fetched " + ", ".join(fetched) if fetched else "assets already present")


def run_server(host: str, port: int) -> None:
    import uvicorn

    from maps.assets import missing

    absent = missing()
    if absent:
        from gis.errors import ConfigurationError

        raise ConfigurationError(
            f"the map libraries are missing ({absent[0]} and {len(absent) - 1} more); run "
            "`gridgis assets fetch` once (it needs npm and the npm registry).")
    typer.echo(f"gridgis on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port,
                log_level="info")
