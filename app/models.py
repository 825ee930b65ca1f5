"""Every table, imported in one place for Alembic's autogenerate and for tests."""

from app.alerts.models import Alert, AlertNotification, RuleRun, RuleSetting
from app.audit.models import AuditEntry
from app.auth.models import ApiToken, User, UserSession, user_wards
from app.db import Base
from app.discharge.models import ReadyForDischarge
from app.flow.models import BedRequest, OutOfAreaPlacement, PlacementReview
from app.pas.models import PasHeldMessage, PasLocation, PasMessage, PasPatientNumber
from app.reports.models import ReportEmail, ReportSnapshot
from app.segregation.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
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
    "InterventionStaff",
    "InterventionType",
    "InterventionVersion",
    "LegalStatusChange",
    "Locality",
    "OutOfAreaPlacement",
    "PasHeldMessage",
    "PasLocation",
    "PasMessage",
    "PasPatientNumber",
    "Patient",
    "PlacementReview",
    "PurposeReview",
    "ReadyForDischarge",
    "ReportEmail",
    "ReportSnapshot",
    "RestrictiveIntervention",
    "RuleRun",
    "RuleSetting",
    "Seclusion",
    "SeclusionObservation",
    "SeclusionReview",
    "Segregation",
    "SegregationReview",
    "Site",
    "User",
    "UserSession",
    "Ward",
    "WardStay",
    "user_wards",
]
