"""Seclusion and segregation pages: the board's panel forms and each episode's own page.

Forms open in the board's panel (htmx) or as a page of their own (no JavaScript); a
success refreshes the board, or goes to the episode's page; a refusal shows the form
again with each error beside its field and nothing saved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import access
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.forms import Errors, errors_from, form_dict, validate
from app.schemas import In
from app.segregation import codes, readout, schemas, service
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
from app.segregation.models import Seclusion, Segregation
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
Write = Callable[[], Awaitable[Any]]


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


# --- starting an episode: one handler for both kinds --------------------------------------


@dataclass(frozen=True)
class Start:
    form: Form
    schema: type[In]
    start: Callable[..., Awaitable[Seclusion | Segregation]]
    doing: str
    message: str


STARTS = {
    "seclusions": Start(
        START_SECLUSION,
        schemas.SeclusionIn,
        service.start_seclusion,
        "start seclusion",
        "Seclusion of {name} started.",
    ),
    "segregations": Start(
        START_SEGREGATION,
        schemas.SegregationIn,
        service.start_segregation,
        "start segregation",
        "Long-term segregation of {name} started.",
    ),
}


async def _start_form(
    kind: str, admission_id: int, request: Request, user: User, session: AsyncSession, now: datetime
) -> HTMLResponse:
    spec = STARTS[kind]
    admission = await _admission(session, user, admission_id, spec.doing, now)
    action = f"/admissions/{admission_id}/{kind}/new"
    return _show(request, spec.form, action, admission, _now_values(now, "started_at"))


async def _start(
    kind: str, admission_id: int, request: Request, user: User, session: AsyncSession, now: datetime
) -> Response:
    spec = STARTS[kind]
    admission = await _admission(session, user, admission_id, spec.doing, now)
    values = form_dict(await request.form())
    errors: Errors = {}
    data = validate(spec.schema, spec.form.parse(values, errors), errors)

    async def write() -> str:
        episode = await spec.start(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )
        return f"/{kind}/{episode.id}"

    return await _save(
        request,
        session,
        spec.form,
        f"/admissions/{admission_id}/{kind}/new",
        admission,
        values,
        errors,
        write if data else None,
        spec.message.format(name=admission.patient.display_name),
    )


@router.get("/admissions/{admission_id}/seclusions/new", response_class=HTMLResponse)
async def seclusion_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _start_form("seclusions", admission_id, request, user, session, now)


@router.post("/admissions/{admission_id}/seclusions/new", response_class=HTMLResponse)
async def start_seclusion(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    return await _start("seclusions", admission_id, request, user, session, now)


@router.get("/admissions/{admission_id}/segregations/new", response_class=HTMLResponse)
async def segregation_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _start_form("segregations", admission_id, request, user, session, now)


@router.post("/admissions/{admission_id}/segregations/new", response_class=HTMLResponse)
async def start_segregation(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    return await _start("segregations", admission_id, request, user, session, now)


# --- seclusion --------------------------------------------------------------------------


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
    out = await readout.seclusion_out(session, seclusion, now)
    due = {k: v for k, v in out.next_due.items() if v is not None and k != "observation"}
    return min(due, key=lambda k: due[k]) if due else "nursing"


EPISODE_FORMS: dict[str, tuple[Form, str]] = {
    "review": (SECLUSION_REVIEW, "review seclusion"),
    "observation": (OBSERVATION, "observe seclusion"),
    "end": (END_SECLUSION, "end seclusion"),
}


@router.get("/seclusions/{seclusion_id}/{step}", response_class=HTMLResponse)
async def seclusion_step_form(
    seclusion_id: int,
    step: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
) -> HTMLResponse:
    if step not in EPISODE_FORMS:
        raise NotFound("No such page.")
    form, doing = EPISODE_FORMS[step]
    admission = await _seclusion_admission(session, user, seclusion_id, doing, now)
    values = _now_values(now, "at")
    if step == "review":
        values["kind"] = await _next_review_kind(session, seclusion_id, user, now)
    return _show(request, form, f"/seclusions/{seclusion_id}/{step}", admission, values)


@router.post("/seclusions/{seclusion_id}/{step}", response_class=HTMLResponse)
async def seclusion_step(
    seclusion_id: int,
    step: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
) -> Response:
    if step not in EPISODE_FORMS:
        raise NotFound("No such page.")
    form, doing = EPISODE_FORMS[step]
    admission = await _seclusion_admission(session, user, seclusion_id, doing, now)
    values = form_dict(await request.form())
    errors: Errors = {}
    parsed = form.parse(values, errors)
    url = f"/seclusions/{seclusion_id}"
    name = admission.patient.display_name
    write: Write | None = None
    if step == "review":
        review = validate(schemas.SeclusionReviewIn, parsed, errors)
        message = f"Review of {name}'s seclusion recorded."

        async def write_review() -> str:
            assert review is not None
            await service.add_seclusion_review(
                session, actor=user, seclusion_id=seclusion_id, data=review, now=now
            )
            return url

        write = write_review if review else None
    elif step == "observation":
        observation = validate(schemas.ObservationIn, parsed, errors)
        message = f"Observation of {name} recorded."

        async def write_observation() -> str:
            assert observation is not None
            await service.add_observation(
                session, actor=user, seclusion_id=seclusion_id, data=observation, now=now
            )
            return url

        write = write_observation if observation else None
    else:
        write, message = _end_seclusion(session, user, seclusion_id, parsed, errors, now, name)
    return await _save(
        request, session, form, f"{url}/{step}", admission, values, errors, write, message
    )


def _end_seclusion(
    session: AsyncSession,
    user: User,
    seclusion_id: int,
    parsed: dict[str, Any],
    errors: Errors,
    now: datetime,
    name: str,
) -> tuple[Write | None, str]:
    """End seclusion, or end it and start segregation at the same moment (one action)."""
    if not parsed["to_segregation"]:
        end = validate(schemas.EndIn, {"at": parsed["at"], "note": parsed["note"]}, errors)

        async def write_end() -> str:
            assert end is not None
            await service.end_seclusion(
                session, actor=user, seclusion_id=seclusion_id, data=end, now=now
            )
            return f"/seclusions/{seclusion_id}"

        return (write_end if end else None), f"Seclusion of {name} ended."
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

    return (write_move if move else None), f"Seclusion of {name} ended; segregation started."


# --- segregation ------------------------------------------------------------------------


SEGREGATION_FORMS: dict[str, tuple[Form, str]] = {
    "review": (SEGREGATION_REVIEW, "review segregation"),
    "notifications": (NOTIFICATIONS, "record segregation notifications"),
    "end": (END_SEGREGATION, "end segregation"),
}


SEGREGATION_SCHEMAS: dict[str, type[In]] = {
    "review": schemas.SegregationReviewIn,
    "notifications": schemas.SegregationPatch,
    "end": schemas.EndIn,
}


async def _segregation_admission(
    session: AsyncSession, user: User, segregation_id: int, step: str, now: datetime
) -> tuple[Form, Admission, dict[str, Any]]:
    if step not in SEGREGATION_FORMS:
        raise NotFound("No such page.")
    form, doing = SEGREGATION_FORMS[step]
    segregation = await service.get_segregation(
        session, actor=user, segregation_id=segregation_id, now=now
    )
    admission = await _admission(session, user, segregation.admission_id, doing, now)
    recorded = {
        "commissioner_informed_at": input_datetime(segregation.commissioner_informed_at),
        "imha_informed_at": input_datetime(segregation.imha_informed_at),
    }
    return form, admission, recorded


@router.get("/segregations/{segregation_id}/{step}", response_class=HTMLResponse)
async def segregation_step_form(
    segregation_id: int,
    step: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
) -> HTMLResponse:
    form, admission, recorded = await _segregation_admission(
        session, user, segregation_id, step, now
    )
    values = (
        recorded if step == "notifications" else _now_values(now, "at", kind="approved_clinician")
    )
    return _show(request, form, f"/segregations/{segregation_id}/{step}", admission, values)


@router.post("/segregations/{segregation_id}/{step}", response_class=HTMLResponse)
async def segregation_step(
    segregation_id: int,
    step: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
) -> Response:
    form, admission, _ = await _segregation_admission(session, user, segregation_id, step, now)
    values = form_dict(await request.form())
    errors: Errors = {}
    parsed = form.parse(values, errors)
    url = f"/segregations/{segregation_id}"
    name = admission.patient.display_name
    if step == "notifications":
        # A blank time leaves what is recorded alone: clearing one is not this form's job.
        parsed = {k: v for k, v in parsed.items() if v is not None}
        if not parsed and not errors:
            errors["commissioner_informed_at"] = "Enter when the commissioner or IMHA was informed"
    data = validate(SEGREGATION_SCHEMAS[step], parsed, errors)
    actions: dict[str, tuple[Callable[..., Awaitable[Any]], str]] = {
        "review": (service.add_segregation_review, f"Review of {name}'s segregation recorded."),
        "notifications": (service.update_segregation, "Notifications recorded."),
        "end": (service.end_segregation, f"Segregation of {name} ended."),
    }
    act, message = actions[step]

    async def write() -> str:
        await act(session, actor=user, segregation_id=segregation_id, data=data, now=now)
        return url

    return await _save(
        request,
        session,
        form,
        f"{url}/{step}",
        admission,
        values,
        errors,
        write if data else None,
        message,
    )
