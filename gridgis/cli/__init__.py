"""The ``gridgis`` command line: the top floor, above the web service.

Only typer and rich load at start-up; each command imports what it needs when it runs,
so that ``--help`` and TAB completion answer at once.
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from gridgis import __version__

from . import (
    analysis,
    assets,
    audit,
    blindspots,
    data,
    database,
    demo,
    patrol,
    plan_edits,
    plans,
    serve,
    users,
)
from .console import err, error_line

app = typer.Typer(help="gridgis: grid-management GIS (网格化管理地理信息系统).",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gridgis {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """gridgis: grid-management GIS (网格化管理地理信息系统)."""


app.add_typer(database.app, name="db")
app.add_typer(plans.app, name="plans")
plan_edits.register(plans.app)
app.add_typer(assets.app, name="assets")
app.add_typer(users.app, name="users")
app.add_typer(patrol.app, name="patrol")
database.register(app)
data.register(app)
analysis.register(app)
serve.register(app)
demo.register(app)
audit.register(app)
blindspots.register(app)


_stopped_by: list[int] = []  # the stop signal received, if any


def _exit_on_signal(signum: int, frame: object) -> None:
    _stopped_by.append(signum)
    raise SystemExit(128 + signum)


def raise_if_stopping() -> None:
    """Stop now if a stop signal came while a library swallowed the exit it raised
    (called between the steps of long commands)."""
    if _stopped_by:
        raise SystemExit(128 + _stopped_by[0])


def main() -> None:
    from gridgis.gis.errors import GridGisError

    # A service manager stops a process with SIGTERM (a closed terminal sends SIGHUP):
    # unwind as on Ctrl-C, so that transactions roll back and an embedded database this
    # process started is stopped when it was the last user.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _exit_on_signal)
    try:
        app()
        raise_if_stopping()  # a stop that something swallowed is still no success
    except GridGisError as exc:
        error_line(exc.message)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
