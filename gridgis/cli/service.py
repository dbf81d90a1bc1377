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

    @root.command()
    def demo(reset: Annotated[bool, typer.Option(help="rebuild from scratch")] = False,
             serve: Annotated[bool, typer.Option(help="serve the app afterwards")] = True,
             host: Annotated[str, typer.Option()] = "127.0.0.1",
             port: Annotated[int, typer.Option()] = 8000,
             months: Annotated[int | None, typer.Option(
                 help="months of synthetic incidents (default from data/demo_model.toml)")]
             = None) -> None:
        """Build the demo district (real central-Helsinki geography, synthetic people and
        incidents) on first run, then serve gridgis."""
        import sqlalchemy as sa

        from gridgis.gis.db import current_srid, open_database
        from gridgis.gis.demo import DemoOptions, build_demo, demo_exists
        from gridgis.gis.demo import reset as reset_demo
        from gridgis.gis.errors import ConfigurationError

        with open_database() as db:
            if reset:
                reset_demo(db)
            if demo_exists(db):
                typer.echo("the demo district is already built; `--reset` rebuilds it")
            else:
                with db.engine.connect() as conn:
                    has_data = current_srid(conn) is not None and conn.execute(
                        sa.text("SELECT EXISTS (SELECT 1 FROM grids)")).scalar_one()
                if has_data:
                    raise ConfigurationError(
                        "this database already holds grids that are not the demo; use "
                        "another GRIDGIS_HOME for the demo, or `gridgis demo --reset` to "
                        "replace everything")
                summary = build_demo(db, DemoOptions(months=months),
                                     say=lambda text: typer.echo(f"… {text}"))
                typer.echo("demo built in {:.0f} s: {}".format(summary.seconds, ", ".join(
                    f"{n} {k}" for k, n in summary.counts.items())))
            if serve:
                run_server(host, port)

    assets = typer.Typer(help="Map libraries served by gridgis (fetched from npm once).")
    root.add_typer(assets, name="assets")

    @assets.command("fetch")
    def fetch_assets(force: Annotated[bool, typer.Option()] = False) -> None:
        """Fetch Leaflet and its plugins so every page works offline."""
        from gridgis.maps.assets import fetch

        fetched = fetch(force=force)
        typer.echo("fetched " + ", ".join(fetched) if fetched else "assets already present")


def run_server(host: str, port: int) -> None:
    import uvicorn

    from gridgis.maps.assets import missing

    absent = missing()
    if absent:
        from gridgis.gis.errors import ConfigurationError

        raise ConfigurationError(
            f"the map libraries are missing ({absent[0]} and {len(absent) - 1} more); run "
            "`gridgis assets fetch` once (it needs npm and the npm registry).")
    typer.echo(f"gridgis on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run("gridgis.api.app:create_app", factory=True, host=host, port=port,
                log_level="info")
