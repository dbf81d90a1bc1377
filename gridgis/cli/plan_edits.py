"""``gridgis plans split|merge|reassign|redraw|undo|figures``: edit a draft plan from the
command line, with the same rules as the API and the map (an edit that would break the
partition is refused with the reason and where)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .console import out


def register(app: typer.Typer) -> None:
    app.command("split")(split)
    app.command("merge")(merge)
    app.command("reassign")(reassign)
    app.command("redraw")(redraw)
    app.command("undo")(undo)
    app.command("figures")(figures)
    app.command("diff")(diff)
    app.command("generate")(generate)


Plan = Annotated[str, typer.Argument(help="the draft's name")]
Grid = Annotated[str, typer.Argument(help="a grid code of the draft")]
GeoJSONFile = Annotated[Path, typer.Argument(
    exists=True, dir_okay=False, help="a GeoJSON file (geometry, Feature or a collection "
                                      "of one feature) in WGS84")]


def split(plan: Plan, grid: Grid, line: GeoJSONFile,
          new_code: Annotated[list[str] | None, typer.Option(
              "--new-code", help="code of a new piece (repeat; default CODE-2, CODE-3…)")]
          = None) -> None:
    """Split a grid of a draft along a line drawn across it."""
    _edit(plan, lambda editor: editor.split(grid, _geometry(line), new_code or None))


def merge(plan: Plan, grids: Annotated[list[str], typer.Argument(help="two or more codes")],
          keep: Annotated[str | None, typer.Option(help="the code the merged grid keeps "
                                                        "(default: the first)")] = None
          ) -> None:
    """Merge neighbouring grids of one community of a draft."""
    _edit(plan, lambda editor: editor.merge(grids, keep))


def reassign(plan: Plan, grid: Grid, area: GeoJSONFile) -> None:
    """Give the land of an area (a street block) inside the grid's community to a grid."""
    _edit(plan, lambda editor: editor.reassign(grid, _geometry(area)))


def redraw(plan: Plan, grid: Grid, outline: GeoJSONFile) -> None:
    """Give a grid a new outline; its neighbours give or take the difference."""
    _edit(plan, lambda editor: editor.redraw(grid, _geometry(outline)))


def undo(plan: Plan) -> None:
    """Undo the draft's last edit."""
    _edit(plan, lambda editor: editor.undo())


def figures(plan: Plan, csv: Annotated[Path | None, typer.Option(
        help="write the per-grid figures to this CSV file")] = None) -> None:
    """Live figures of a plan's grids and its workload balance."""
    from dataclasses import asdict

    from rich.table import Table

    from gridgis.gis.db import open_database
    from gridgis.gis.drafts import plan_id_by_name
    from gridgis.gis.services.plan_figures import (
        balance,
        grid_figures,
        grid_workers,
        plan_households,
    )

    with open_database() as db, db.engine.connect() as conn:
        plan_id = plan_id_by_name(conn, plan)
        rows = grid_figures(conn, plan_id)
        summary = balance(plan_households(conn, plan_id), grid_workers(conn, plan_id))
    if csv is not None:
        rows.to_csv(csv, index=False)
        out.print(f"wrote {len(rows)} grids to {csv}")
    else:
        table = Table("grid", "households", "people", "special", "places", "incidents",
                      "area m²", "Polsby-Popper", "parts")
        for r in rows.itertuples():
            table.add_row(r.code, str(r.households), str(r.people), str(r.special_groups),
                          str(r.places), str(r.incidents), f"{r.area_m2:,.0f}",
                          f"{r.polsby_popper:.2f}", str(r.parts))
        out.print(table)
    out.print(" ".join(f"{k}={v}" for k, v in asdict(summary).items()), highlight=False)


def diff(a: Annotated[str, typer.Argument(help="the plan before (usually the published one)")],
         b: Annotated[str, typer.Argument(help="the plan after (a draft)")],
         csv_dir: Annotated[Path | None, typer.Option(
             help="write grids.csv, moves.csv and workers.csv to this folder")] = None
         ) -> None:
    """What changes from plan A to plan B: grids, who and what changes grid, workloads."""
    from rich.table import Table

    from gridgis.gis.db import open_database
    from gridgis.gis.drafts import plan_id_by_name
    from gridgis.gis.services.plan_diff import plan_diff

    with open_database() as db, db.engine.connect() as conn:
        found = plan_diff(conn, plan_id_by_name(conn, a), plan_id_by_name(conn, b))
    if csv_dir is not None:
        csv_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in (("grids", found.grids), ("moves", found.moves),
                            ("workers", found.workers)):
            frame.to_csv(csv_dir / f"{name}.csv", index=False)
        out.print(f"wrote grids.csv, moves.csv and workers.csv to {csv_dir}")
    changed = found.grids[found.grids["status"] != "unchanged"]
    grids = Table("grid", "status", f"households {a}", f"households {b}")
    for r in changed.itertuples():
        grids.add_row(r.code, r.status, _count(r.households_a), _count(r.households_b))
    moves = Table("kind", "from", "to", "count")
    for m in found.moves.itertuples():
        moves.add_row(m.kind, m.from_grid or "(none)", m.to_grid or "(none)", str(m.n))
    workers = Table("worker", f"grids {a}", f"grids {b}", "households before", "after",
                    "change")
    for w in found.workers.itertuples():
        workers.add_row(str(w.worker_id), w.grids_a, w.grids_b, f"{w.households_a:g}",
                        f"{w.households_b:g}", f"{w.change:+g}")
    for table in (grids, moves, workers):
        out.print(table)
    out.print(" ".join(f"{k}={v}" for k, v in found.summary().items()), highlight=False)


