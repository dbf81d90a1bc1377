"""The audit log: who read or changed what, when and from where, in the same
transaction as what it records (so a write and its record commit together). Reads of
personal data name the people read and the stated purpose; writes keep the row before
and after. The log is append-only (see migration 0007)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from .principal import Principal

Personal = Literal["masked", "unmasked"] | None
INSERT = sa.text("""
    INSERT INTO audit_log (user_name, roles, client, action, route, resource, record_ids,
                           person_ids, personal, purpose, before, after, detail)
    VALUES (:user, :roles, :client, :action, :route, :resource, :records, :people,
            :personal, :purpose, CAST(:before AS jsonb), CAST(:after AS jsonb), :detail)""")


@dataclass
class Entry:
    action: str  # read, create, update, delete, publish, assign, sign_in, ...
    resource: str | None = None
    record_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    personal: Personal = None
    before: dict | None = None
    after: dict | None = None
    detail: str | None = None


def record(conn: sa.Connection, who: Principal | None, entry: Entry,
           user_name: str | None = None) -> None:
    """Append one entry. ``user_name`` names the actor when there is no principal (a
    failed sign-in, a command)."""
    conn.execute(INSERT, {
        "user": who.name if who is not None and who.signed_in else user_name,
        "roles": sorted(who.roles) if who is not None else None,
        "client": who.client if who is not None else None,
        "action": entry.action,
        "route": who.route if who is not None else None,
        "resource": entry.resource,
        "records": entry.record_ids or None,
        "people": entry.person_ids or None,
        "personal": entry.personal,
        "purpose": who.purpose if who is not None and entry.personal else None,
        "before": _json(entry.before),
        "after": _json(entry.after),
        "detail": entry.detail,
    })


def _json(row: dict | None) -> str | None:
    if row is None:
        return None
    return json.dumps({k: v for k, v in row.items() if not k.startswith("_")},
                      default=str, ensure_ascii=False)


def read_entry(resource: str, who: Principal, ids: Iterable[int]) -> Entry:
    ids = list(ids)
    return Entry("read", resource, record_ids=ids,
                 person_ids=ids if resource == "people" else [],
                 personal="unmasked" if who.sees_personal(resource) else "masked")


@dataclass(frozen=True)
class AuditQuery:
    user: str | None = None
    person: int | None = None
    resource: str | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 100
    offset: int = 0


AUDIT_LOG = sa.table("audit_log", *(sa.column(c) for c in (
    "id", "at", "user_name", "roles", "client", "action", "route", "resource", "record_ids",
    "person_ids", "personal", "purpose", "before", "after", "detail")))


def search(conn: sa.Connection, q: AuditQuery) -> tuple[list[dict[str, Any]], int]:
    """Entries matching the query, newest first, and how many match in all."""
    c = AUDIT_LOG.c
    where = []
    if q.user is not None:
        where.append(c.user_name == q.user)
    if q.person is not None:
        where.append(c.person_ids.op("@>")(sa.literal([q.person], ARRAY(sa.BigInteger))))
    if q.resource is not None:
        where.append(c.resource == q.resource)
    if q.action is not None:
        where.append(c.action == q.action)
    if q.start is not None:
        where.append(c.at >= q.start)
    if q.end is not None:
        where.append(c.at < q.end)
    total = conn.execute(sa.select(sa.func.count()).select_from(AUDIT_LOG)
                         .where(*where)).scalar_one()
    rows = conn.execute(sa.select(AUDIT_LOG).where(*where)
                        .order_by(c.at.desc(), c.id.desc()).limit(q.limit).offset(q.offset))
    return [dict(r._mapping) for r in rows], int(total)
