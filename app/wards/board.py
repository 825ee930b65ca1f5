"""The ward board read model: every bed, who is in it, and what to know at a glance.

A fixed number of queries whatever the ward's size: the ward, its beds, the open stays
with their admissions and patients, then one set-based query (or a fixed few) per provider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import access
from app.auth.models import User
from app.clock import age_on, local_date
from app.db import memo_scope
from app.wards import schemas
from app.wards.models import Admission, Bed, Patient, WardStay
from app.wards.service import get_ward, ward_out

# The board's hook points. Other capabilities (seclusion, segregation, ready for discharge,
# out of area, alerts) provide one set-based query for all the admissions on the board,
# giving the flags (and alert counts) per admission id. The lists are filled in one place,
# app/extensions.py (register_all), never by importing a module.
FlagProvider = Callable[[AsyncSession, list[int], datetime], Awaitable[dict[int, set[str]]]]
AlertCounter = Callable[[AsyncSession, list[int]], Awaitable[dict[int, int]]]
RestrictionProvider = Callable[
    [AsyncSession, list[int], datetime], Awaitable[dict[int, list[schemas.CardRestriction]]]
]
# Open alerts per ward id, for the ward's own badge (the board and the list of wards).
WardAlertCounter = Callable[[AsyncSession, list[int]], Awaitable[dict[int, int]]]
# The open clinically-ready-for-discharge period per admission (the discharge package).
ReadyProvider = Callable[
    [AsyncSession, list[int], datetime], Awaitable[dict[int, schemas.CardReady]]
]
flag_providers: list[FlagProvider] = []
alert_counters: list[AlertCounter] = []
ward_alert_counters: list[WardAlertCounter] = []
restriction_providers: list[RestrictionProvider] = []
ready_providers: list[ReadyProvider] = []
RESTRICTION_FLAGS = {"seclusion": "secluded", "segregation": "segregated"}
READY_FLAG = "ready_for_discharge"

UNDER_18 = "under_18"

# How the card shows a flag: the colour of its tag (NHS.UK tag modifier), or None when
# the card shows it in its own way (the restriction and ready-for-discharge lines). Each
# capability contributes the styles of its own flags with its flag provider
# (app/extensions.py); a flag with no style is a blue tag.
FlagStyle = str | None
FLAG_STYLES: dict[str, FlagStyle] = {
    UNDER_18: "red",
    **dict.fromkeys(RESTRICTION_FLAGS.values()),
    READY_FLAG: None,
}
flag_styles: dict[str, FlagStyle] = dict(FLAG_STYLES)
DEFAULT_FLAG_STYLE = "blue"


def flag_tags(flags: list[str]) -> list[tuple[str, str]]:
    """The card's tags, in order, each with its colour; flags shown otherwise are left out."""
    tags = [(flag, flag_styles.get(flag, DEFAULT_FLAG_STYLE)) for flag in flags]
    return [(flag, style) for flag, style in tags if style is not None]


def days_between(start: datetime, now: datetime) -> int:
    """Whole days on the ward, counted in local calendar days (arrived today = 0)."""
    return max(0, (local_date(now) - local_date(start)).days)


async def ward_board(
    session: AsyncSession, *, actor: User, ward_code: str, now: datetime
) -> schemas.BoardOut:
    # The providers share what they all read (the rule settings) for this one board.
    with memo_scope(session):
        return await _ward_board(session, actor=actor, ward_code=ward_code, now=now)


async def _ward_board(
    session: AsyncSession, *, actor: User, ward_code: str, now: datetime
) -> schemas.BoardOut:
    ward = await get_ward(session, ward_code)
    access.require_read_ward(actor, ward.id)
    # Every bed with its occupant, if any, in one statement (the open stay per bed is a
    # partial unique index, so this is one index probe per bed).
    bed_rows = (
        await session.execute(
            select(Bed, WardStay, Admission, Patient)
            .outerjoin(
                WardStay,
                and_(
                    WardStay.bed_id == Bed.id,
                    WardStay.ward_id == ward.id,
                    WardStay.ended_at.is_(None),
                ),
            )
            .outerjoin(Admission, Admission.id == WardStay.admission_id)
            .outerjoin(Patient, Patient.id == Admission.patient_id)
            .where(Bed.ward_id == ward.id)
            .order_by(Bed.id)
        )
    ).all()
    beds = [bed for bed, _, _, _ in bed_rows]
    rows = [
        (stay, admission, patient)
        for _, stay, admission, patient in bed_rows
        if stay is not None and admission is not None and patient is not None
    ]
    admission_ids = [admission.id for _, admission, _ in rows]
    flags: dict[int, set[str]] = {a: set() for a in admission_ids}
    alerts: dict[int, int] = dict.fromkeys(admission_ids, 0)
    restrictions: dict[int, list[schemas.CardRestriction]] = {}
    ready: dict[int, schemas.CardReady] = {}
    if admission_ids:
        for ready_provider in ready_providers:
            ready.update(await ready_provider(session, admission_ids, now))
        for admission_id in ready:
            flags.setdefault(admission_id, set()).add(READY_FLAG)
        for restriction_provider in restriction_providers:
            for admission_id, items in (
                await restriction_provider(session, admission_ids, now)
            ).items():
                restrictions.setdefault(admission_id, []).extend(items)
                flags.setdefault(admission_id, set()).update(
                    RESTRICTION_FLAGS[item.kind] for item in items
                )
        for provider in flag_providers:
            for admission_id, extra in (await provider(session, admission_ids, now)).items():
                flags.setdefault(admission_id, set()).update(extra)
        for counter in alert_counters:
            for admission_id, count in (await counter(session, admission_ids)).items():
                alerts[admission_id] = alerts.get(admission_id, 0) + count

    today = local_date(now)
    occupants: dict[int, schemas.Occupant] = {}
    for stay, admission, patient in rows:
        age = age_on(patient.date_of_birth, today)
        admission_flags = flags.get(admission.id, set())
        if age < 18:
            admission_flags.add(UNDER_18)
        occupants[stay.bed_id] = schemas.Occupant(
            admission_id=admission.id,
            patient_id=patient.id,
            display_name=patient.display_name,
            age=age,
            legal_status=admission.legal_status,
            admitted_at=admission.admitted_at,
            days_on_ward=days_between(stay.started_at, now),
            expected_discharge_date=admission.expected_discharge_date,
            flags=sorted(admission_flags),
            open_alerts=alerts.get(admission.id, 0),
            restrictions=restrictions.get(admission.id, []),
            ready_for_discharge=ready.get(admission.id),
        )

    board_beds = [
        schemas.BoardBed(
            label=bed.label,
            status=bed.status,
            reason=bed.closed_reason,
            occupant=occupants.get(bed.id),
        )
        for bed in beds
    ]
    open_beds = sum(1 for b in beds if b.status == "open")
    occupied = len(occupants)
    return schemas.BoardOut(
        open_alerts=(await ward_alert_counts(session, [ward.id])).get(ward.id, 0),
        ward=ward_out(ward, (len(beds), open_beds, occupied)),
        beds=board_beds,
        occupancy=schemas.Occupancy(
            beds=len(beds),
            open=open_beds,
            occupied=occupied,
            rate=round(occupied / open_beds, 4) if open_beds else None,
        ),
    )


async def ward_alert_counts(session: AsyncSession, ward_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for counter in ward_alert_counters:
        for ward_id, n in (await counter(session, ward_ids)).items():
            counts[ward_id] = counts.get(ward_id, 0) + n
    return counts