def generate(
    name: Annotated[str, typer.Argument(help="the new draft's name")],
    min_households: Annotated[int, typer.Option(help="fewest households in a grid")],
    max_households: Annotated[int, typer.Option(help="most households in a grid")],
    community: Annotated[str | None, typer.Option(
        help="only this community (code); default: every community")] = None,
    follow: Annotated[str, typer.Option(
        help="streets: grids of whole street blocks; lattice: of square cells")] = "streets",
    cell_m: Annotated[float, typer.Option(
        help="lattice cell size (also where a community has no roads)")] = 100.0,
    keep_grid: Annotated[list[str] | None, typer.Option(
        "--keep-grid", help="a grid kept as it is (repeat)")] = None,
    source: Annotated[str | None, typer.Option(
        "--from", help="start from this plan, moving as few people as possible "
                       "(default: draw afresh and compare with the published plan)")] = None,
    method: Annotated[str, typer.Option(
        help="start without --from: bisect (recursive bisection) or maxp (PySAL max-p)")]
    = "bisect",
    seed: Annotated[int, typer.Option(help="seed of max-p's randomisation")] = 0,
) -> None:
    """Propose a plan: grids along street blocks inside each community, each with
    between --min-households and --max-households, written as a new draft, with a report
    against the current plan."""
    from gridgis.gis.db import open_database
    from gridgis.gis.errors import InvalidInput
    from gridgis.gis.services.plan_generate import GenerateOptions
    from gridgis.gis.services.plan_generate import generate as propose

    if follow not in ("streets", "lattice"):
        raise InvalidInput(f"--follow is streets or lattice, not {follow!r}", field="follow")
    if method not in ("bisect", "maxp"):
        raise InvalidInput(f"--method is bisect or maxp, not {method!r}", field="method")
    options = GenerateOptions(name=name, min_households=min_households,
                              max_households=max_households, community=community,
                              follow=follow, cell_m=cell_m,  # type: ignore[arg-type]
                              keep=tuple(keep_grid or ()), source=source,
                              method=method, seed=seed)  # type: ignore[arg-type]
    options.check()
    from gridgis.gis.access import audit

    from .console import progress as bar
    from .users import cli_actor

    with open_database() as db:
        with bar("drawing grids", total=None) as steps:
            report = propose(db.engine, db.srid, options,
                             progress=lambda code: steps.advance())
        with db.engine.begin() as conn:
            audit.record(conn, None, audit.Entry(
                "create", "plans", record_ids=[report.plan_id],
                detail=f"generated {report.proposed.grids} grids"), user_name=cli_actor())
    _print_report(report)


def _print_report(report) -> None:
    from rich.table import Table

    table = Table("plan", "grids", "households min", "max", "CV", "Polsby-Popper mean",
                  "out of bounds", "not contiguous")
    rows = [(report.name, report.proposed)]
    if report.current is not None:
        rows.append((report.current_name, report.current))
    for name, f in rows:
        table.add_row(name, str(f.grids), str(f.min), str(f.max), f"{f.cv:.3f}",
                      f"{f.polsby_popper:.3f}", str(f.out_of_bounds), str(f.not_contiguous))
    out.print(table)
    if report.people_moved is not None and report.people:
        out.print(f"people who would change grid: {report.people_moved} of {report.people} "
                  f"({100 * report.people_moved / report.people:.1f} %)", highlight=False)
    if report.out_of_bounds:
        out.print("grids the bounds could not be met for: "
                  + ", ".join(report.out_of_bounds), highlight=False)
    out.print(f"draft {report.name} (id {report.plan_id}) written in {report.seconds} s",
              highlight=False)


def _count(value: object) -> str:
    import pandas as pd

    return "-" if pd.isna(value) else str(value)


def _edit(plan: str, apply: Any) -> None:
    from gridgis.gis.access import audit
    from gridgis.gis.db import open_database
    from gridgis.gis.drafts import plan_id_by_name
    from gridgis.gis.services.plan_edits import DraftEditor

    from .users import cli_actor

    with open_database() as db, db.engine.begin() as conn:
        plan_id = plan_id_by_name(conn, plan)
        done = apply(DraftEditor(conn, db.srid, plan_id, cli_actor()))
        audit.record(conn, None, audit.Entry("update", "plans", record_ids=[plan_id],
                                             detail=f"{done.op}: {done.summary}"),
                     user_name=cli_actor())
    out.print(f"{plan}: {done.summary}", highlight=False)


def _geometry(path: Path) -> dict:
    from gridgis.gis.errors import InvalidInput

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not a readable GeoJSON file ({exc})") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise InvalidInput(f"{path}: give one feature, not {len(features)}")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or "type" not in data:
        raise InvalidInput(f"{path}: no GeoJSON geometry found")
    return data
