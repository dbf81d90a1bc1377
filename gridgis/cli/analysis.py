"""``gridgis backtest``: score the hotspot forecast against baselines on stored data."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridgis.gis.errors import InvalidInput
from gridgis.gis.hotspots.defaults import DEFAULT_CELL_M

from .console import out, progress

if TYPE_CHECKING:
    from gridgis.gis.services.study_area import StudyArea

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
        timezone: Annotated[str | None, typer.Option(
            help="zone of dates without offset (default: the deployment's)")] = None,
        study_area: Annotated[str, typer.Option(
            help="what is scored: all, active (units with an incident in the training "
                 "window), an area code, or a polygon file")] = "all",
    ) -> None:
        """Train on [train-start, train-end), score [train-end, test-end): hit rate, PAI
        and PEI at 1/5/10 % coverage for the default forecast, the baselines and the
        oracle, and the parameters tuned inside the training window. Dates without an
        offset are in the deployment's time zone unless --timezone says otherwise."""
        import pandas as pd
        from rich.table import Table

        from gridgis.gis.db import open_database
        from gridgis.gis.services.hotspot_inputs import Selection
        from gridgis.gis.services.hotspots import BACKTEST_STEPS, BacktestWindow, HotspotService
        from gridgis.gis.times import deployment_time_zone, required_instant

        selection = Selection(unit.value, cell, tuple(category or ()))
        with open_database() as db:
            with db.engine.connect() as conn:
                local = deployment_time_zone(conn)
            if timezone and timezone != local:
                out.print(f"[yellow]dates are read in {timezone}; the deployment's time "
                          f"zone is {local}[/yellow]")
            zone = timezone or local
            first, middle, last = (pd.Timestamp(required_instant(value, f"--{name}", zone))
                                   for name, value in (("train-start", train_start),
                                                       ("train-end", train_end),
                                                       ("test-end", test_end)))
            window = BacktestWindow(first, middle, last,
                                    study=study_area_option(study_area, db.srid))
            service = HotspotService(db.engine, db.srid)
            with progress("backtesting", total=BACKTEST_STEPS) as steps:
                def done(step: str) -> None:
                    steps.advance()
                    steps.describe(step)

                table = service.backtest(selection, window, progress=done)
        view = Table("method", "coverage", "hit rate", "PAI", "PEI",
                     title=f"{int(table['units'][0]):,} {unit.value} units; study area "
                           f"{table['study_area'][0]}, {table['area_km2'][0]:,} km²; "
                           f"{int(table['incidents'][0]):,} incidents scored; cells ranked "
                           "by density (incidents per km²), the last one counted in part")
        for row in table.itertuples(index=False):
            view.add_row(row.method, f"{row.coverage:.0%}", f"{row.hit_rate:.3f}",
                         f"{row.pai:.2f}", f"{row.pei:.3f}")
        out.print(view)
        tuned = table.drop_duplicates("method").set_index("method")["parameters"]
        for method, parameters in tuned.items():
            if parameters:
                out.print(f"{method}: " + ", ".join(
                    f"{name} {'∞' if value is None else f'{value:g}'}"
                    for name, value in parameters.items()))


def study_area_option(value: str, srid: int) -> StudyArea:
    """--study-area: a polygon file (its polygons' union), else all, active or a code."""
    from gridgis.gis.services.study_area import StudyArea

    path = Path(value)
    if not path.is_file():
        return StudyArea.parse(value)
    import geopandas as gpd

    try:
        shapes = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # GDAL's errors name the file and the problem
        raise InvalidInput(f"cannot read the study area {path}: {exc}",
                           field="study_area") from None
    if shapes.crs is None:
        raise InvalidInput(f"{path} has no coordinate reference system", field="study_area")
    return StudyArea.polygon(shapes.to_crs(srid).union_all())
