"""``gridgis audit-log``: search the audit log, newest first. The search is itself
recorded, as the API's is."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from .console import err, out

SHOWN_IDS = 5  # ids shown per entry in the table
MAX_LIMIT = 100_000


def _ids(values: list[int] | None) -> str:
    if not values:
        return ""
    shown = ", ".join(map(str, values[:SHOWN_IDS]))
    return shown + (f" +{len(values) - SHOWN_IDS}" if len(values) > SHOWN_IDS else "")


def register(root: typer.Typer) -> None:
    @root.command("audit-log")
    def audit_log(
        user: Annotated[str | None, typer.Option(
            help="entries of this user (a command's user is cli:OS-USER)")] = None,
        person: Annotated[int | None, typer.Option(
            min=1, help="entries that read or changed this person (their id)")] = None,
        resource: Annotated[str | None, typer.Option(
            help="people, incidents, users, audit, ...")] = None,
        action: Annotated[str | None, typer.Option(
            help="read, create, update, delete, publish, export, sign_in, user_added, ...")]
        = None,
        since: Annotated[str | None, typer.Option(
            help="ISO 8601 date or date-time, inclusive (UTC unless it has an offset)")]
        = None,
        until: Annotated[str | None, typer.Option(
            help="ISO 8601 date or date-time, exclusive (UTC unless it has an offset)")]
        = None,
        limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT,
                                           help="entries shown at most")] = 50,
        json_lines: Annotated[bool, typer.Option(
            "--json", help="one JSON object per entry, every field")] = False,
    ) -> None:
        """Search the audit log: who read or changed what, when, from where and why."""
        from gridgis.gis.access import audit
        from gridgis.gis.db import open_database
        from gridgis.gis.errors import InvalidInput
        from gridgis.gis.times import parse_instant

        from .users import cli_actor

        start = parse_instant(since, "--since")
        end = parse_instant(until, "--until")
        if start and end and end <= start:
            raise InvalidInput("--until must be after --since", field="--until")
        query = audit.AuditQuery(user=user, person=person, resource=resource, action=action,
                                 start=start, end=end, limit=limit)
        with open_database() as db, db.engine.begin() as conn:
            rows, total = audit.search(conn, query)
            audit.record(conn, None, audit.Entry(
                "read", "audit", record_ids=[r["id"] for r in rows],
                detail="audit log searched"), user_name=cli_actor())
        if json_lines:
            _print_json(rows)
        else:
            _print_table(rows)
        err.print(f"{len(rows)} of {total} entries" + (", newest first" if rows else ""),
                  highlight=False)


def _print_json(rows: list[dict[str, Any]]) -> None:
    import json

    for row in rows:
        print(json.dumps(row, default=lambda v: v.isoformat() if hasattr(v, "isoformat")
                         else str(v), ensure_ascii=False))


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table("when (UTC)", "user", "client", "action", "route", "resource", "records",
                  "persons", "personal", "purpose")
    for r in rows:
        table.add_row(f"{r['at']:%Y-%m-%d %H:%M:%S}", escape(r["user_name"] or ""),
                      escape(r["client"] or ""), escape(r["action"]),
                      escape(r["route"] or ""), escape(r["resource"] or ""),
                      _ids(r["record_ids"]), _ids(r["person_ids"]), r["personal"] or "",
                      escape(r["purpose"] or ""))
    out.print(table)
