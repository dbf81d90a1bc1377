"""``gridgis audit``: the blind-spot scorecard of a grid plan."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .console import err, out

Format = enum.Enum("Format", {"table": "table", "csv": "csv", "json": "json"}, type=str)
STATUS_STYLE = {"red": "bold red", "amber": "yellow", "green": "green", "none": "dim"}
SHOWN = ("code", "status", "neglected_incidents", "gap_m2", "overlap_m2", "workers",
         "households_per_worker", "days_since_check", "street_in_view_share",
         "dead_corners", "car_beyond_share", "foot_beyond_share", "unpatrolled_hotspots")
HEADERS = ("grid", "status", "neglected incidents", "gap m²", "overlap m²", "workers",
           "households /worker", "days since check", "street in view", "dead corners",
           "streets > car limit", "streets > foot limit", "unpatrolled hotspots")


def register(root: typer.Typer) -> None:
    @root.command()
    def audit(
        plan: Annotated[str | None, typer.Option(
            help="grid plan to audit (default: the published one)")] = None,
        community: Annotated[str | None, typer.Option(
            help="only this community (area code)")] = None,
        format: Annotated[Format, typer.Option(help="output format")] = Format.table,
        sliver_m2: Annotated[float, typer.Option(
            help="smaller gaps and overlaps are slivers, not failures")] = 10.0,
        households_min: Annotated[float, typer.Option(help="workload norm, households "
                                                           "per worker")] = 300,
        households_max: Annotated[float, typer.Option(help="workload norm, households "
                                                           "per worker")] = 500,
        stale_days: Annotated[int, typer.Option(
            help="base data unchecked for longer is stale")] = 90,
        car_min: Annotated[float, typer.Option(
            help="streets farther by car from every post are blind spots")] = 5.0,
        foot_min: Annotated[float, typer.Option(
            help="streets farther on foot from every post are blind spots")] = 10.0,
        people_min: Annotated[float | None, typer.Option(
            help="workload norm, people per worker (none by default)")] = None,
        people_max: Annotated[float | None, typer.Option(
            help="workload norm, people per worker (none by default)")] = None,
        min_checked_share: Annotated[float, typer.Option(
            help="stale too when fewer of the households were checked")] = 0.0,
        hot_class: Annotated[int, typer.Option(
            help="weakest Gi* class of a hotspot cell: 90, 95 or 99")] = 95,
        months: Annotated[int, typer.Option(
            help="incidents and hotspots: months back from the latest")] = 12,
        presence_days: Annotated[int, typer.Option(
            help="patrol presence over these last days")] = 28,
        recent_days: Annotated[int, typer.Option(
            help="a hotspot without a patrol fix for longer is unpatrolled")] = 7,
        sites: Annotated[int, typer.Option(help="new camera sites to suggest")] = 10,
        site_range_m: Annotated[float, typer.Option(
            help="range of a suggested (all-round) camera, m")] = 30.0,
        street_in_view_min: Annotated[float, typer.Option(
            help="amber below this share of street length in view")] = 0.2,
        incidents_in_view_min: Annotated[float, typer.Option(
            help="amber below this share of incidents in view")] = 0.2,
        car_beyond_red: Annotated[float, typer.Option(
            help="red above this share of streets beyond the car limit")] = 0.1,
        foot_beyond_amber: Annotated[float, typer.Option(
            help="amber above this share of streets beyond the walking limit")] = 0.25,
    ) -> None:
        """Find every blind spot of a plan: coverage, responsibility, cameras, reach and
        patrol presence, per grid, worst first.

        Exits with status 1 when the plan has coverage gaps or overlaps, so that
        publishing can be gated on it."""
        import json
        import sys

        from gridgis.gis.db import open_database
        from gridgis.gis.services.blindspot_report import coverage_problem, rows
        from gridgis.gis.services.blindspots import AuditOptions, BlindSpotService

        options = AuditOptions(
            plan=plan, community=community, sliver_m2=sliver_m2,
            households_min=households_min, households_max=households_max,
            stale_days=stale_days, car_min=car_min, foot_min=foot_min, hot_class=hot_class,
            months=months, presence_days=presence_days, recent_days=recent_days,
            sites=sites, site_range_m=site_range_m, people_min=people_min,
            people_max=people_max, min_checked_share=min_checked_share,
            street_in_view_min=street_in_view_min,
            incidents_in_view_min=incidents_in_view_min, car_beyond_red=car_beyond_red,
            foot_beyond_amber=foot_beyond_amber)
        with open_database() as db:
            service = BlindSpotService(db.engine, db.srid)
            with err.status("auditing blind spots"):
                card = service.scorecard(options)
                coverage = service.coverage(options)
        problem = coverage_problem(coverage.coverage)
        if format is Format.json:
            out.print_json(json.dumps({
                "plan": card.plan, "coverage_problem": problem,
                "outside": coverage.outside_counts, "rules": card.rules,
                "grids": rows(card.grids), "communities": rows(card.communities),
                "subdistricts": rows(card.subdistricts)}, ensure_ascii=False))
        elif format is Format.csv:
            card.grids.assign(plan=card.plan).to_csv(sys.stdout, index=False)
        else:
            _print_tables(card, coverage)
        if problem:
            err.print(f"[bold red]coverage:[/] {problem}", highlight=False)
            raise typer.Exit(1)


def _print_tables(card, coverage) -> None:
    from rich.table import Table

    table = Table(*HEADERS, title=f"blind spots of {card.plan}, worst first")
    for row in card.grids.to_dict(orient="records"):
        table.add_row(*(_cell(name, row) for name in SHOWN))
    out.print(table)
    roll = Table("community", "grids", "red", "amber", "green", "status",
                 title="per community")
    for r in card.communities.itertuples(index=False):
        roll.add_row(r.code, str(r.grids), str(r.red), str(r.amber), str(r.green),
                     f"[{STATUS_STYLE[r.status]}]{r.status}[/]")
    out.print(roll)
    outside = {k: v for k, v in coverage.outside_counts.items() if v}
    out.print("outside every grid: " + (", ".join(f"{v:,} {k}" for k, v in outside.items())
                                       or "nothing"))
    for rule in card.rules:
        out.print(f"  {rule['measure']}: {rule['label_en']} — {rule['rule']}",
                  highlight=False)


def _cell(name: str, row: dict) -> str:
    """A value, coloured by its measure's status."""
    import math

    value = row[name]
    if name == "status":
        return f"[{STATUS_STYLE[value]}]{value}[/]"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "–"
    elif name.endswith("_share"):
        text = f"{value:.0%}"
    elif isinstance(value, float):
        text = f"{value:,.0f}"
    else:
        text = str(value)
    status = row.get(f"{name}_status", "green")
    return text if status == "green" else f"[{STATUS_STYLE[status]}]{text}[/]"
