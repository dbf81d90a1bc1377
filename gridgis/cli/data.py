"""``gridgis import``, ``gridgis export`` and ``gridgis plans``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from gridgis.gis.db import open_database
from gridgis.gis.errors import ImportRejected
from gridgis.gis.importing import Mapping, import_file, load_mapping_file, parse_map_option
from gridgis.gis.importing.kinds import KINDS
from gridgis.gis.importing.loader import rejects_beside

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
KIND_HELP = "one of: " + ", ".join(KINDS)
SHOWN_REJECTIONS = 20


def register(root: typer.Typer) -> None:
    @root.command("import")
    def import_(
        kind: Annotated[str, typer.Argument(help=KIND_HELP)],
        file: Annotated[Path, typer.Argument(
            help="GeoJSON, GeoPackage, Shapefile (.shp/.zip) or CSV")],
        crs: Annotated[str | None, typer.Option(help="the file's CRS when it does not say")] = None,
        map_: Annotated[str | None, typer.Option("--map", help="FIELD=COLUMN,... pairs")] = None,
        mapping: Annotated[Path | None, typer.Option(help="a TOML mapping file")] = None,
        external_id: Annotated[str | None, typer.Option(
            help="column identifying a row; re-importing updates instead of duplicating")] = None,
        plan: Annotated[str | None, typer.Option(help="grid plan (grids, workers)")] = None,
        layer: Annotated[str | None, typer.Option(help="layer of a multi-layer file")] = None,
        timezone: Annotated[str, typer.Option(help="zone of date-times without an offset")] = "UTC",
        skip_invalid: Annotated[bool, typer.Option(
            help="import the good rows; write the rejected ones beside the file")] = False,
        repair: Annotated[bool, typer.Option(help="repair invalid polygons when possible")] = True,
        rejects: Annotated[Path | None, typer.Option(
            help="where --skip-invalid writes rejected rows "
                 "(default: ./NAME.rejected.csv)")] = None,
    ) -> None:
        """Import a file atomically: every row, or none with a report of every bad row."""
        spec = load_mapping_file(mapping) if mapping else Mapping()
        spec = spec.merged(Mapping(fields=parse_map_option(map_), crs=crs,
                                   external_id=external_id, layer=layer))
        with open_database() as db, Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(f"importing {kind}", total=None)
            try:
                report = import_file(
                    db, kind, file, mapping=spec, plan_name=plan, skip_invalid=skip_invalid,
                    repair=repair, timezone=timezone,
                    rejects_path=rejects or rejects_beside(file, Path.cwd()),
                    progress=lambda done, total: bar.update(task, completed=done, total=total))
            except ImportRejected as exc:
                bar.stop()
                _print_rejections(exc.rejections)
                raise
        out.print(f"{kind}: {report.inserted} inserted, {report.updated} updated"
                  + (f", {report.unassigned} outside every grid" if report.unassigned else "")
                  + f" from {report.rows_read} rows in {report.seconds:.1f} s"
                  + f" (stored in EPSG:{report.srid})")
        if report.repaired:
            out.print(f"repaired invalid polygons on rows: {_rows(report.repaired)}")
        if report.rejections:
            _print_rejections(report.rejections)
            out.print(f"{len(report.rejections)} rejected rows written to {report.rejects_file}")

    @root.command("export")
    def export(
        kind: Annotated[str, typer.Argument(help=KIND_HELP)],
        file: Annotated[Path, typer.Argument(help=".geojson, .gpkg or .csv")],
        epsg: Annotated[int, typer.Option(help="output CRS (GeoPackage and CSV)")] = 4326,
        include_sensitive: Annotated[bool, typer.Option(
            help="include personal fields (names, ID numbers, phones, special groups)")] = False,
    ) -> None:
        """Export every row of a kind."""
        from gridgis.gis.exporting import export_kind

        with open_database() as db:
            count = export_kind(db, kind, file, epsg=epsg, include_sensitive=include_sensitive)
        out.print(f"{count} {kind} written to {file}")

    plans = typer.Typer(help="Grid plans: list and publish.", no_args_is_help=True)
    root.add_typer(plans, name="plans")

    @plans.command("list")
    def list_plans() -> None:
        """List grid plans with their state and grid count."""
        with open_database() as db, db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT p.name, p.state, p.valid_from, p.valid_to, count(g.id) AS grids "
                "FROM grid_plans p LEFT JOIN grids g ON g.plan_id = p.id "
                "GROUP BY p.id ORDER BY p.id")).all()
        table = Table("plan", "state", "valid from", "valid to", "grids")
        for r in rows:
            table.add_row(r.name, r.state, str(r.valid_from or ""), str(r.valid_to or ""),
                          str(r.grids))
        out.print(table)

    @plans.command("publish")
    def publish(name: str) -> None:
        """Publish a plan (retiring the current one) and relink everything to its grids."""
        with open_database() as db, db.engine.begin() as conn:
            plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                                   {"n": name}).scalar()
            if plan_id is None:
                from gridgis.gis.errors import NotFound
                raise NotFound(f"there is no grid plan named {name!r}")
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            changed = conn.execute(sa.text("SELECT gridgis_publish_plan(:id)"),
                                   {"id": plan_id}).scalar_one()
        out.print(f"published {name}; {changed} entities changed grid")


def _rows(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:SHOWN_REJECTIONS]))
    return shown + (f" and {len(rows) - SHOWN_REJECTIONS} more" if len(rows) > SHOWN_REJECTIONS
                    else "")


def _print_rejections(rejections) -> None:
    for r in rejections[:SHOWN_REJECTIONS]:
        err.print(f"  row {r.row}: {escape(r.reason)}", highlight=False, soft_wrap=True)
    if len(rejections) > SHOWN_REJECTIONS:
        err.print(f"  … and {len(rejections) - SHOWN_REJECTIONS} more rows")
