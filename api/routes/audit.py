"""The audit log, for administrators: as JSON (``/audit``) and as a page
(``/admin/audit``). Reading it is itself recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from gridgis.gis.access import audit
from gridgis.gis.access.principal import Principal
from gridgis.gis.i18n import Lang
from gridgis.maps.session import audit_page

from ..auth import allow
from ..deps import PagingDep, SettingsDep, StateDep, TimeRangeDep
from ..models.common import ERRORS, media
from ..routing import StrictQueryRoute

router = APIRouter(tags=["audit"], route_class=StrictQueryRoute, responses=ERRORS)
Admin = Annotated[Principal, Depends(allow("audit"))]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    user_name: str | None
    roles: list[str] | None
    client: str | None
    action: str
    route: str | None
    resource: str | None
    record_ids: list[int] | None
    person_ids: list[int] | None
    personal: str | None = Field(description="masked or unmasked: how personal fields "
                                 "were shown")
    purpose: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    numberMatched: int
    numberReturned: int


class AuditFilters:
    def __init__(self, time_range: TimeRangeDep,
                 user: Annotated[str | None, Query(max_length=64, description="user name")]
                 = None,
                 person: Annotated[int | None, Query(ge=1, le=2**63 - 1, description=(
                     "a person's id: entries that read or changed them"))] = None,
                 resource: Annotated[str | None, Query(max_length=64)] = None,
                 action: Annotated[str | None, Query(max_length=64, description=(
                     "read, create, update, delete, publish, assign, sign_in, ..."))] = None
                 ) -> None:
        self.values: dict[str, Any] = {
            "user": user or None, "person": person, "resource": resource or None,
            "action": action or None, "start": time_range.start, "end": time_range.end}


FiltersDep = Annotated[AuditFilters, Depends()]


def _search(state, who: Principal, filters: AuditFilters, limit: int, offset: int
            ) -> tuple[list[dict], int]:
    with state.database.engine.begin() as conn:
        rows, total = audit.search(conn, audit.AuditQuery(**filters.values, limit=limit,
                                                          offset=offset))
        audit.record(conn, who, audit.Entry("read", "audit", record_ids=[r["id"] for r in rows],
                                            detail="audit log searched"))
    return rows, total


@router.get("/audit", summary="Search the audit log", response_model=AuditPage,
            operation_id="search_audit",
            description="Newest first. Administrators only; the search is recorded too.")
def search_audit(who: Admin, state: StateDep, filters: FiltersDep,
                 paging: PagingDep) -> JSONResponse:
    rows, total = _search(state, who, filters, paging.limit, paging.offset)
    return JSONResponse({"items": jsonable_encoder(rows), "numberMatched": total,
                         "numberReturned": len(rows)})


@router.get("/admin/audit", summary="The audit log page", responses=media("text/html"),
            response_class=HTMLResponse, operation_id="audit_page")
def audit_log_page(who: Admin, state: StateDep, settings: SettingsDep, filters: FiltersDep,
                   paging: PagingDep,
                   lang: Annotated[Lang | None, Query(description="zh or en")] = None
                   ) -> HTMLResponse:
    rows, total = _search(state, who, filters, paging.limit, paging.offset)
    shown = {k: "" if v is None else (v.date().isoformat() if isinstance(v, datetime) else
                                      str(v)) for k, v in filters.values.items()}
    return HTMLResponse(audit_page(lang or settings.api.lang, rows, total, shown))
