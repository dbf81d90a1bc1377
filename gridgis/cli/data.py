"""``gridgis import`` and ``gridgis export``."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from gridgis.gis.importing.kinds import KINDS

from .console import err, out, print_rejections, progress, row_list

KindName = enum.Enum("KindName", {name: name for name in KINDS}, type=str)  # type: ignore[misc]
KIND_HELP = "what the file holds"
CRS_HELP = "e.g. EPSG:4326 or 4326"


def _print_network() -> None:
    """The road network after an import: its junctions and connected pieces."""
    from gridgis.gis.db import open_database
    from gridgis.gis.services.roads import RoadService

    with open_database() as db:
        net = RoadService(db.engine, db.srid).summary()
    out.print(f"road network: {net.edges:,} street segments between {net.junctions:,} "
              f"junctions and ends; {net.pieces} connected piece(s), the largest holding "
              f"{net.largest_share:.0%} of the segments"
              + ("" if net.pieces <= 1 else " (the others cannot be reached from it)"))


def register(root: typer.Typer) -> None:
    @root.command("import")
    def import_(
        kind: Annotated[KindName, typer.Argument(help=KIND_HELP)],
        file: Annotated[Path, typer.Argument(
            help="GeoJSON, GeoPackage, Shapefile (.shp/.zip), FlatGeobuf, GML, KML, GPX "
                 "or CSV")],
        crs: Annotated[str | None, typer.Option(
            help=f"the file's CRS when it does not say ({CRS_HELP})")] = None,
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
        dissolve: Annotated[bool, typer.Option(
            "--dissolve", help="areas, grids: join rows that share a code into one "
                               "multipolygon (the first row's attributes)")] = False,
        rejects: Annotated[Path | None, typer.Option(
            help="where --skip-invalid writes rejected rows "
                 "(default: ./NAME.rejected.csv)")] = None,
    ) -> None:
        """Import a file atomically: every row, or none with a report of every bad row."""
        from gridgis.gis.db import open_database
        from gridgis.gis.errors import ImportRejected
        from gridgis.gis.importing import Mapping, import_file, load_mapping_file, parse_map_option
        from gridgis.gis.importing.loader import rejects_beside

        from .users import cli_actor

        spec = load_mapping_file(mapping) if mapping else Mapping()
        spec = spec.merged(Mapping(fields=parse_map_option(map_), crs=crs,
                                   external_id=external_id, layer=layer, dissolve=dissolve))
        with open_database() as db, progress(f"importing {kind.value}") as steps:
            try:
                report = import_file(
                    db, kind.value, file, mapping=spec, plan_name=plan,
                    skip_invalid=skip_invalid, repair=repair, timezone=timezone,
                    rejects_path=rejects or rejects_beside(file, Path.cwd()),
                    progress=steps.update if err.is_terminal else None, actor=cli_actor())
            except ImportRejected as exc:
                print_rejections(exc.rejections)
                raise
        out.print(f"{kind.value}: {report.inserted} inserted, {report.updated} updated"
                  + (f", {report.unassigned} outside every grid" if report.unassigned else "")
                  + f" from {report.rows_read} rows in {report.seconds:.1f} s"
                  + f" (stored in EPSG:{report.srid})")
        if report.repaired:
            out.print(f"repaired invalid polygons on rows: {row_list(report.repaired)}")
        if report.dissolved:
            joined = len(report.dissolved)
            out.print(f"dissolved {sum(n for _, n, _ in report.dissolved)} rows into "
                      f"{joined} multipolygon{'s' if joined > 1 else ''}: " + ", ".join(
                          f"{code} ({n} parts"
                          + (", attributes differed: the first row's kept" if differed
                             else "") + ")"
                          for code, n, differed in report.dissolved[:20])
                      + (" …" if len(report.dissolved) > 20 else ""))
        if report.rejections:
            print_rejections(report.rejections)
            out.print(f"{len(report.rejections)} rejected rows written to {report.rejects_file}")
        if kind.value == "roads":
            _print_network()

    @root.command("export")
    def export(
        kind: Annotated[KindName, typer.Argument(help=KIND_HELP)],
        file: Annotated[Path, typer.Argument(help=".geojson, .gpkg or .csv")],
        crs: Annotated[str, typer.Option(
            help=f"output CRS, GeoPackage and CSV ({CRS_HELP}); GeoJSON is always "
                 "EPSG:4326")] = "EPSG:4326",
        include_sensitive: Annotated[bool, typer.Option(
            help="write personal fields (names, ID numbers, phones, birth dates, special "
                 "groups, free text, properties) unmasked; recorded in the audit log")]
        = False,
    ) -> None:
        """Export every row of a kind, personal fields masked as the API masks them.

        Every export is recorded in the audit log (`gridgis audit-log --action export`)."""
        from gridgis.gis.access.masking import personal_fields
        from gridgis.gis.db import open_database
        from gridgis.gis.exporting import export_kind

        from .users import cli_actor

        with open_database() as db, progress(f"exporting {kind.value}") as steps:
            count = export_kind(db, kind.value, file, crs=crs, actor=cli_actor(),
                                include_sensitive=include_sensitive, progress=steps.update)
        fields = personal_fields(kind.value)
        how = "" if not fields else (
            "; personal fields UNMASKED" if include_sensitive
            else f"; personal fields masked ({', '.join(fields)})")
        out.print(f"{count} {kind.value} written to {file}{how}", highlight=False)
