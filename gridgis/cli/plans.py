"""``gridgis plans``: list grid plans and publish one."""

from __future__ import annotations

from typing import Annotated

import typer

from .console import out, progress

app = typer.Typer(help="Grid plans: list, copy into drafts, publish.", no_args_is_help=True)


@app.command("list")
def list_plans() -> None:
    """List grid plans with their state and grid count."""
    import sqlalchemy as sa
    from rich.table import Table

    from gridgis.gis.db import open_database

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


@app.command("publish")
def publish(
    name: str,
    force: Annotated[bool, typer.Option(
        help="publish although the plan has coverage gaps or overlaps (needs --reason)")]
    = False,
    reason: Annotated[str | None, typer.Option(
        help="why a flawed plan is published anyway (recorded in the audit log)")] = None,
) -> None:
    """Publish a plan (retiring the current one) and relink everything to its grids.

    A plan with coverage gaps or overlaps (see `gridgis audit --plan NAME`) is refused
    unless forced with a reason."""
    import sqlalchemy as sa

    from gridgis.gis.access import audit
    from gridgis.gis.db import open_database
    from gridgis.gis.errors import NotFound
    from gridgis.gis.linking import LINKED_TABLES
    from gridgis.gis.services.blindspots import BlindSpotService, publish_blocker
    from gridgis.gis.services.plan_handover import publish_with_workers

    from .users import cli_actor

    with open_database() as db:
        problem = publish_blocker(BlindSpotService(db.engine, db.srid), name, force, reason)
    with open_database() as db, db.engine.begin() as conn, \
            progress(f"publishing {name}", total=len(LINKED_TABLES)) as steps:
        plan_id = conn.execute(sa.text("SELECT id FROM grid_plans WHERE name = :n"),
                               {"n": name}).scalar()
        if plan_id is None:
            raise NotFound(f"there is no grid plan named {name!r}")
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))  # a CLI job, unbounded
        changed, handover = publish_with_workers(conn, plan_id,
                                                 progress=lambda table: steps.advance())
        detail = f"{name}: {changed} entities changed grid; {handover.summary()}"
        if problem:
            detail += f"; forced despite {problem}; reason: {reason}"
        audit.record(conn, None, audit.Entry(
            "publish", "plans", record_ids=[plan_id], detail=detail), user_name=cli_actor())
    out.print(f"published {name}; {changed} entities changed grid; {handover.summary()}",
              highlight=False)


@app.command("draft")
def draft(
    name: Annotated[str, typer.Argument(help="the new draft's name")],
    source: Annotated[str | None, typer.Option(
        "--from", help="the plan to copy (default: the published one)")] = None,
) -> None:
    """Copy a plan into a new draft to edit while the published plan stays in force."""
    import sqlalchemy as sa

    from gridgis.gis.access import audit
    from gridgis.gis.db import open_database
    from gridgis.gis.drafts import draft_from, plan_id_by_name
    from gridgis.gis.errors import NotFound

    from .users import cli_actor

    with open_database() as db, db.engine.begin() as conn:
        if source is None:
            source_id = conn.execute(sa.text(
                "SELECT id FROM grid_plans WHERE state = 'published'")).scalar()
            if source_id is None:
                raise NotFound("no plan is published: name the plan to copy with --from")
        else:
            source_id = plan_id_by_name(conn, source)
        draft_id, grids = draft_from(conn, source_id, name)
        audit.record(conn, None, audit.Entry(
            "create", "plans", record_ids=[draft_id],
            detail=f"draft of plan {source_id}: {grids} grids copied"), user_name=cli_actor())
    out.print(f"draft {name} (id {draft_id}): {grids} grids copied")


@app.command("at")
def at(
    lon: Annotated[float, typer.Argument(help="WGS84 longitude")],
    lat: Annotated[float, typer.Argument(help="WGS84 latitude")],
    on: Annotated[str | None, typer.Option(
        "--date", help="ISO 8601 date or date-time (UTC unless it has an offset): the "
                       "plan published then (default: now)")] = None,
) -> None:
    """Which grid a location is in, now or on a date (answered from the history of
    publication, also for retired plans)."""
    from gridgis.gis import stats
    from gridgis.gis.db import open_database
    from gridgis.gis.times import parse_instant

    when = parse_instant(on, "--date")
    with open_database() as db, db.engine.connect() as conn:
        found = stats.grid_at(conn, db.srid, lon, lat, when)
    period = ""
    if when is not None:
        until = found["plan_valid_to"]
        period = (f" (published {found['plan_valid_from']:%Y-%m-%d %H:%M} – "
                  f"{'now' if until is None else f'{until:%Y-%m-%d %H:%M}'} UTC)")
    out.print(f"grid {found['code']} {found['name'] or ''} of plan {found['plan']}{period}; "
              f"community {found['community_code'] or '-'}, subdistrict "
              f"{found['subdistrict_code'] or '-'}", highlight=False)
