"""``gridgis serve``, ``gridgis demo`` and ``gridgis assets``."""

from __future__ import annotations

from typing import Annotated

import typer

from .console import out

HOST, PORT = "127.0.0.1", 8000


def register(root: typer.Typer) -> None:
    @root.command()
    def serve(host: Annotated[str, typer.Option(help="address to listen on")] = HOST,
              port: Annotated[int, typer.Option(help="port")] = PORT) -> None:
        """Serve the API and map pages (on the embedded database unless
        GRIDGIS_DATABASE_URL is set)."""
        run_server(host, port)

    @root.command()
    def demo(reset: Annotated[bool, typer.Option(help="rebuild from scratch")] = False,
             serve: Annotated[bool, typer.Option(help="serve the app afterwards")] = True,
             host: Annotated[str, typer.Option(help="address to listen on")] = HOST,
             port: Annotated[int, typer.Option(help="port")] = PORT,
             months: Annotated[int | None, typer.Option(
                 help="months of synthetic incidents (default: the demo model's)")]
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
                out.print("the demo district is already built; `--reset` rebuilds it")
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
                                     say=lambda text: out.print(f"… {text}", highlight=False))
                out.print("demo built in {:.0f} s: {}".format(summary.seconds, ", ".join(
                    f"{n} {k}" for k, n in summary.counts.items())), highlight=False)
            if serve:
                run_server(host, port)

    assets = typer.Typer(help="Map libraries served by gridgis (fetched from npm once).",
                         no_args_is_help=True)
    root.add_typer(assets, name="assets")

    @assets.command("fetch")
    def fetch_assets(force: Annotated[bool, typer.Option(
            help="fetch again even when present")] = False) -> None:
        """Fetch Leaflet and its plugins (into GRIDGIS_ASSETS_DIR, default
        GRIDGIS_HOME/assets) so that every page works offline."""
        from gridgis.maps.assets import AssetSettings, fetch

        root_dir = AssetSettings().vendor_dir
        fetched = fetch(root_dir, force=force)
        out.print(("fetched " + ", ".join(fetched) if fetched else "assets already present")
                  + f" in {root_dir}", highlight=False)


def run_server(host: str, port: int) -> None:
    import uvicorn

    from gridgis.maps.assets import AssetSettings, require

    require(AssetSettings().vendor_dir)
    out.print(f"gridgis on http://{host}:{port}/  (API docs: /docs)", highlight=False)
    uvicorn.run("gridgis.api.app:create_app", factory=True, host=host, port=port,
                log_level="info")
