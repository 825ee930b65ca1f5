"""The audit log page: admins list and filter every write, and every read of a person's
record (``?person=ID``: who looked at this person, when, from where)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.audit import service
from app.auth import access
from app.deps import PageUser, SessionDep
from app.web import render

router = APIRouter()
PAGE_SIZE = 50


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    user: PageUser,
    session: SessionDep,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    username: str | None = None,
    person: str | None = None,
    page: int = 1,
) -> HTMLResponse:
    access.require_admin(user, "read the audit log")
    page = max(page, 1)
    if person:
        # "Who looked at this person": every read and change entered under them.
        entity_type, entity_id = "patients", person
    entries, total = await service.list_entries(
        session,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        action=action or None,
        username=username or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "audit/index.html",
        {
            "entries": entries,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": {
                "entity_type": entity_type or "",
                "entity_id": entity_id or "",
                "action": action or "",
                "username": username or "",
            },
            "choices": await service.distinct_values(session),
            "active": "audit",
        },
    )
