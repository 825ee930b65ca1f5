"""Records as FHIR R4 resources (plain dicts, JSON-ready).

Ids: a Location is ``site-{id}``, ``ward-{id}`` or ``bed-{id}`` (one resource type for three
tables); an Encounter is the admission's id, a Patient the patient's, a Flag the alert's.

UK Core where it has a home for what we hold: the NHS number under
``https://fhir.nhs.uk/Id/nhs-number``; ethnic category with ``Extension-UKCore-EthnicCategory``;
legal status with ``Extension-UKCore-LegalStatus`` (its two contexts, ``admission`` and
``discharge``: the status in force at admission and, once discharged, at discharge; codes
as ``app/interop/codes.py`` maps them). UK Core has no context for the status *now*, which an
EPR needs while the person is still in hospital, so every change is also sent in a Wardflow
extension, ``.../StructureDefinition/legal-status-period`` (classification and start).
``hospitalization.admitSource`` is ``99`` (not known: Wardflow does not record it) and
``dischargeDisposition`` the mapped discharge destination.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.alerts.models import Alert
from app.config import get_settings
from app.interop import codes
from app.wards.codes import ETHNIC_CATEGORIES, WARD_TYPES
from app.wards.models import Admission, Bed, Patient, Site, Ward

if TYPE_CHECKING:
    from app.auth.scope import AdmissionSeen

Resource = dict[str, Any]

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
BED_STATUS = "http://terminology.hl7.org/CodeSystem/v2-0116"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
UKCORE_LEGAL_STATUS = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-LegalStatus"
UKCORE_LEGAL_CONTEXT = "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusContext"
UKCORE_ETHNIC = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
UKCORE_ETHNIC_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"

PHYSICAL_TYPES = {"si": "Site", "wa": "Ward", "bd": "Bed"}
BED_STATUSES = {"O": "Occupied", "U": "Unoccupied", "C": "Closed"}
GENDERS = {"male": "male", "female": "female", "other": "other", "not_known": "unknown"}


def local_system(name: str) -> str:
    """Wardflow's own code systems and extensions, named under the service's address."""
    return f"{get_settings().api_base_url}/fhir/r4/{name}"


def instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def day(value: date) -> str:
    return value.isoformat()


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [coding(system, code, display)], **({"text": display} if display else {})}


def period(start: datetime, end: datetime | None) -> dict[str, str]:
    result = {"start": instant(start)}
    if end is not None:
        result["end"] = instant(end)
    return result


# --- Location --------------------------------------------------------------------------


def site_location(site: Site) -> Resource:
    locality = site.locality
    return {
        "resourceType": "Location",
        "id": f"site-{site.id}",
        "identifier": [{"system": local_system("Id/site-code"), "value": site.code}],
        "status": "active",
        "name": site.name,
        "mode": "instance",
        "type": [concept(ROLE_CODE, "HOSP", "Hospital")],
        "physicalType": concept(PHYSICAL_TYPE, "si", "Site"),
        "position": {"longitude": locality.longitude, "latitude": locality.latitude},
    }


def ward_location(ward: Ward) -> Resource:
    return {
        "resourceType": "Location",
        "id": f"ward-{ward.id}",
        "identifier": [{"system": local_system("Id/ward-code"), "value": ward.code}],
        "status": "active",
        "name": ward.name,
        "mode": "instance",
        "type": [
            concept(
                local_system("CodeSystem/ward-type"), ward.ward_type, WARD_TYPES[ward.ward_type]
            )
        ],
        "physicalType": concept(PHYSICAL_TYPE, "wa", "Ward"),
        "partOf": {"reference": f"Location/site-{ward.site_id}", "display": ward.site.name},
    }


def bed_status(bed: Bed, occupied: bool) -> str:
    """v2-0116: closed beds are C even if (impossibly) someone were in them."""
    if bed.status == "closed":
        return "C"
    return "O" if occupied else "U"


def bed_location(bed: Bed, occupied: bool) -> Resource:
    status = bed_status(bed, occupied)
    resource: Resource = {
        "resourceType": "Location",
        "id": f"bed-{bed.id}",
        "identifier": [
            {"system": local_system("Id/bed-label"), "value": f"{bed.ward.code}/{bed.label}"}
        ],
        # A closed bed is out of use for now, not gone: FHIR's "suspended".
        "status": "suspended" if status == "C" else "active",
        "operationalStatus": coding(BED_STATUS, status, BED_STATUSES[status]),
        "name": f"{bed.ward.name} bed {bed.label}",
        "mode": "instance",
        "physicalType": concept(PHYSICAL_TYPE, "bd", "Bed"),
        "partOf": {"reference": f"Location/ward-{bed.ward_id}", "display": bed.ward.name},
    }
    if bed.closed_reason:
        resource["description"] = f"Closed: {bed.closed_reason}"
    return resource


# --- Patient ---------------------------------------------------------------------------


def patient_resource(patient: Patient) -> Resource:
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [{"system": NHS_NUMBER, "value": patient.nhs_number}],
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": GENDERS[patient.sex],
        "birthDate": day(patient.date_of_birth),
    }
    if patient.ethnic_category != "99":
        resource["extension"] = [
            {
                "url": UKCORE_ETHNIC,
                "valueCodeableConcept": concept(
                    UKCORE_ETHNIC_SYSTEM,
                    patient.ethnic_category,
                    ETHNIC_CATEGORIES[patient.ethnic_category],
                ),
            }
        ]
    return resource


# --- Encounter -------------------------------------------------------------------------


def _legal_status(context: str, status: str) -> Resource:
    code, display = codes.LEGAL_STATUS_CODES[status]
    return {
        "url": UKCORE_LEGAL_STATUS,
        "extension": [
            {
                "url": "legalStatusContext",
                "valueCodeableConcept": concept(UKCORE_LEGAL_CONTEXT, context, context.title()),
            },
            {
                "url": "legalStatusClassification",
                "valueCodeableConcept": concept(codes.LEGAL_STATUS_SYSTEM, code, display),
            },
        ],
    }


def _legal_status_period(status: str, at: datetime) -> Resource:
    code, display = codes.LEGAL_STATUS_CODES[status]
    return {
        "url": local_system("StructureDefinition/legal-status-period"),
        "extension": [
            {
                "url": "classification",
                "valueCodeableConcept": concept(codes.LEGAL_STATUS_SYSTEM, code, display),
            },
            {"url": "start", "valueDateTime": instant(at)},
        ],
    }


def encounter_resource(admission: Admission, seen: AdmissionSeen | None = None) -> Resource:
    """The admission as an Encounter; ``seen``: as a ward-scoped reader may see it
    (app/auth/scope.py: their stays, what was recorded on them, and no later discharge)."""
    stays = None if seen is None else seen.stays
    all_changes = sorted(admission.legal_status_changes, key=lambda c: (c.at, c.id))
    changes = all_changes if seen is None else seen.legal_status_changes
    discharged_at = admission.discharged_at if seen is None else seen.discharged_at
    destination = admission.discharge_destination if seen is None else seen.discharge_destination
    at_admission = all_changes[0].legal_status if all_changes else admission.legal_status
    extensions = [_legal_status("admission", at_admission)]
    if discharged_at is not None:
        extensions.append(_legal_status("discharge", admission.legal_status))
    extensions += [_legal_status_period(c.legal_status, c.at) for c in changes]
    hospitalization: Resource = {
        "admitSource": concept(codes.SOURCE_OF_ADMISSION_SYSTEM, *codes.SOURCE_NOT_KNOWN)
    }
    if destination is not None:
        code, display = codes.DISCHARGE_DESTINATION_CODES[destination]
        hospitalization["dischargeDisposition"] = concept(
            codes.DISCHARGE_DESTINATION_SYSTEM, code, display
        )
    locations = []
    for stay in admission.stays if stays is None else stays:
        status = "active" if stay.ended_at is None else "completed"
        when = period(stay.started_at, stay.ended_at)
        locations += [
            {
                "location": {
                    "reference": f"Location/ward-{stay.ward_id}",
                    "display": stay.ward.name,
                },
                "status": status,
                "physicalType": concept(PHYSICAL_TYPE, "wa", "Ward"),
                "period": when,
            },
            {
                "location": {
                    "reference": f"Location/bed-{stay.bed_id}",
                    "display": f"{stay.ward.name} bed {stay.bed.label}",
                },
                "status": status,
                "physicalType": concept(PHYSICAL_TYPE, "bd", "Bed"),
                "period": when,
            },
        ]
    return {
        "resourceType": "Encounter",
        "id": str(admission.id),
        "extension": extensions,
        "status": "in-progress" if discharged_at is None else "finished",
        "class": coding(ACT_CODE, "IMP", "inpatient encounter"),
        "subject": {
            "reference": f"Patient/{admission.patient_id}",
            "display": admission.patient.display_name,
        },
        "period": period(admission.admitted_at, discharged_at),
        "reasonCode": [{"text": admission.reason}],
        "hospitalization": hospitalization,
        "location": locations,
    }


# --- Flag ------------------------------------------------------------------------------

ACTIVE_ALERTS = ("open", "acknowledged")


def flag_resource(alert: Alert, patient_id: int) -> Resource:
    """An alert on a person's admission. Open and acknowledged alerts are active flags (the
    breach still stands); cleared and resolved ones are inactive, ended when cleared (the
    missing action happened) or, failing that, when a person resolved it. A withdrawn one
    (a record typed in later showed the deadline was met, RULES.md 1.1) was raised in error:
    entered-in-error, ended when it was withdrawn."""
    active = alert.status in ACTIVE_ALERTS
    ended = None if active else (alert.cleared_at or alert.resolved_at or alert.withdrawn_at)
    status = "active" if active else "inactive"
    if alert.status == "withdrawn":
        status = "entered-in-error"
    return {
        "resourceType": "Flag",
        "id": str(alert.id),
        "status": status,
        "category": [concept(FLAG_CATEGORY, "safety", "Safety")],
        "code": {
            "coding": [coding(local_system("CodeSystem/rule"), alert.rule)],
            "text": alert.message,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": period(alert.due_at, ended if ended and ended >= alert.due_at else None),
        "encounter": {"reference": f"Encounter/{alert.admission_id}"},
        "extension": [
            {
                "url": local_system("StructureDefinition/alert-severity"),
                "valueCode": alert.severity,
            },
            {"url": local_system("StructureDefinition/alert-status"), "valueCode": alert.status},
        ],
    }


# --- Bundle and OperationOutcome -------------------------------------------------------


def bundle(base: str, entries: Sequence[Resource], total: int, links: dict[str, str]) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in entries
        ],
    }


ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    422: "invalid",
}


def operation_outcome(status: int, detail: str) -> Resource:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status, "exception"),
                "diagnostics": detail,
            }
        ],
    }
