"""HTML pages and htmx fragments: ward list, ward board, admit, beds, transfer, admission."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import reads
from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Conflict
from app.forms import Errors, attempt, form_dict, take_datetimes, validate
from app.wards import admissions, board, codes, schemas, service
from app.wards.models import PURPOSE_NOT_RECORDED, Admission, Bed, Locality, Ward, WardStay
from app.web import (
    BOARD_CHANGED,
    done,
    input_datetime,
    page_or_fragment,
    render,
    templates,
)

router = APIRouter()

# The wards' code lists, for every page that names them (bed flow, discharge and
# use-of-force pages too).
templates.env.globals.update(
    LEGAL_STATUSES=codes.LEGAL_STATUSES,
    WARD_TYPES=codes.WARD_TYPES,
    WARD_SEXES=codes.WARD_SEXES,
    PATIENT_SEXES=codes.PATIENT_SEXES,
    ETHNIC_CATEGORIES=codes.ETHNIC_CATEGORIES,
    DISCHARGE_DESTINATIONS=codes.DISCHARGE_DESTINATIONS,
    PURPOSE_NOT_RECORDED=PURPOSE_NOT_RECORDED,
)
# The board card's flag tags and their colours (the styles each capability contributes).
templates.env.filters["flag_tags"] = board.flag_tags
# The page's hook points, filled in app/extensions.py (register_all).
# Other capabilities add a section to the admission's page (restrictive practice lists its
# episodes and uses of force) without wards depending on them: (template, its context).
# The section gets the reader, to show only what app/auth/scope.py lets them read.
AdmissionSection = Callable[
    [AsyncSession, Admission, datetime, User], Awaitable[tuple[str, dict[str, Any]]]
]
admission_sections: list[AdmissionSection] = []
# Others may fill the admit form from its query (bed flow's "Admit here": the waiting
# person's NHS number, decision to admit and bed request), without wards knowing of them.
AdmitPrefill = Callable[[AsyncSession, User, Request, datetime], Awaitable[dict[str, str]]]
admit_prefills: list[AdmitPrefill] = []


@router.get("/wards", response_class=HTMLResponse)
async def ward_list(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    wards = await service.list_wards(session)
    if access.is_ward_scoped(user):
        wards = [w for w in wards if w.id in access.ward_ids(user)]
    counts = await service.ward_bed_counts(session)
    rows = [service.ward_out(w, counts.get(w.id)) for w in wards]
    sites = {w.site.code: w.site.name for w in wards}
    alerts = await board.ward_alert_counts(session, [w.id for w in wards])
    return render(
        request,
        "wards/index.html",
        {
            "wards": rows,
            "sites": sites,
            "alerts": {w.code: alerts.get(w.id, 0) for w in wards},
            "active": "wards",
        },
    )


@router.get("/wards/{code}", response_class=HTMLResponse)
async def ward_board(
    code: str, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    data = await board.ward_board(session, actor=user, ward_code=code, now=now)
    return page_or_fragment(
        request,
        "wards/board.html",
        "wards/_board.html",
        {
            "board": data,
            "active": "wards",
            "now": now,
            "today": clock.local_date(now),
            "can_write": user.role in access.CLINICAL_WRITERS
            and access.can_read_ward(user, data.ward.id),
        },
    )


# --- admit ------------------------------------------------------------------------------


async def _localities(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Locality.code, Locality.name).order_by(Locality.name))
    return dict(rows.all())


async def _admit_context(
    session: AsyncSession,
    ward: Ward,
    bed: Bed,
    values: dict[str, Any],
    errors: Errors,
    problem: str | None = None,
) -> dict[str, Any]:
    return {
        "ward": ward,
        "bed": bed,
        "values": values,
        "errors": errors,
        "problem": problem,
        "localities": await _localities(session),
        "active": "wards",
    }


async def _ward_and_bed(
    session: AsyncSession, user: User, code: str, label: str, doing: str
) -> tuple[Ward, Bed]:
    ward = await service.get_ward(session, code)
    access.require_ward(user, ward.id, doing)
    bed = await service.get_bed(session, ward, label)
    return ward, bed


@router.get("/wards/{code}/beds/{label}/admit", response_class=HTMLResponse)
async def admit_form(
    code: str, label: str, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    access.require_role(user, access.PLACERS, "admit people")
    ward, bed = await _ward_and_bed(session, user, code, label, "admit people")
    values = {"admitted_at": input_datetime(now)}
    for prefill in admit_prefills:
        values.update(await prefill(session, user, request, now))
    context = await _admit_context(session, ward, bed, values, {})
    return page_or_fragment(request, "wards/admit.html", "wards/_admit_form.html", context)


@router.post("/wards/{code}/beds/{label}/admit", response_class=HTMLResponse)
async def admit(
    code: str, label: str, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, access.PLACERS, "admit people")
    ward, bed = await _ward_and_bed(session, user, code, label, "admit people")
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["admitted_at", "decision_to_admit_at"], errors)
    for name in ("expected_discharge_date", "date_of_birth"):
        form[name] = form.get(name) or None
    for flag in ("learning_disability", "autistic"):
        form[flag] = form.get(flag) == "yes"

    admission_fields = [
        "admitted_at",
        "decision_to_admit_at",
        "legal_status",
        "reason",
        "expected_benefit",
        "expected_discharge_date",
    ]
    bed_request_id = (form.get("bed_request_id") or "").strip() or None
    admission_data = validate(
        schemas.AdmissionIn,
        {
            **{k: form.get(k) for k in admission_fields if k not in errors},
            "bed_request_id": bed_request_id,
            "patient_id": 0,
            "ward_code": ward.code,
            "bed_label": bed.label,
        },
        errors,
    )
    patient = None
    nhs_error = None
    try:
        from app.wards.nhs import normalise_nhs_number

        nhs_number = normalise_nhs_number(form.get("nhs_number") or "")
        patient = await service.find_patient_by_nhs_number(session, nhs_number)
    except ValueError as exc:
        nhs_error = f"NHS number {exc}"
    if nhs_error:
        errors["nhs_number"] = nhs_error
    patient_data = None
    differ: list[str] = []
    if patient is not None:
        # A known NHS number admits the person recorded with it only when the details typed
        # are theirs: otherwise a 409 that says which differ, never what is recorded (the
        # wrong person admitted, or an NHS number turned into a name).
        typed = validate(
            schemas.PersonCheck,
            {k: form.get(k) for k in ("given_name", "family_name", "date_of_birth", "sex")},
            errors,
        )
        if typed is not None:
            differ = service.details_that_differ(patient, typed)
        # The lookup is audited under the person it reached, matched or not, and kept
        # whatever the admission does next.
        await audit.record_event(
            session,
            actor=user,
            action="patient.lookup"
            if typed is not None and not differ
            else "patient.lookup_failed",
            entity_type="patients",
            entity_id=patient.id,
            details={**reads.via(request), "path": request.url.path, "differ": differ},
            at=now,
        )
        await commit(session)
    else:
        patient_fields = [
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "ethnic_category",
            "home_locality_code",
            "learning_disability",
            "autistic",
        ]
        patient_data = validate(schemas.PatientIn, {k: form.get(k) for k in patient_fields}, errors)

    async def again(status: int, problem: str | None = None) -> HTMLResponse:
        context = await _admit_context(session, ward, bed, values, errors, problem)
        return page_or_fragment(
            request, "wards/admit.html", "wards/_admit_form.html", context, status_code=status
        )

    if errors or admission_data is None:
        return await again(422)
    if differ:
        return await again(
            409,
            "A person is already recorded with this NHS number, but their "
            + ", ".join(differ)
            + " differ from what you typed. Check the NHS number and the details; nothing"
            " was saved.",
        )
    data = admission_data

    async def write() -> str:
        person = patient
        if person is None:
            assert patient_data is not None
            person = await service.create_patient(session, actor=user, data=patient_data, now=now)
        data.patient_id = person.id
        # Named by NHS number with details that match the record (or just registered):
        # the person is known to whoever typed them, so not only by a patient id.
        await admissions.admit(session, actor=user, data=data, now=now, identified=True)
        return person.display_name

    saved = await attempt(session, write)
    if not saved.ok:
        errors.update(saved.errors)
        return await again(saved.status, saved.problem)
    return done(
        request,
        f"{saved.saved} admitted to bed {bed.label}.",
        trigger=BOARD_CHANGED,
        redirect=f"/wards/{ward.code}",
    )


# --- open and close beds ----------------------------------------------------------------


@router.get("/wards/{code}/beds/{label}/close", response_class=HTMLResponse)
async def close_bed_form(
    code: str, label: str, request: Request, user: PageUser, session: SessionDep
) -> HTMLResponse:
    access.require_role(user, {"admin", "bed_manager", "ward_staff"}, "open or close beds")
    ward, bed = await _ward_and_bed(session, user, code, label, "open or close beds")
    return page_or_fragment(
        request,
        "wards/close_bed.html",
        "wards/_close_bed_form.html",
        {"ward": ward, "bed": bed, "values": {}, "errors": {}},
    )


@router.post("/wards/{code}/beds/{label}/status", response_class=HTMLResponse)
async def set_bed_status(
    code: str, label: str, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    values = form_dict(await request.form())
    errors: Errors = {}
    data = validate(
        schemas.BedPatch, {"status": values.get("status"), "reason": values.get("reason")}, errors
    )
    ward, bed = await _ward_and_bed(session, user, code, label, "open or close beds")

    async def write() -> object:
        assert data is not None
        return await service.set_bed_status(
            session, actor=user, ward_code=code, label=label, data=data, now=now
        )

    saved = await attempt(session, write, errors=errors, refusals=(Conflict,))
    if not saved.ok:
        return page_or_fragment(
            request,
            "wards/close_bed.html",
            "wards/_close_bed_form.html",
            {
                "ward": ward,
                "bed": bed,
                "values": values,
                "errors": saved.errors,
                "problem": saved.problem,
            },
            status_code=saved.status,
        )
    assert data is not None
    state = "closed" if data.status == "closed" else "reopened"
    return done(
        request, f"Bed {bed.label} {state}.", trigger=BOARD_CHANGED, redirect=f"/wards/{ward.code}"
    )


# --- transfer ---------------------------------------------------------------------------


async def _free_beds(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """Open, empty beds the person may be moved to, grouped by ward, for the transfer form."""
    occupied = select(WardStay.bed_id).where(WardStay.ended_at.is_(None))
    rows = await session.execute(
        select(Ward.code, Ward.name, Bed.label)
        .join(Bed, Bed.ward_id == Ward.id)
        .where(Bed.status == "open", Bed.id.not_in(occupied))
        .order_by(Ward.code, Bed.id)
    )
    result: dict[str, list[tuple[str, str]]] = {}
    for ward_code, ward_name, label in rows.all():
        result.setdefault(f"{ward_code}|{ward_name}", []).append((ward_code, label))
    return result


async def _transfer_context(
    session: AsyncSession,
    user: User,
    now: datetime,
    admission_id: int,
    values: dict[str, Any],
    errors: Errors,
    problem: str | None = None,
) -> dict[str, Any]:
    admission = await admissions.get_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    return {
        "admission": admission,
        "stay": admissions.current_stay(admission),
        "beds": await _free_beds(session),
        "values": values,
        "errors": errors,
        "problem": problem,
    }


@router.get("/admissions/{admission_id}/transfer", response_class=HTMLResponse)
async def transfer_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    access.require_role(user, access.PLACERS, "transfer people")
    context = await _transfer_context(
        session, user, now, admission_id, {"at": input_datetime(now)}, {}
    )
    page = page_or_fragment(request, "wards/transfer.html", "wards/_transfer_form.html", context)
    await reads.record_form_read(
        session, request, actor=user, admission=context["admission"], now=now
    )
    return page


@router.post("/admissions/{admission_id}/transfer", response_class=HTMLResponse)
async def transfer(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    ward_code, _, bed_label = (form.get("bed") or "").partition("/")
    if not bed_label:
        errors["bed"] = "Choose the bed to move to"
    data = validate(
        schemas.TransferIn,
        {
            "ward_code": ward_code or "-",
            "bed_label": bed_label or "-",
            "at": form.get("at"),
            "reason": form.get("reason"),
        },
        errors,
    )

    async def write() -> Admission:
        assert data is not None
        return await admissions.transfer(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )

    saved = await attempt(session, write, errors=errors)
    if saved.ok:
        admission = saved.saved
        # Back to the ward the person left: that is the board the nurse was working on.
        left, arrived = admission.stays[-2], admission.stays[-1]
        message = (
            f"{admission.patient.display_name} moved to {arrived.ward.name}, "
            f"bed {arrived.bed.label}."
        )
        return done(request, message, trigger=BOARD_CHANGED, redirect=f"/wards/{left.ward.code}")
    context = await _transfer_context(
        session, user, now, admission_id, values, saved.errors, saved.problem
    )
    return page_or_fragment(
        request,
        "wards/transfer.html",
        "wards/_transfer_form.html",
        context,
        status_code=saved.status,
    )


# --- the admission page: details, purpose reviews, legal status ---------------------------


async def _admission_page(
    request: Request,
    session: AsyncSession,
    user: User,
    admission_id: int,
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    status: int = 200,
    notice: str | None = None,
    sent: str | None = None,
) -> HTMLResponse:
    """The admission page; ``sent`` names the form that was refused, so only it shows errors.
    Ward staff see the stays they may read and what was recorded on them (scope.py)."""
    admission = await admissions.get_admission(
        session, actor=user, admission_id=admission_id, now=now
    )

    seen = scope.admission_seen(user, admission, now)
    fresh = {"at": input_datetime(now)}
    forms = {
        name: (values or fresh, errors or {}) if name == sent else (fresh, {})
        for name in ("review", "legal", "purpose")
    }
    return render(
        request,
        "wards/admission.html",
        {
            "admission": admission,
            # As this reader may see it (scope.admission_seen): a ward the person has left
            # sees the admission as it stood when its stay ended.
            "seen": seen,
            "stay": seen.stay,
            "stays": seen.stays,
            "legal_changes": seen.legal_status_changes,
            "purpose_reviews": [r for r in admission.purpose_reviews if seen.shows(r.at)],
            "forms": forms,
            "sections": [
                await section(session, admission, now, user) for section in admission_sections
            ],
            "notice": notice,
            "can_write": user.role in access.CLINICAL_WRITERS,
            "active": "wards",
        },
        status_code=status,
    )


async def _admission_form_result(
    request: Request,
    session: AsyncSession,
    user: User,
    admission_id: int,
    now: datetime,
    values: dict[str, Any],
    errors: Errors,
    *,
    write: Callable[[], Awaitable[object]],
    sent: str,
    conflict_field: str,
) -> Response:
    """Save one of the admission page's forms, or show that form again with its errors (a
    conflict beside ``conflict_field``: the page holds several forms)."""
    saved = await attempt(session, write, errors=errors, refusals=(Conflict,))
    if saved.ok:
        return RedirectResponse(f"/admissions/{admission_id}", status_code=303)
    problem = {conflict_field: saved.problem} if saved.problem else {}
    return await _admission_page(
        request,
        session,
        user,
        admission_id,
        now,
        values=values,
        errors={**saved.errors, **problem},
        status=422,
        sent=sent,
    )


@router.get("/admissions/{admission_id}", response_class=HTMLResponse)
async def admission_page(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    page = await _admission_page(request, session, user, admission_id, now)
    await reads.record_admission_read(
        session, request, actor=user, action="admission.read", admission_id=admission_id, now=now
    )
    return page


@router.post("/admissions/{admission_id}/purpose-reviews", response_class=HTMLResponse)
async def add_purpose_review(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    if form.get("still_needed") not in ("yes", "no"):
        errors["still_needed"] = "Say whether admission is still needed"
    data = validate(
        schemas.PurposeReviewIn,
        {
            "at": form.get("at"),
            "still_needed": form.get("still_needed") == "yes",
            "note": form.get("note"),
        },
        errors,
    )

    async def write() -> object:
        assert isinstance(data, schemas.PurposeReviewIn)
        return await admissions.add_purpose_review(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )

    return await _admission_form_result(
        request,
        session,
        user,
        admission_id,
        now,
        values,
        errors,
        write=write,
        sent="review",
        conflict_field="note",
    )


@router.post("/admissions/{admission_id}/legal-status", response_class=HTMLResponse)
async def change_legal_status(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    data = validate(
        schemas.AdmissionPatch,
        {"legal_status": form.get("legal_status") or "missing", "at": form.get("at")},
        errors,
    )

    async def write() -> object:
        assert isinstance(data, schemas.AdmissionPatch)
        return await admissions.update_admission(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )

    return await _admission_form_result(
        request,
        session,
        user,
        admission_id,
        now,
        values,
        errors,
        write=write,
        sent="legal",
        conflict_field="legal_status",
    )


@router.post("/admissions/{admission_id}/purpose", response_class=HTMLResponse)
async def record_purpose(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    """The reason for admission and its expected benefit, recorded by the ward for a person
    the PAS feed admitted without them (ADM_PURPOSE_MISSING clears at this moment)."""
    values = form_dict(await request.form())
    errors: Errors = {}
    for name, message in (
        ("reason", "Enter the reason for admission"),
        ("expected_benefit", "Enter the expected benefit of admission"),
    ):
        if not str(values.get(name) or "").strip():
            errors[name] = message
    data = None
    if not errors:
        data = validate(
            schemas.AdmissionPatch,
            {"reason": values.get("reason"), "expected_benefit": values.get("expected_benefit")},
            errors,
        )

    async def write() -> object:
        assert isinstance(data, schemas.AdmissionPatch)
        return await admissions.update_admission(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )

    return await _admission_form_result(
        request,
        session,
        user,
        admission_id,
        now,
        values,
        errors,
        write=write,
        sent="purpose",
        conflict_field="reason",
    )
