"""``gridgis patrol``: plan a shift's patrols and write what the units carry (GPX per
unit, GeoJSON, A4 route sheets); list and re-open plans."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .console import err, out

app = typer.Typer(help="Patrol plans: plan a shift's routes, list and export plans.",
                  no_args_is_help=True)


@app.command("plan")
def plan(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the GPX files, the "
                                          "GeoJSON and the route sheets")],
    units: Annotated[int, typer.Option(min=1, max=20, help="patrol units")] = 3,
    mode: Annotated[str, typer.Option(help="foot, bike or car")] = "foot",
    shift: Annotated[str, typer.Option(help="HH:MM-HH:MM, local time (an end before "
                                       "the start is the next day)")] = "08:00-16:00",
    day: Annotated[str | None, typer.Option(
        "--date", help="the shift's date, YYYY-MM-DD (default: today)")] = None,
    post: Annotated[str | None, typer.Option(
        help="the post's name (default: the district's first post)")] = None,
    top: Annotated[int, typer.Option(min=1, max=300, help="targets from the top of the "
                                     "forecast (or the hot spots)")] = 30,
    source: Annotated[str, typer.Option(help="forecast, gi (hot spots) or list (only "
                                        "--targets)")] = "forecast",
    targets: Annotated[Path | None, typer.Option(
        help="CSV of extra or hand-picked targets: name,lon,lat[,risk,dwell_min,window,"
             "mandatory]; window HH:MM-HH:MM")] = None,
    dwell: Annotated[float, typer.Option(help="minutes at each target")] = 12.0,
    seed: Annotated[int | None, typer.Option(
        help="randomisation seed (default: a new one; the plan records it)")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds the solver may take")] = 10.0,
    compare: Annotated[float, typer.Option(
        help="seconds of the longer solve the plan is compared with (0: none)")] = 30.0,
    name: Annotated[str | None, typer.Option(help="the plan's name")] = None,
) -> None:
    """Plan a shift: where each unit goes, in which order and for how long."""
    from gridgis.gis.db import open_database
    from gridgis.gis.errors import InvalidInput
    from gridgis.gis.services.patrol_options import PatrolRequest, parse_shift
    from gridgis.gis.services.patrols import PatrolService

    from .users import cli_actor

    with open_database() as db:
        zone = PatrolService(db.engine, db.srid).timezone()
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError:
        raise InvalidInput(f"--date {day!r} must be YYYY-MM-DD", field="--date") from None
    start, end = parse_shift(shift, on, zone)
    hand = _read_targets(targets) if targets else ()
    request = PatrolRequest(
        name or f"{start:%Y-%m-%d} {shift} {mode}", start, end, units=units,
        mode=mode, post=post, source=source, top=top, targets=hand,  # type: ignore[arg-type]
        dwell_min=dwell, seed=secrets.randbelow(2**31) if seed is None else seed,
        time_limit_s=time_limit, compare_s=compare, timezone=zone)
    with open_database() as db:
        service = PatrolService(db.engine, db.srid)
        plan_id = service.create(request, None, user_name=cli_actor())
        err.print(f"planning #{plan_id}: {units} units, {mode}, {start:%Y-%m-%d %H:%M}–"
                  f"{end:%H:%M}, seed {request.seed} …", highlight=False)
        status = service.solve_here(plan_id, request)
        stored = service.plan(plan_id, None)
        if status != "ready":
            raise InvalidInput(f"plan #{plan_id} failed: {stored['failure']}")
        written = write_outputs(service, stored, out_dir)
    _print_summary(stored)
    err.print(f"wrote {len(written)} files to {out_dir}", highlight=False)


@app.command("list")
def list_plans(limit: Annotated[int, typer.Option(min=1, max=500)] = 20) -> None:
    """The latest patrol plans."""
    from rich.table import Table

    from gridgis.gis.db import open_database
    from gridgis.gis.services.patrols import PatrolService

    with open_database() as db:
        rows, total = PatrolService(db.engine, db.srid).plans(None, limit)
    table = Table("id", "name", "status", "shift start", "units", "mode", "post", "seed",
                  "planned by")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["status"], r["shift_start"],
                      str(r["units"]), r["mode"], r["post"], str(r["seed"]),
                      r["planned_by"] or "")
    out.print(table)
    err.print(f"{len(rows)} of {total} plans", highlight=False)


@app.command("export")
def export(plan_id: int, out_dir: Annotated[Path, typer.Option("--out")]) -> None:
    """Write a stored plan's GPX files, GeoJSON and route sheets again."""
    from gridgis.gis.db import open_database
    from gridgis.gis.errors import InvalidInput
    from gridgis.gis.services.patrols import PatrolService

    with open_database() as db:
        service = PatrolService(db.engine, db.srid)
        stored = service.plan(plan_id, None)
        if stored["status"] != "ready":
            raise InvalidInput(f"plan #{plan_id} is {stored['status']}")
        written = write_outputs(service, stored, out_dir)
    err.print(f"wrote {len(written)} files to {out_dir}", highlight=False)


