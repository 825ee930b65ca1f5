"""Who may read whom: the one read rule every read path calls (API, FHIR, pages, htmx
fragments and downloads), so they all agree.

Admins and the safeguarding lead read every clinical record, bed managers read as
access.py says (they place people anywhere), directors read no individual records. Ward
staff read a person only through a *ward stay* on one of their wards that is either open
(the person is there now) or ended less than ``records_after_discharge_days`` ago (default
7: long enough to complete the records of a stay, no longer). Through such a stay they see
the person, the admission, and what was recorded on that stay (its episodes, reviews, uses
of force); not what was recorded later on another ward, and nobody who was never on their
wards (registered only, waiting for a bed, placed out of area).

Each rule comes twice: a Python test for one record already loaded, and an SQL condition
for lists and boards, so a list costs one query whatever its length. The boundary is
exclusive: at exactly ``ended_at + window`` the stay is no longer readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth import access
from app.auth.models import User
from app.config import get_settings
from app.errors import Forbidden
from app.wards.models import Admission, LegalStatusChange, WardStay

READING = "see patient records"
WRITING = "change a person's records"


def window() -> timedelta:
    return timedelta(days=get_settings().records_after_discharge_days)


def require_reader(user: User) -> None:
    access.require_role(user, access.CLINICAL_READERS, READING)


def refuse() -> Forbidden:
    """The one refusal: it names no one (the id may be a guess)."""
    return Forbidden("You can see a person's records only while they are on your ward.")


# --- one record, loaded ----------------------------------------------------------------


def stay_readable(user: User, stay: WardStay, now: datetime) -> bool:
    if user.role not in access.CLINICAL_READERS:
        return False
    if not access.is_ward_scoped(user):
        return True
    if stay.ward_id not in access.ward_ids(user):
        return False
    return stay.ended_at is None or now < stay.ended_at + window()


def readable_stays(user: User, stays: Iterable[WardStay], now: datetime) -> list[WardStay]:
    return [s for s in stays if stay_readable(user, s, now)]


def stay_at(stays: Iterable[WardStay], at: datetime) -> WardStay | None:
    """The stay the person was in at that moment (at a transfer's instant, the new one)."""
    found = None
    for stay in sorted(stays, key=lambda s: s.started_at):
        if stay.started_at <= at:
            found = stay
    return found


def recorded_on_readable_stay(
    user: User, stays: Iterable[WardStay], at: datetime, now: datetime
) -> bool:
    """Whether something recorded as happening at ``at`` falls on a stay this user may read.
    A time before the first stay (it cannot be, inside an admission) counts as the first."""
    stays = list(stays)
    if not access.is_ward_scoped(user):
        return user.role in access.CLINICAL_READERS
    stay = stay_at(stays, at) or (min(stays, key=lambda s: s.started_at) if stays else None)
    return stay is not None and stay_readable(user, stay, now)


@dataclass(frozen=True)
class AdmissionSeen:
    """An admission as one reader may see it: the stays they may read, and what was
    recorded on them. A ward the person has moved away from sees the admission as it stood
    when its own (last readable) stay ended (``until``): not the later discharge, legal
    status changes, episodes or reviews made on the next ward. ``until`` is None when the
    reader sees the admission up to now (their ward holds its last stay, or they are not
    ward-scoped)."""

    admission: Admission
    stays: list[WardStay]
    until: datetime | None
    _all: list[WardStay]
    _user: User
    _now: datetime

    @property
    def readable(self) -> bool:
        return bool(self.stays)

    def shows(self, at: datetime) -> bool:
        """Whether something recorded as happening at ``at`` is seen: it falls on a stay the
        reader may read, and before the end of their last one."""
        if self.until is not None and at >= self.until:
            return False
        return recorded_on_readable_stay(self._user, self._all, at, self._now)

    @property
    def stay(self) -> WardStay:
        """Where the person is, as far as this reader sees: now, or where the reader's ward
        sent them when its stay ended (the next stay, not any later move)."""
        if self.until is not None:
            return stay_at(self._all, self.until) or self.stays[-1]
        return self._all[-1]

    @property
    def discharged_at(self) -> datetime | None:
        return self.admission.discharged_at if self.until is None else None

    @property
    def discharge_destination(self) -> str | None:
        return self.admission.discharge_destination if self.until is None else None

    @property
    def status(self) -> str:
        return "open" if self.discharged_at is None else "discharged"

    @property
    def legal_status_changes(self) -> list[LegalStatusChange]:
        changes = sorted(self.admission.legal_status_changes, key=lambda c: (c.at, c.id))
        return [c for c in changes if self.shows(c.at)]

    @property
    def legal_status(self) -> str:
        """The status in force at the end of what this reader sees."""
        if self.until is None:
            return self.admission.legal_status
        changes = self.legal_status_changes
        return changes[-1].legal_status if changes else self.admission.legal_status


def admission_seen(user: User, admission: Admission, now: datetime) -> AdmissionSeen:
    """The one rule for what of an admission a reader sees (its stays loaded); every read
    path (API, page, FHIR Encounter, episode lists) asks it. ``readable`` is False when
    the reader sees none of it."""
    stays = sorted(admission.stays, key=lambda s: s.started_at)
    readable = readable_stays(user, stays, now)
    until = None
    if readable and stays and readable[-1] is not stays[-1]:
        until = readable[-1].ended_at
    return AdmissionSeen(admission, readable, until, stays, user, now)


def require_admission(user: User, admission: Admission, now: datetime) -> None:
    """403 unless the user may read this admission (its stays loaded)."""
    require_reader(user)
    if not admission_seen(user, admission, now).readable:
        raise refuse()


def stay_writable(
    user: User, admission: Admission, now: datetime, event_at: datetime | None = None
) -> bool:
    """Writes follow the read window: ward staff write to an admission while the person is
    on their ward, or, to complete the records, to their own ward's stay (the one holding
    ``event_at``, or the last one) until ``window()`` after it ended. Role checks are the
    caller's."""
    if not access.is_ward_scoped(user):
        return True
    stays = sorted(admission.stays, key=lambda s: s.started_at)
    if not stays:
        return False
    candidates = [stays[-1]]
    if event_at is not None:
        candidates.append(stay_at(stays, event_at) or stays[0])
    return any(
        s.ward_id in access.ward_ids(user) and (s.ended_at is None or now < s.ended_at + window())
        for s in candidates
    )


def refuse_write() -> Forbidden:
    return Forbidden(
        "You can change a person's records only while they are on your ward, or for "
        f"{window().days} days after they left it to complete them."
    )


def require_record(user: User, admission: Admission, at: datetime, now: datetime) -> None:
    """403 unless the user may read a record of this admission made for time ``at``."""
    require_admission(user, admission, now)
    if not recorded_on_readable_stay(user, admission.stays, at, now):
        raise refuse()


# --- sets, as SQL -----------------------------------------------------------------------


def stay_condition(user: User, now: datetime) -> ColumnElement[bool] | None:
    """The ward stays this user may read, as a condition on WardStay; None: all of them."""
    require_reader(user)
    if not access.is_ward_scoped(user):
        return None
    return and_(
        WardStay.ward_id.in_(access.ward_ids(user) or {-1}),
        or_(WardStay.ended_at.is_(None), WardStay.ended_at > now - window()),
    )


def admission_condition(user: User, now: datetime, admission_id: Any = None) -> Any:
    """A condition on ``admission_id`` (default Admission.id): admissions the user may read.
    None when the user reads them all."""
    stays = stay_condition(user, now)
    if stays is None:
        return None
    column = Admission.id if admission_id is None else admission_id
    # The stays are always the subquery's own, even where the outer query joins ward
    # stays too (a list of current stays): only ``column`` refers outward.
    return exists(
        select(WardStay.id).where(WardStay.admission_id == column, stays).correlate_except(WardStay)
    )


def record_condition(user: User, now: datetime, admission_id: Any, at: Any) -> Any:
    """A condition: the record of admission ``admission_id`` made for time ``at`` falls on
    a stay the user may read (the stay holding ``at``; before the first stay, the first),
    as ``recorded_on_readable_stay`` says for one record. None: the user reads them all."""
    stays = stay_condition(user, now)
    if stays is None:
        return None
    later = WardStay.__table__.alias("later_stay")
    earlier = WardStay.__table__.alias("earlier_stay")
    holds_at = and_(
        WardStay.started_at <= at,
        ~exists(
            select(later.c.id)
            .where(
                later.c.admission_id == WardStay.admission_id,
                later.c.started_at > WardStay.started_at,
                later.c.started_at <= at,
            )
            .correlate_except(later)
        ),
    )
    first_before = and_(
        WardStay.started_at > at,
        ~exists(
            select(earlier.c.id)
            .where(
                earlier.c.admission_id == WardStay.admission_id,
                earlier.c.started_at < WardStay.started_at,
            )
            .correlate_except(earlier)
        ),
    )
    return exists(
        select(WardStay.id)
        .where(WardStay.admission_id == admission_id, stays, or_(holds_at, first_before))
        .correlate_except(WardStay, later, earlier)
    )


def patient_condition(user: User, now: datetime, patient_id: Any) -> Any:
    """A condition on ``patient_id``: people the user may read. None: everyone."""
    stays = stay_condition(user, now)
    if stays is None:
        return None
    return exists(
        select(WardStay.id)
        .join(Admission, Admission.id == WardStay.admission_id)
        .where(Admission.patient_id == patient_id, stays)
        .correlate_except(WardStay, Admission)
    )


def bed_request_condition(user: User, now: datetime) -> Any:
    """Bed requests (the waiting list) ward staff may see and cancel: those of people they
    may read, and the requests they made themselves (a nurse asking for a bed for someone
    she has in front of her) while open and for the same window once closed. None: all."""
    from app.flow.models import BedRequest

    person = patient_condition(user, now, BedRequest.patient_id)
    if person is None:
        return None
    return or_(
        person,
        and_(
            BedRequest.created_by_id == user.id,
            or_(BedRequest.closed_at.is_(None), BedRequest.closed_at > now - window()),
        ),
    )
