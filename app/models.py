"""Every table, imported in one place for Alembic's autogenerate and for tests."""

from app.alerts.models import Alert, AlertNotification, RuleRun
from app.audit.models import AuditEntry
from app.auth.models import ApiToken, User, UserSession, user_wards
from app.db import Base
from app.discharge.models import ReadyForDischarge
from app.flow.models import BedRequest, OutOfAreaPlacement, PlacementReview
from app.mha.models import (
    Certificate,
    MedicineStart,
    PlaceOfSafetyEpisode,
    Renewal,
    RightsGiven,
    TribunalEvent,
)
from app.pas.models import PasHeldMessage, PasLocation, PasMessage, PasPatientNumber
from app.reports.models import ReportEmail, ReportSnapshot
from app.rules.models import RuleSetting
from app.segregation.force.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
)
from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.wards.models import (
    Admission,
    Bed,
    LegalStatusChange,
    Locality,
    Patient,
    PurposeReview,
    Site,
    Ward,
    WardStay,
)

__all__ = [
    "Admission",
    "Alert",
    "AlertNotification",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Bed",
    "BedRequest",
    "Certificate",
    "InterventionStaff",
    "InterventionType",
    "InterventionVersion",
    "LegalStatusChange",
    "Locality",
    "MedicineStart",
    "OutOfAreaPlacement",
    "PasHeldMessage",
    "PasLocation",
    "PasMessage",
    "PasPatientNumber",
    "Patient",
    "PlaceOfSafetyEpisode",
    "PlacementReview",
    "PurposeReview",
    "ReadyForDischarge",
    "Renewal",
    "ReportEmail",
    "ReportSnapshot",
    "RestrictiveIntervention",
    "RightsGiven",
    "RuleRun",
    "RuleSetting",
    "Seclusion",
    "SeclusionObservation",
    "SeclusionReview",
    "Segregation",
    "SegregationReview",
    "Site",
    "TribunalEvent",
    "User",
    "UserSession",
    "Ward",
    "WardStay",
    "user_wards",
]