def write_outputs(service, stored: dict, out_dir: Path) -> list[Path]:
    import json

    import shapely

    from gridgis.gis.patrol.export import plan_geojson
    from gridgis.gis.patrol.gpx import unit_gpx
    from gridgis.maps.patrol_sheet import route_sheet

    out_dir.mkdir(parents=True, exist_ok=True)
    routes = service.routes(stored["id"])
    lines = dict(zip(routes["unit"], routes.geometry, strict=True))
    written = []
    result = stored["result"]
    for unit in result["units"]:
        line = lines.get(unit["unit"])
        coords = shapely.get_coordinates(line).tolist() if line is not None else []
        number = unit["unit"] + 1
        gpx = out_dir / f"unit-{number}.gpx"
        gpx.write_bytes(unit_gpx(stored["name"], unit, coords, result["post"]))
        sheet = out_dir / f"sheet-unit-{number}.html"
        streets = service.streets_near(stored["id"], unit["unit"])
        sheet.write_text(route_sheet(stored, unit, coords, streets), encoding="utf-8")
        written += [gpx, sheet]
    geojson = out_dir / "plan.geojson"
    geojson.write_text(json.dumps(plan_geojson(stored, lines), ensure_ascii=False),
                       encoding="utf-8")
    return [*written, geojson]


def _read_targets(path: Path):
    import csv

    from gridgis.gis.errors import InvalidInput
    from gridgis.gis.services.patrol_options import hand_targets

    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [{k: v for k, v in row.items() if v not in (None, "")}
                    for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidInput(f"cannot read --targets {path}: {error}",
                           field="--targets") from None
    for row in rows:
        if "mandatory" in row:
            row["mandatory"] = str(row["mandatory"]).strip().lower() in ("1", "true", "yes",
                                                                         "y", "是")
    try:
        return hand_targets(rows)
    except InvalidInput as error:
        raise InvalidInput(f"--targets {path}: {error}", field="--targets") from None


def _print_summary(stored: dict) -> None:
    from rich.table import Table

    result = stored["result"]
    table = Table("unit", "stops", "back", "km", "risk share")
    for unit in result["units"]:
        table.add_row(unit["name"], str(len(unit["stops"])), unit["back"][11:16],
                      f"{unit['metres'] / 1000:.1f}", f"{unit['risk_share']:.0%}")
    out.print(table)
    ours, naive = result["totals"], result["comparison"]["naive"]
    line = (f"risk collected {ours['value']:.3g} ({ours['risk_share']:.0%} of the targets' "
            f"risk); naive nearest-neighbour plan {naive['value']:.3g}")
    if naive["value"] > 0:
        line += f" (ours ×{ours['value'] / naive['value']:.2f})"
    longer = result["comparison"]["longer"]
    if longer:
        line += f"; best in a {longer['seconds']:g} s solve {longer['value']:.3g}"
    out.print(line, highlight=False)
    for key, label in (("unreachable", "unreachable targets"),
                       ("dropped_mandatory", "MANDATORY TARGETS NOT REACHED")):
        if result.get(key):
            err.print(f"{label}: {', '.join(result[key])}", highlight=False)


@app.command("dosage")
def dosage(plan_id: int, radius: Annotated[float, typer.Option(
        min=5, max=1000, help="metres around a target that count as being there")] = 50.0
           ) -> None:
    """Where the units really were against a plan: minutes at each target."""
    from rich.table import Table

    from gridgis.gis.db import open_database
    from gridgis.gis.services.patrols import PatrolService

    with open_database() as db:
        report = PatrolService(db.engine, db.srid).dosage(plan_id, None, radius)
    table = Table("target", "planned min", "present min", "visited", "units")
    for row in report["targets"]:
        if row["planned_min"] or row["present_min"]:
            table.add_row(row["name"], f"{row['planned_min']:.0f}",
                          f"{row['present_min']:.0f}", "yes" if row["visited"] else "NO",
                          row["units_seen"])
    out.print(table)
    out.print(f"{report['targets_visited']} of {report['targets_planned']} planned targets "
              f"visited; {report['present_min']:.0f} of {report['planned_min']:.0f} planned "
              f"minutes present ({report['fixes']} fixes of units "
              f"{', '.join(report['units_seen']) or 'none'})", highlight=False)
