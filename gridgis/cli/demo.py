"""``gridgis demo``: build the demo district once, then serve it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .console import out
from .serve import HOST, PORT, Host, Port, Workers, run_server

if TYPE_CHECKING:
    from gridgis.gis.demo import DemoAccount


def register(root: typer.Typer) -> None:
    @root.command()
    def demo(reset: Annotated[bool, typer.Option(help="rebuild from scratch")] = False,
             serve: Annotated[bool, typer.Option(help="serve the app afterwards")] = True,
             host: Host = HOST, port: Port = PORT, workers: Workers = None,
             months: Annotated[int | None, typer.Option(
                 help="months of synthetic incidents (default: the demo model's)")]
             = None) -> None:
        """Build the demo district (real central-Helsinki geography, synthetic people and
        incidents) on first run, then serve gridgis."""
        import sqlalchemy as sa

        from gridgis.gis.db import current_srid, open_database
        from gridgis.gis.demo import DemoOptions, build_demo, demo_exists, existing_accounts
        from gridgis.gis.demo import reset as reset_demo
        from gridgis.gis.errors import ConfigurationError

        from .users import cli_actor

        with open_database() as db:
            if reset:
                reset_demo(db)
            if demo_exists(db):
                out.print("the demo district is already built; `--reset` rebuilds it")
                with db.engine.connect() as conn:
                    names = existing_accounts(conn)
                if names:
                    out.print(f"its accounts exist ({', '.join(names)}); their passwords "
                              "were shown once, when it was built: `gridgis users passwd "
                              "NAME` sets a new one", highlight=False)
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
                                     say=_step,
                                     actor=cli_actor())
                out.print("demo built in {:.0f} s: {}".format(summary.seconds, ", ".join(
                    f"{n} {k}" for k, n in summary.counts.items())), highlight=False)
                print_accounts(summary.accounts)
            if serve:
                run_server(host, port, workers, db)


def print_accounts(accounts: list[DemoAccount]) -> None:
    """The demo accounts with their passwords: shown this once, never stored."""
    from rich.markup import escape
    from rich.table import Column, Table

    from gridgis.gis.demo.accounts import ACCOUNTS

    kept = [name for name, _ in ACCOUNTS if name not in {a.name for a in accounts}]
    if kept:
        out.print(f"accounts {', '.join(kept)} existed and are kept as they were",
                  highlight=False)
    if not accounts:
        return
    table = Table("user", "role", "scope", Column("password", no_wrap=True, min_width=16),
                  title="demo accounts (sign in at /login)")
    for a in accounts:
        table.add_row(a.name, a.role, escape(", ".join(a.scope)) or "whole district",
                      a.password)
    out.print(table)
    out.print("the passwords are shown this once and not stored (only their hashes are); "
              "`gridgis users passwd NAME` sets a new one, `gridgis users token NAME` makes "
              "an API token", highlight=False)


def _step(text: str) -> None:
    """A step of the demo build begins: stop first if asked to."""
    from . import raise_if_stopping

    raise_if_stopping()
    out.print(f"… {text}", highlight=False)
