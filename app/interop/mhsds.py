"""MHSDS-shaped monthly extracts: CSV files named and laid out as the Mental Health Services
Data Set v6 tables they feed, built from what staff recorded.

The month is by local date (Europe/London). As MHSDS does, a record belongs to the month when
it was active on any day of it: it started before the month ended and had not ended before
the month began. Dates are ISO (``2026-03-02``), times local ``HH:MM:SS``. ``Person_ID`` is
the person's NHS number; ``LocalPatientId`` Wardflow's own id for them. Identifiers of
records are Wardflow's ids (``HospProvSpellID`` the admission's, ``WardStayId`` the ward
stay's); restrictive intervention incidents are prefixed by where they come from
(``RI`` a use-of-force record, ``SEC`` a seclusion, ``LTS`` a long-term segregation) so each is
unique in the submission.

Files and their items (MHSDS v6 data item names; codes mapped in ``app/interop/codes.py``):

- ``MHS501HospProvSpell.csv``: one row per hospital spell (admission). Source and method of
  admission are not recorded by Wardflow and are left empty; the method of discharge is
  ``4`` only for a person who died, otherwise empty for the same reason.
- ``MHS502WardStay.csv``: one row per ward stay, with ``SiteIDOfTreat`` (the site code),
  ``WardType``, ``WardSecLevel``, ``HospitalBedTypeMH`` and ``WardLocDistanceHome``: the
  great-circle distance in whole km from the person's home locality to the site
  (``app/flow/geo.py``; MHSDS derives the same item, in whole km, from postcodes).
- ``MHS505RestrictiveInterventInc.csv``: incidents. Use-of-force records with their MHS505
  reason (``99`` not known where none is coded, which includes every seclusion and
  segregation: Wardflow records their reason as free text) and whether a post-incident review
  was held with the patient (``Y``/``N``, use-of-force records only).
- ``MHS515RestrictiveInterventType.csv``: the types within each incident, ``01``-``17`` from
  use-of-force records, ``05`` for a seclusion and ``06`` for a segregation, with injury to
  the patient and to staff (``Y``/``N``) where recorded.
- ``MHS518ClinReadyforDischarge.csv``: clinically ready for discharge periods, with the
  v6 delay reason and ``AttribToIndic``.
- ``OutOfAreaPlacements.csv``: not an MHSDS table but the out-of-area placement items as
  NHS England's OAP collection asks for them (reason ``ReasonOAT`` 10-14, 99; whether
  inappropriate, i.e. no local bed; distance from home), so the same month's returns agree.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import csvsafe
from app.config import get_settings
from app.discharge.models import ReadyForDischarge
from app.errors import FieldError, Invalid
from app.flow import geo
from app.flow.codes import INAPPROPRIATE_REASON
from app.flow.models import OutOfAreaPlacement
from app.interop import codes
from app.segregation.force.models import RestrictiveIntervention
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, Patient, Site, Ward, WardStay

MONTH = re.compile(r"^(\d{4})-(\d{2})$")

COLUMNS: dict[str, list[str]] = {
    "MHS501HospProvSpell": [
        "Person_ID", "LocalPatientId", "HospProvSpellID", "DecidedToAdmitDate",
        "DecidedToAdmitTime", "StartDateHospProvSpell", "StartTimeHospProvSpell",
        "SourceAdmMHHospProvSpell", "MethAdmMHHospProvSpell", "EstimatedDischDateHospProvSpell",
        "DischDateHospProvSpell", "DischTimeHospProvSpell", "MethOfDischMHHospProvSpell",
        "DestOfDischHospProvSpell",
    ],
    "MHS502WardStay": [
        "Person_ID", "WardStayId", "HospProvSpellID", "StartDateWardStay", "StartTimeWardStay",
        "EndDateWardStay", "EndTimeWardStay", "SiteIDOfTreat", "WardCode", "WardType",
        "WardSecLevel", "HospitalBedTypeMH", "WardLocDistanceHome",
    ],
    "MHS505RestrictiveInterventInc": [
        "Person_ID", "RestrictiveIntIncID", "HospProvSpellID", "StartDateRestrictiveIntInc",
        "StartTimeRestrictiveIntInc", "EndDateRestrictiveIntInc", "EndTimeRestrictiveIntInc",
        "RestrictiveIntReason", "RestrictiveIntPIReviewHeldPat",
    ],
    "MHS515RestrictiveInterventType": [
        "Person_ID", "RestrictiveIntTypeID", "RestrictiveIntIncID", "RestrictiveIntType",
        "StartDateRestrictiveIntType", "StartTimeRestrictiveIntType", "EndDateRestrictiveIntType",
        "EndTimeRestrictiveIntType", "RestraintInjuryPatient", "RestraintInjuryCarePers",
    ],
    "MHS518ClinReadyforDischarge": [
        "Person_ID", "HospProvSpellID", "StartDateClinReadyforDisch", "EndDateClinReadyforDisch",
        "ClinReadyforDischDelayReason", "AttribToIndic",
    ],
    "OutOfAreaPlacements": [
        "Person_ID", "OutOfAreaPlacementID", "StartDateOAP", "EndDateOAP", "ReasonOAT",
        "InappropriateOAP", "HospitalBedTypeMH", "ProviderName", "DistanceFromHomeKm",
    ],
}  # fmt: skip

Row = list[str]


@dataclass
class Extract:
    month: date
    tables: dict[str, list[Row]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    def csv(self, table: str) -> str:
        out = io.StringIO()
        writer = csvsafe.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS[table])
        writer.writerows(self.tables.get(table, []))
        return out.getvalue()

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for table in COLUMNS:
            path = directory / f"{table}.csv"
            path.write_text(self.csv(table), encoding="utf-8", newline="")
            written.append(path)
        return written

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for table in COLUMNS:
                archive.writestr(f"{table}.csv", self.csv(table))
        return buffer.getvalue()


def parse_month(value: str, today: date, field_name: str = "month") -> date:
    """The first day of a YYYY-MM month that has begun (422 otherwise)."""
    match = MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise Invalid(FieldError(field_name, "must be a month like 2026-03"))
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if first > today:
        raise Invalid(FieldError(field_name, "cannot be a month that has not begun"))
    return first


def last_complete_month(today: date) -> date:
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _bounds(first: date) -> tuple[datetime, datetime]:
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    zone = _zone()
    return (
        datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC),
        datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC),
    )


def _active(start_col: Any, end_col: Any, start: datetime, end: datetime) -> Any:
    return (start_col < end) & or_(end_col.is_(None), end_col >= start)


def _d(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(_zone()).date().isoformat()


def _t(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(_zone()):%H:%M:%S}"


def _yn(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def _km(value: float) -> str:
    return str(math.floor(value + 0.5))


async def build(session: AsyncSession, month: date) -> Extract:
    """Every table for the month: a fixed number of queries whatever the trust's size."""
    start, end = _bounds(month)
    extract = Extract(month)
    admissions = list(
        await session.scalars(
            select(Admission)
            .where(_active(Admission.admitted_at, Admission.discharged_at, start, end))
            .options(
                selectinload(Admission.patient).selectinload(Patient.home_locality),
                selectinload(Admission.stays)
                .selectinload(WardStay.ward)
                .selectinload(Ward.site)
                .selectinload(Site.locality),
            )
            .order_by(Admission.id)
        )
    )
    extract.tables["MHS501HospProvSpell"] = [_spell(a) for a in admissions]
    extract.tables["MHS502WardStay"] = [
        _ward_stay(a, s)
        for a in admissions
        for s in a.stays
        if s.started_at < end and (s.ended_at is None or s.ended_at >= start)
    ]
    await _restrictive(session, extract, start, end)
    extract.tables["MHS518ClinReadyforDischarge"] = [
        [
            nhs,
            str(r.admission_id),
            _d(r.started_at),
            _d(r.ended_at),
            r.reason_code,
            codes.ATTRIBUTABLE_TO_CODES[r.attributable_to],
        ]
        for r, nhs in await session.execute(
            select(ReadyForDischarge, Patient.nhs_number)
            .join(Admission, Admission.id == ReadyForDischarge.admission_id)
            .join(Patient, Patient.id == Admission.patient_id)
            .where(_active(ReadyForDischarge.started_at, ReadyForDischarge.ended_at, start, end))
            .order_by(ReadyForDischarge.id)
        )
    ]
    extract.tables["OutOfAreaPlacements"] = [
        [
            nhs,
            str(p.id),
            _d(p.started_at),
            _d(p.ended_at),
            p.reason_code,
            _yn(p.reason_code == INAPPROPRIATE_REASON),
            p.bed_type,
            p.provider_name,
            _km(p.distance_km),
        ]
        for p, nhs in await session.execute(
            select(OutOfAreaPlacement, Patient.nhs_number)
            .join(Patient, Patient.id == OutOfAreaPlacement.patient_id)
            .where(_active(OutOfAreaPlacement.started_at, OutOfAreaPlacement.ended_at, start, end))
            .order_by(OutOfAreaPlacement.id)
        )
    ]
    return extract


