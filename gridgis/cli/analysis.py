"""``gridgis backtest``: score the hotspot forecast against baselines on stored data."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from gridgis.gis.errors import InvalidInput

out = Console(soft_wrap=True)


def register(root: typer.Typer) -> None:
    @root.command()
    def backtest(
        train_start: Annotated[str, typer.Option(help="ISO date, inclusive")],
        train_end: Annotated[str, typer.Option(help="ISO date: training ends, scoring starts")],
        test_end: Annotated[str, typer.Option(help="ISO date, exclusive")],
        unit: Annotated[str, typer.Option(help="lattice or grids")] = "lattice",
        cell: Annotated[float, typer.Option(help="lattice cell size, m")] = 150.0,
        category: Annotated[list[str] | None, typer.Option(help="repeatable")] = None,
        timezone: Annotated[str, typer.Option(help="zone of dates without offset")] = "UTC",
    ) -> None:
        """Train on [train-start, train-end), score [train-end, test-end): hit rate, PAI
        and PEI at 1/5/10 % coverage for the default forecast, two baselines and the
        oracle."""
        from gridgis.gis.db import open_database
        from gridgis.gis.hotspots import service
        from gridgis.gis.hotspots.forecast import Incidents
        from gridgis.gis.hotspots.forecast import backtest as run_backtest

        try:
            edges = [pd.Timestamp(t) for t in (train_start, train_end, test_end)]
        except ValueError as exc:
            raise InvalidInput(f"dates must be ISO 8601: {exc}") from exc
        edges = [t.tz_localize(timezone) if t.tzinfo is None else t for t in edges]
        if not edges[0] < edges[1] < edges[2]:
            raise InvalidInput("need train-start < train-end < test-end")
        if unit not in ("lattice", "grids"):
            raise InvalidInput("unit must be lattice or grids")
        selection = service.Selection(unit, cell, tuple(sorted(category or ())),  # type: ignore[arg-type]
                                      edges[0].to_pydatetime(), edges[2].to_pydatetime())
        with open_database() as db, db.engine.connect() as conn:
            cells = service.units(conn, db.srid, selection)
            points = service.incidents(conn, db.srid, selection)
        table = run_backtest(cells, Incidents.from_frame(points), *edges)
        view = Table("method", "coverage", "hit rate", "PAI", "PEI",
                     title=f"{len(cells):,} {unit} units; {int(table['incidents'][0]):,} "
                           "incidents scored")
        for row in table.itertuples(index=False):
            view.add_row(row.method, f"{row.coverage:.0%}", f"{row.hit_rate:.3f}",
                         f"{row.pai:.2f}", f"{row.pei:.3f}")
        out.print(view)
