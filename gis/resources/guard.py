"""Access control where the rows are read and written, so that no route can forget it:
which rows a user reaches (their scope: another grid's row is 404, not 403, and list
totals count only what they may see), which fields they see unmasked, which filters
and sort keys would reveal masked fields, which rows their role may change (planners:
draft plans only), and the audit entries of reads of personal data and of every write.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from ..access import audit
from ..access.masking import mask_row, personal_fields
from ..access.principal import Principal
from ..access.roles import LOCATED
from ..errors import Forbidden, NotFound
from .listing import ListQuery
from .specs import ResourceSpec

DRAFT_ONLY = ("plans", "grids")  # what a planner may change only while the plan is a draft


class Guard:
    def __init__(self, who: Principal, spec: ResourceSpec, table: sa.Table,
                 tables: dict[str, sa.Table]) -> None:
        self.who = who
        self.spec = spec
        self.table = table
        self.tables = tables
        self.unmasked = who.sees_personal(spec.name)

    # -- reading -------------------------------------------------------------------------

    def check_read(self) -> None:
        self.who.require("read", self.spec.name)
        self.who.check_purpose(self.spec.name)

    def visible(self) -> list[Any]:
        """The rows this user reaches: those in their scope's grids."""
        if not self.who.scoped or self.spec.name not in LOCATED:
            return []
        ids = sorted(self.who.grid_ids or ())
        return [self.table.c.grid_id == sa.any_(
            sa.bindparam("scope_grids", ids, type_=ARRAY(sa.BigInteger)))]

    def check_query(self, q: ListQuery) -> None:
        """Filtering or sorting by a masked field would reveal it: refused."""
        if self.unmasked:
            return
        personal = set(personal_fields(self.spec.name))
        for name in q.filters:
            declared = self.spec.filter(name)
            column = "special" if declared and declared.type == "special" else (
                declared.column if declared else name)
            if column == "special" or column in personal:
                raise Forbidden(f"filtering {self.spec.name} by {name} would reveal personal "
                                "fields your roles may not see", field=name)
        for key in q.sort:
            if key.lstrip("+-") in personal:
                raise Forbidden(f"sorting {self.spec.name} by {key.lstrip('+-')} would "
                                "reveal personal fields your roles may not see", field="sort")

    def out(self, row: dict[str, Any]) -> dict[str, Any]:
        return row if self.unmasked else mask_row(self.spec.name, row)

    def audit_read(self, conn: sa.Connection, ids: list[int]) -> None:
        if ids and self.who.audited_read(self.spec.name):
            audit.record(conn, self.who, audit.read_entry(self.spec.name, self.who, ids))

    # -- writing -------------------------------------------------------------------------

    def check_write(self) -> None:
        self.who.require("write", self.spec.name)

    def _draft_only(self) -> list[Any]:
        if "admin" in self.who.roles or self.spec.name not in DRAFT_ONLY:
            return []
        if self.spec.name == "plans":
            return [self.table.c.state == "draft"]
        plans = self.tables["grid_plans"]
        return [self.table.c.plan_id.in_(sa.select(plans.c.id).where(plans.c.state == "draft"))]

    def check_row(self, conn: sa.Connection, row_id: int, *, after: bool = False) -> None:
        """The row is one this user may change: in their scope (404 otherwise, unless it
        was just written there, 403) and, for a planner, in a draft plan (403)."""
        t = self.table
        scope, draft = self.visible(), self._draft_only()
        if not scope and not draft:
            return
        found = conn.execute(sa.select(
            sa.and_(*scope) if scope else sa.true(),
            sa.and_(*draft) if draft else sa.true()).where(t.c.id == row_id)).first()
        if found is None:
            raise NotFound(f"no {self.spec.name} row with id {row_id}")
        in_scope, in_draft = found
        if not in_scope:
            if after:
                raise Forbidden(f"the {self.spec.name[:-1]} would lie outside your grids "
                                f"({', '.join(self.who.scope) or 'none'})", field="geometry")
            raise NotFound(f"no {self.spec.name} row with id {row_id}")
        if not in_draft:
            raise Forbidden("planners change draft plans and their grids only; this one is "
                            "published or retired", resource=self.spec.name)

    def audit_write(self, conn: sa.Connection, action: str, row_id: int,
                    before: dict | None, after: dict | None) -> None:
        person = [row_id] if self.spec.name == "people" else []
        audit.record(conn, self.who, audit.Entry(
            action, self.spec.name, record_ids=[row_id], person_ids=person,
            personal="unmasked" if self.spec.name in ("people", "workers") else None,
            before=_for_audit(before), after=_for_audit(after)))


def _for_audit(row: dict | None) -> dict | None:
    if row is None:
        return None
    out = {k: v for k, v in row.items() if k != "_geometry"}
    if row.get("_geometry") is not None:
        out["geometry"] = row["_geometry"]
    return out
