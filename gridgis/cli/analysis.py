"""``gridgis backtest``: score the hotspot forecast against baselines on stored data."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from gridgis.gis.hotspots.defaults import DEFAULT_CELL_M

from .console import out, progress

# Literal values would do, but typer needs an Enum to offer and complete choices.
UnitName = enum.Enum("UnitName", {"lattice": "lattice", "grids": "grids"}, type=str)


def register(root: typer.Typer) -> None:
    @root.command()
    def backtest(
        train_start: Annotated[str, typer.Option(help="ISO date, inclusive")],
        train_end: Annotated[str, typer.Option(help="ISO date: training ends, scoring starts")],
        test_end: Annotated[str, typer.Option(help="ISO date, exclusive")],
        unit: Annotated[UnitName, typer.Option(help="units of analysis")] = UnitName.lattice,
        cell: Annotated[float, typer.Option(help="lattice cell size, m")] = DEFAULT_CELL_M,
        category: Annotated[list[str] | None, typer.Option(
            help="incident category (repeat, or a comma-separated list)")] = None,
        timezone: Annotated[str, typer.Option(help="zone of dates without offset")] = "UTC",
    ) -> None:
        """Train on [train-start, train-end), score [train-end, test-end): hit rate, PAI
        and PEI at 1/5/10 % coverage for the default forecast, two baselines and the
        oracle."""
        import pandas as pd
        from rich.table import Table

        from gridgis.gis.db import open_database
        from gridgis.gis.services.hotspot_inputs import Selection
        from gridgis.gis.services.hotspots import BACKTEST_STEPS, BacktestWindow, HotspotService
        from gridgis.gis.times import required_instant

        window = BacktestWindow(*(pd.Timestamp(required_instant(value, f"--{name}", timezone))
                                  for name, value in (("train-start", train_start),
                                                      ("train-end", train_end),
                                                      ("test-end", test_end))))
        selection = Selection(unit.value, cell, tuple(category or ()))
        with open_database() as db, progress("backtesting", total=BACKTEST_STEPS) as steps:
            service = HotspotService(db.engine, db.srid)

            def done(step: str) -> None:
                steps.advance()
                steps.describe(step)

            table = service.backtest(selection, window, progress=done)
            cells = service.units(selection)
        view = Table("method", "coverage", "hit rate", "PAI", "PEI",
                     title=f"{len(cells):,} {unit.value} units; {int(table['incidents'][0]):,} "
                           "incidents scored")
        for row in table.itertuples(index=False):
            view.add_row(row.method, f"{row.coverage:.0%}", f"{row.hit_rate:.3f}",
                         f"{row.pai:.2f}", f"{row.pei:.3f}")
        out.print(view)
