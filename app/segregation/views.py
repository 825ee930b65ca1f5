"""Seclusion and segregation forms (the board's panel), and the admission page's section.

Forms open in the board's panel (htmx) or as a page of their own (no JavaScript); a
success refreshes the board, or goes to the episode's page; a refusal shows the form
again with each error beside its field and nothing saved. Each form has its own GET and
POST route. Each episode's own page is in episode_views.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import reads
from app.auth import access
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.forms import Errors, errors_from, form_dict, validate
from app.segregation import board, codes, read, schemas, service
from app.segregation.force import service as force
from app.segregation.forms import (
    END_SECLUSION,
    END_SEGREGATION,
    NOTIFICATIONS,
    OBSERVATION,
    SECLUSION_REVIEW,
    SEGREGATION_REVIEW,
    START_SECLUSION,
    START_SEGREGATION,
    Form,
)
from app.wards import admissions
from app.wards.models import Admission
from app.web import input_datetime, is_htmx, page_or_fragment, render, templates

router = APIRouter()

templates.env.globals.update(
    SECLUSION_REVIEW_KINDS=codes.SECLUSION_REVIEW_KINDS,
    SEGREGATION_REVIEW_KINDS=codes.SEGREGATION_REVIEW_KINDS,
    AUTHORISED_BY_ROLES=codes.AUTHORISED_BY_ROLES,
    DUE_LABELS=codes.DUE_LABELS,
)
BOARD_CHANGED = {"HX-Trigger": "board-changed"}
Write = Callable[[], Awaitable[str]]  # does the write; returns the page to go to


async def _admission(
    session: AsyncSession, user: User, admission_id: int, doing: str, now: datetime
) -> Admission:
    access.require_role(user, access.CLINICAL_WRITERS, doing)
    return await admissions.get_admission(session, actor=user, admission_id=admission_id, now=now)


def _show(
    request: Request,
    form: Form,
    action: str,
    admission: Admission,
    values: dict[str, Any],
    errors: Errors | None = None,
    *,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "form": form,
        "action": action,
        "admission": admission,
        "stay": admissions.current_stay(admission),
        "values": values,
        "errors": errors or {},
        "problem": problem,
        "active": "wards",
    }
    return page_or_fragment(
        request, "segregation/form.html", "segregation/_form.html", context, status_code=status
    )


async def _save(
    request: Request,
    session: AsyncSession,
    form: Form,
    action: str,
    admission: Admission,
    values: dict[str, Any],
    errors: Errors,
    write: Write | None,
    message: str,
) -> Response:
    """Run the write in a savepoint; show the form again if it is refused."""
    problem = None
    if write is not None and not errors:
        try:
            async with session.begin_nested():
                url = await write()
            await commit(session)
            if is_htmx(request):
                return render(
                    request, "wards/_done.html", {"message": message}, headers=BOARD_CHANGED
                )
            return RedirectResponse(url, status_code=303)
        except Invalid as exc:
            errors.update(errors_from(exc))
        except (Conflict, NotFound) as exc:
            problem = exc.detail
    status = 409 if problem else 422
    return _show(request, form, action, admission, values, errors, problem=problem, status=status)


def _now_values(now: datetime, *names: str, **extra: str) -> dict[str, Any]:
    return {**dict.fromkeys(names, input_datetime(now)), **extra}


async def _submitted(request: Request, form: Form) -> tuple[dict[str, Any], Errors, dict[str, Any]]:
    """What was sent (to show again), the errors so far, and the values parsed for the API."""
    values = form_dict(await request.form())
    errors: Errors = {}
    return values, errors, form.parse(values, errors)


# --- starting an episode ----------------------------------------------------------------


async def _start_form(
    request: Request,
    session: AsyncSession,
    user: User,
    admission_id: int,
    now: datetime,
    *,
    form: Form,
    kind: str,
    doing: str,
) -> HTMLResponse:
    admission = await _admission(session, user, admission_id, doing, now)
    action = f"/admissions/{admission_id}/{kind}/new"
    page = _show(request, form, action, admission, _now_values(now, "started_at"))
    await reads.record_form_read(session, request, actor=user, admission=admission, now=now)
    return page


@router.get("/admissions/{admission_id}/seclusions/new", response_class=HTMLResponse)
async def seclusion_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _start_form(
        request,
        session,
        user,
        admission_id,
        now,
        form=START_SECLUSION,
        kind="seclusions",
        doing="start seclusion",
    )


@router.post("/admissions/{admission_id}/seclusions/new", response_class=HTMLResponse)
async def start_seclusion(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission = await _admission(session, user, admission_id, "start seclusion", now)
    values, errors, parsed = await _submitted(request, START_SECLUSION)
    data = validate(schemas.SeclusionIn, parsed, errors)

    async def write() -> str:
        assert data is not None
        seclusion = await service.start_seclusion(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )
        return f"/seclusions/{seclusion.id}"

    return await _save(
        request,
        session,
        START_SECLUSION,
        f"/admissions/{admission_id}/seclusions/new",
        admission,
        values,
        errors,
        write if data else None,
        f"Seclusion of {admission.patient.display_name} started.",
    )


@router.get("/admissions/{admission_id}/segregations/new", response_class=HTMLResponse)
async def segregation_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _start_form(
        request,
        session,
        user,
        admission_id,
        now,
        form=START_SEGREGATION,
        kind="segregations",
        doing="start segregation",
    )


@router.post("/admissions/{admission_id}/segregations/new", response_class=HTMLResponse)
async def start_segregation(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission = await _admission(session, user, admission_id, "start segregation", now)
    values, errors, parsed = await _submitted(request, START_SEGREGATION)
    data = validate(schemas.SegregationIn, parsed, errors)

    async def write() -> str:
        assert data is not None
        segregation = await service.start_segregation(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )
        return f"/segregations/{segregation.id}"

    return await _save(
        request,
        session,
        START_SEGREGATION,
        f"/admissions/{admission_id}/segregations/new",
        admission,
        values,
        errors,
        write if data else None,
        f"Long-term segregation of {admission.patient.display_name} started.",
    )


# --- seclusion: review, observation, end ------------------------------------------------


async def _seclusion_admission(
    session: AsyncSession, user: User, seclusion_id: int, doing: str, now: datetime
) -> Admission:
    seclusion = await service.get_seclusion(session, actor=user, seclusion_id=seclusion_id, now=now)
    return await _admission(session, user, seclusion.admission_id, doing, now)


async def _next_review_kind(
    session: AsyncSession, seclusion_id: int, user: User, now: datetime
) -> str:
    """Offer the review that is due next, so recording it is one click."""
    seclusion = await service.get_seclusion(session, actor=user, seclusion_id=seclusion_id, now=now)
    out = await read.seclusion_out(session, seclusion, now)
    due = {k: v for k, v in out.next_due.items() if v is not None and k != "observation"}
    return min(due, key=lambda k: due[k]) if due else "nursing"


async def _seclusion_form(
    request: Request,
    session: AsyncSession,
    user: User,
    seclusion_id: int,
    now: datetime,
    *,
    form: Form,
    step: str,
    doing: str,
) -> HTMLResponse:
    admission = await _seclusion_admission(session, user, seclusion_id, doing, now)
    values = _now_values(now, "at")
    if step == "review":
        values["kind"] = await _next_review_kind(session, seclusion_id, user, now)
    page = _show(request, form, f"/seclusions/{seclusion_id}/{step}", admission, values)
    await reads.record_form_read(
        session, request, actor=user, admission=admission, now=now, record_id=seclusion_id
    )
    return page


@router.get("/seclusions/{seclusion_id}/review", response_class=HTMLResponse)
async def seclusion_review_form(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _seclusion_form(
        request,
        session,
        user,
        seclusion_id,
        now,
        form=SECLUSION_REVIEW,
        step="review",
        doing="review seclusion",
    )


@router.post("/seclusions/{seclusion_id}/review", response_class=HTMLResponse)
async def seclusion_review(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission = await _seclusion_admission(session, user, seclusion_id, "review seclusion", now)
    values, errors, parsed = await _submitted(request, SECLUSION_REVIEW)
    review = validate(schemas.SeclusionReviewIn, parsed, errors)
    url = f"/seclusions/{seclusion_id}"

    async def write() -> str:
        assert review is not None
        await service.add_seclusion_review(
            session, actor=user, seclusion_id=seclusion_id, data=review, now=now
        )
        return url

    return await _save(
        request,
        session,
        SECLUSION_REVIEW,
        f"{url}/review",
        admission,
        values,
        errors,
        write if review else None,
        f"Review of {admission.patient.display_name}'s seclusion recorded.",
    )


@router.get("/seclusions/{seclusion_id}/observation", response_class=HTMLResponse)
async def observation_form(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _seclusion_form(
        request,
        session,
        user,
        seclusion_id,
        now,
        form=OBSERVATION,
        step="observation",
        doing="observe seclusion",
    )


@router.post("/seclusions/{seclusion_id}/observation", response_class=HTMLResponse)
async def observation(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission = await _seclusion_admission(session, user, seclusion_id, "observe seclusion", now)
    values, errors, parsed = await _submitted(request, OBSERVATION)
    data = validate(schemas.ObservationIn, parsed, errors)
    url = f"/seclusions/{seclusion_id}"

    async def write() -> str:
        assert data is not None
        await service.add_observation(
            session, actor=user, seclusion_id=seclusion_id, data=data, now=now
        )
        return url

    return await _save(
        request,
        session,
        OBSERVATION,
        f"{url}/observation",
        admission,
        values,
        errors,
        write if data else None,
        f"Observation of {admission.patient.display_name} recorded.",
    )


@router.get("/seclusions/{seclusion_id}/end", response_class=HTMLResponse)
async def end_seclusion_form(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _seclusion_form(
        request,
        session,
        user,
        seclusion_id,
        now,
        form=END_SECLUSION,
        step="end",
        doing="end seclusion",
    )


@router.post("/seclusions/{seclusion_id}/end", response_class=HTMLResponse)
async def end_seclusion(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    """End seclusion, or end it and start segregation at the same moment (one action)."""
    admission = await _seclusion_admission(session, user, seclusion_id, "end seclusion", now)
    values, errors, parsed = await _submitted(request, END_SECLUSION)
    name = admission.patient.display_name
    write: Write | None
    if parsed["to_segregation"]:
        write = _to_segregation(session, user, seclusion_id, parsed, errors, now)
        message = f"Seclusion of {name} ended; segregation started."
    else:
        end = validate(schemas.EndIn, {"at": parsed["at"], "note": parsed["note"]}, errors)

        async def write_end() -> str:
            assert end is not None
            await service.end_seclusion(
                session, actor=user, seclusion_id=seclusion_id, data=end, now=now
            )
            return f"/seclusions/{seclusion_id}"

        write, message = (write_end if end else None), f"Seclusion of {name} ended."
    return await _save(
        request,
        session,
        END_SECLUSION,
        f"/seclusions/{seclusion_id}/end",
        admission,
        values,
        errors,
        write,
        message,
    )


def _to_segregation(
    session: AsyncSession,
    user: User,
    seclusion_id: int,
    parsed: dict[str, Any],
    errors: Errors,
    now: datetime,
) -> Write | None:
    """The write that ends seclusion and starts segregation at the same moment."""
    if not (parsed.get("segregation_reason") or "").strip():
        errors["segregation_reason"] = "Enter the reason for long-term segregation"
    move = validate(
        schemas.SeclusionToSegregationIn,
        {"at": parsed["at"], "note": parsed["note"], "reason": parsed["segregation_reason"]},
        errors,
    )

    async def write_move() -> str:
        assert move is not None
        try:
            segregation = await service.seclusion_to_segregation(
                session, actor=user, seclusion_id=seclusion_id, data=move, now=now
            )
        except Invalid as exc:
            # The segregation's reason is a field of its own on this form.
            raise Invalid(
                [
                    FieldError("segregation_reason" if e.field == "reason" else e.field, e.message)
                    for e in exc.errors
                ]
            ) from exc
        return f"/segregations/{segregation.id}"

    return write_move if move else None


# --- segregation: review, notifications, end --------------------------------------------


async def _segregation_admission(
    session: AsyncSession, user: User, segregation_id: int, doing: str, now: datetime
) -> tuple[Admission, dict[str, Any]]:
    """The admission (when this person may do this), and the notification times recorded."""
    segregation = await service.get_segregation(
        session, actor=user, segregation_id=segregation_id, now=now
    )
    admission = await _admission(session, user, segregation.admission_id, doing, now)
    recorded = {
        "commissioner_informed_at": input_datetime(segregation.commissioner_informed_at),
        "imha_informed_at": input_datetime(segregation.imha_informed_at),
    }
    return admission, recorded


async def _segregation_form(
    request: Request,
    session: AsyncSession,
    user: User,
    segregation_id: int,
    now: datetime,
    *,
    form: Form,
    step: str,
    doing: str,
) -> HTMLResponse:
    admission, recorded = await _segregation_admission(session, user, segregation_id, doing, now)
    values = (
        recorded if step == "notifications" else _now_values(now, "at", kind="approved_clinician")
    )
    page = _show(request, form, f"/segregations/{segregation_id}/{step}", admission, values)
    await reads.record_form_read(
        session, request, actor=user, admission=admission, now=now, record_id=segregation_id
    )
    return page


@router.get("/segregations/{segregation_id}/review", response_class=HTMLResponse)
async def segregation_review_form(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _segregation_form(
        request,
        session,
        user,
        segregation_id,
        now,
        form=SEGREGATION_REVIEW,
        step="review",
        doing="review segregation",
    )


@router.post("/segregations/{segregation_id}/review", response_class=HTMLResponse)
async def segregation_review(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission, _ = await _segregation_admission(
        session, user, segregation_id, "review segregation", now
    )
    values, errors, parsed = await _submitted(request, SEGREGATION_REVIEW)
    data = validate(schemas.SegregationReviewIn, parsed, errors)
    url = f"/segregations/{segregation_id}"

    async def write() -> str:
        assert data is not None
        await service.add_segregation_review(
            session, actor=user, segregation_id=segregation_id, data=data, now=now
        )
        return url

    return await _save(
        request,
        session,
        SEGREGATION_REVIEW,
        f"{url}/review",
        admission,
        values,
        errors,
        write if data else None,
        f"Review of {admission.patient.display_name}'s segregation recorded.",
    )


@router.get("/segregations/{segregation_id}/notifications", response_class=HTMLResponse)
async def notifications_form(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _segregation_form(
        request,
        session,
        user,
        segregation_id,
        now,
        form=NOTIFICATIONS,
        step="notifications",
        doing="record segregation notifications",
    )


@router.post("/segregations/{segregation_id}/notifications", response_class=HTMLResponse)
async def notifications(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission, _ = await _segregation_admission(
        session, user, segregation_id, "record segregation notifications", now
    )
    values, errors, parsed = await _submitted(request, NOTIFICATIONS)
    # A blank time leaves what is recorded alone: clearing one is not this form's job.
    parsed = {k: v for k, v in parsed.items() if v is not None}
    if not parsed and not errors:
        errors["commissioner_informed_at"] = "Enter when the commissioner or IMHA was informed"
    data = validate(schemas.SegregationPatch, parsed, errors)
    url = f"/segregations/{segregation_id}"

    async def write() -> str:
        assert data is not None
        await service.update_segregation(
            session, actor=user, segregation_id=segregation_id, data=data, now=now
        )
        return url

    return await _save(
        request,
        session,
        NOTIFICATIONS,
        f"{url}/notifications",
        admission,
        values,
        errors,
        write if data else None,
        "Notifications recorded.",
    )


@router.get("/segregations/{segregation_id}/end", response_class=HTMLResponse)
async def end_segregation_form(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _segregation_form(
        request,
        session,
        user,
        segregation_id,
        now,
        form=END_SEGREGATION,
        step="end",
        doing="end segregation",
    )


@router.post("/segregations/{segregation_id}/end", response_class=HTMLResponse)
async def end_segregation(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission, _ = await _segregation_admission(
        session, user, segregation_id, "end segregation", now
    )
    values, errors, parsed = await _submitted(request, END_SEGREGATION)
    data = validate(schemas.EndIn, parsed, errors)
    url = f"/segregations/{segregation_id}"

    async def write() -> str:
        assert data is not None
        await service.end_segregation(
            session, actor=user, segregation_id=segregation_id, data=data, now=now
        )
        return url

    return await _save(
        request,
        session,
        END_SEGREGATION,
        f"{url}/end",
        admission,
        values,
        errors,
        write if data else None,
        f"Segregation of {admission.patient.display_name} ended.",
    )


# --- the admission page's section, and the wiring ---------------------------------------


async def admission_section(
    session: AsyncSession, admission: Admission, now: datetime, reader: User
) -> tuple[str, dict[str, object]]:
    """The admission page's restrictive practice section: every episode and use of force
    the reader may see (those on stays app/auth/scope.py lets them read)."""
    from app.auth import scope

    seen = scope.admission_seen(reader, admission, now).shows
    episodes = (await board.list_episodes(session, [admission.id])).get(admission.id, [])
    interventions = await force.interventions_for_admission(session, admission.id)
    return "segregation/_admission_section.html", {
        "episodes": sorted(
            (e for e in episodes if e.kind != "use_of_force" and seen(e.started_at)),
            key=lambda e: e.started_at,
        ),
        "interventions": [r for r in interventions if seen(r.started_at)],
        "admission_id": admission.id,
        "now": now,
    }
