"""``gridgis demo``: build the demo district once, then serve it."""

from __future__ import annotations

from typing import Annotated

import typer

from .console import out
from .serve import HOST, PORT, Host, Port, run_server


def register(root: typer.Typer) -> None:
    @root.command()
    def demo(reset: Annotated[bool, typer.Option(help="rebuild from scratch")] = False,
             serve: Annotated[bool, typer.Option(help="serve the app afterwards")] = True,
             host: Host = HOST, port: Port = PORT,
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