def _spell(a: Admission) -> Row:
    destination = ""
    if a.discharge_destination is not None:
        destination = codes.DISCHARGE_DESTINATION_CODES[a.discharge_destination][0]
    method = codes.METHOD_OF_DISCHARGE_DIED if a.discharge_destination == "died" else ""
    return [
        a.patient.nhs_number,
        str(a.patient_id),
        str(a.id),
        _d(a.decision_to_admit_at),
        _t(a.decision_to_admit_at),
        _d(a.admitted_at),
        _t(a.admitted_at),
        "",
        "",
        a.expected_discharge_date.isoformat() if a.expected_discharge_date else "",
        _d(a.discharged_at),
        _t(a.discharged_at),
        method,
        destination,
    ]


def _ward_stay(a: Admission, s: WardStay) -> Row:
    home = a.patient.home_locality
    site = s.ward.site.locality
    distance = geo.distance_km((home.latitude, home.longitude), (site.latitude, site.longitude))
    ward_type = s.ward.ward_type
    return [
        a.patient.nhs_number,
        str(s.id),
        str(a.id),
        _d(s.started_at),
        _t(s.started_at),
        _d(s.ended_at),
        _t(s.ended_at),
        s.ward.site.code,
        s.ward.code,
        codes.WARD_TYPE_CODES[ward_type],
        codes.WARD_SECURITY_LEVELS[ward_type],
        codes.HOSPITAL_BED_TYPES.get(ward_type, ""),
        _km(distance),
    ]


