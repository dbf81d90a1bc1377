"""``gridgis demo``: build the demo district once, then serve it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .console import out
from .serve import HOST, PORT, Host, Port, Workers, run_server

if TYPE_CHECKING:
    from gridgis.gis.db import Database
    from gridgis.gis.demo import DemoAccount, DemoSummary


def register(root: typer.Typer) -> None:
    @root.command()
    def demo(reset: Annotated[bool, typer.Option(help="rebuild from scratch")] = False,
             serve: Annotated[bool, typer.Option(help="serve the app afterwards")] = True,
             host: Host = HOST, port: Port = PORT, workers: Workers = None,
             months: Annotated[int | None, typer.Option(
                 help="months of synthetic incidents (default: the demo model's)")]
             = None,
             city: Annotated[bool, typer.Option(
                 "--city", help="the generated city instead (10,000 grids, 3,000,000 people, "
                 "2,000,000 incidents over 5 years; data/city_model.toml)")] = False,
             scale: Annotated[float | None, typer.Option(  # max: city_build.MAX_SCALE
                 min=0.0001, max=2.0, help="with --city: multiplies every count (default 1: "
                 "about 3 GB of memory while it is built)")] = None
             ) -> None:
        """Build the demo district (real central-Helsinki geography, synthetic people and
        incidents), or with --city a generated city, on first run, then serve gridgis."""
        import sqlalchemy as sa

        from gridgis.gis.db import current_srid, open_database
        from gridgis.gis.demo import demo_kind
        from gridgis.gis.demo import reset as reset_demo
        from gridgis.gis.demo.build import check_schema_crs
        from gridgis.gis.errors import ConfigurationError, InvalidInput

        if months is not None and city:
            raise InvalidInput("--months is for the Helsinki demo; the generated city's "
                               "years are in data/city_model.toml", field="--months")
        if scale is not None and not city:
            raise InvalidInput("--scale is for the generated city (--city)", field="--scale")
        wanted = "city" if city else "demo"
        with open_database() as db:
            # checked before a reset empties anything: a reset keeps the schema's CRS
            held = demo_kind(db)
            if held is not None and held != wanted:
                raise ConfigurationError(
                    f"this database holds {_NAMES[held]}, not {_NAMES[wanted]}, and the two "
                    "are stored in different coordinate systems: use another GRIDGIS_HOME "
                    f"for {_NAMES[wanted]}")
            check_schema_crs(db, _crs(city), _NAMES[wanted])
            if reset:
                reset_demo(db)
                held = None
            if held is not None:
                out.print(f"{_NAMES[held]} is already built; `--reset` rebuilds it",
                          highlight=False)
                _print_existing_accounts(db)
            else:
                with db.engine.connect() as conn:
                    has_data = current_srid(conn) is not None and conn.execute(
                        sa.text("SELECT EXISTS (SELECT 1 FROM grids)")).scalar_one()
                if has_data:
                    raise ConfigurationError(
                        "this database already holds grids that are not the demo; use "
                        "another GRIDGIS_HOME for the demo, or `gridgis demo --reset` to "
                        "replace everything")
                summary = _build(db, city, 1.0 if scale is None else scale, months)
                out.print("{} built in {:.0f} s: {}".format(
                    _NAMES[wanted], summary.seconds,
                    ", ".join(f"{n:,} {k}" for k, n in summary.counts.items())),
                    highlight=False)
                print_accounts(summary.accounts)
            if serve:
                run_server(host, port, workers, db)


_NAMES = {"demo": "the demo district", "city": "the generated city"}


def _crs(city: bool) -> int:
    from gridgis.gis.demo.model import load_city_model, load_model

    return int((load_city_model() if city else load_model()[0])["crs"])


def _build(db: Database, city: bool, scale: float, months: int | None) -> DemoSummary:
    from gridgis.gis.demo import CityOptions, DemoOptions, build_city, build_demo

    from .console import progress_per_key
    from .users import cli_actor

    if not city:
        return build_demo(db, DemoOptions(months=months), say=_step, actor=cli_actor())
    with progress_per_key(lambda kind: f"importing {kind}") as update:
        def imported(kind: str, done: int, total: int | None) -> None:
            from . import raise_if_stopping

            raise_if_stopping()
            update(kind, done, total)

        return build_city(db, CityOptions(scale=scale), say=_step, progress=imported,
                          actor=cli_actor())


def _print_existing_accounts(db: Database) -> None:
    from gridgis.gis.demo import existing_accounts

    with db.engine.connect() as conn:
        names = existing_accounts(conn)
    if names:
        out.print(f"its accounts exist ({', '.join(names)}); their passwords were shown "
                  "once, when it was built: `gridgis users passwd NAME` sets a new one",
                  highlight=False)


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
