"""Exports in the audit log (issue 17, finding 9): every MHSDS extract and every weekly
report downloaded as CSV or PDF, by the service or the command line, with who, what
(the month, or the week, scope and format) and from where.

One insert through `record_event`, committed with the request; no hash-chain wait.
"""

from __future__ import annotations

import getpass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_event
from app.auth.models import User

ACTION = "export"


def client_address(request: Request) -> str | None:
    """The client's address as uvicorn gives it: from X-Forwarded-For only when the
    proxy is trusted (forwarded_allow_ips), otherwise the connection's own."""
    return request.client.host if request.client else None


async def record_export(
    session: AsyncSession,
    *,
    kind: str,
    ident: str,
    details: dict[str, Any],
    actor: User | None = None,
    request: Request | None = None,
) -> None:
    """`kind` is the entity type (mhsds_extract, weekly_report, report_snapshot), `ident`
    its id (the month, the week ending, the snapshot's id)."""
    if request is not None:
        where = {"via": "web", "client": client_address(request)}
        username = None
    else:  # the command line: the operating system's user, on the server itself
        where = {"via": "cli", "client": "localhost"}
        username = f"cli:{_os_user()}"
    await record_event(
        session,
        actor=actor,
        action=ACTION,
        entity_type=kind,
        entity_id=ident,
        details={**details, **where},
        username=username,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"