async def _restrictive(
    session: AsyncSession, extract: Extract, start: datetime, end: datetime
) -> None:
    incidents: list[Row] = []
    types: list[Row] = []
    forces = await session.execute(
        select(RestrictiveIntervention, Patient.nhs_number)
        .join(Admission, Admission.id == RestrictiveIntervention.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(
            _active(
                RestrictiveIntervention.started_at, RestrictiveIntervention.ended_at, start, end
            )
        )
        .options(selectinload(RestrictiveIntervention.types))
        .order_by(RestrictiveIntervention.id)
    )
    for ri, nhs in forces:
        incident = f"RI{ri.id}"
        incidents.append(
            [
                nhs,
                incident,
                str(ri.admission_id),
                _d(ri.started_at),
                _t(ri.started_at),
                _d(ri.ended_at),
                _t(ri.ended_at),
                ri.reason_code or "99",
                _yn(ri.debriefed_at is not None),
            ]
        )
        for t in ri.types:
            if t.started_at < end and (t.ended_at is None or t.ended_at >= start):
                types.append(
                    [
                        nhs,
                        f"RIT{t.id}",
                        incident,
                        t.type_code,
                        _d(t.started_at),
                        _t(t.started_at),
                        _d(t.ended_at),
                        _t(t.ended_at),
                        _yn(ri.patient_injury),
                        _yn(ri.staff_injury),
                    ]
                )
    episodes: Sequence[tuple[str, str, Any]] = (
        ("SEC", codes.SECLUSION_TYPE, Seclusion),
        ("LTS", codes.SEGREGATION_TYPE, Segregation),
    )
    for prefix, type_code, model in episodes:
        rows = await session.execute(
            select(model, Patient.nhs_number)
            .join(Admission, Admission.id == model.admission_id)
            .join(Patient, Patient.id == Admission.patient_id)
            .where(_active(model.started_at, model.ended_at, start, end))
            .order_by(model.id)
        )
        for episode, nhs in rows:
            incident = f"{prefix}{episode.id}"
            when = [
                _d(episode.started_at),
                _t(episode.started_at),
                _d(episode.ended_at),
                _t(episode.ended_at),
            ]
            incidents.append([nhs, incident, str(episode.admission_id), *when, "99", ""])
            types.append([nhs, incident, incident, type_code, *when, "", ""])
    extract.tables["MHS505RestrictiveInterventInc"] = incidents
    extract.tables["MHS515RestrictiveInterventType"] = types
