"""The ``gridgis`` command line."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from gridgis.gis.errors import GridGisError

from . import analysis, data, database

app = typer.Typer(help="gridgis: grid-management GIS (网格化管理地理信息系统).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(database.app, name="db")
data.register(app)
database.register(app)
analysis.register(app)

from .service import register as register_api  # noqa: E402 - serve, assets

register_api(app)

err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    try:
        app()
    except GridGisError as exc:
        err.print("[bold red]error:[/] " + escape(exc.message), highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
