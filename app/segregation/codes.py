"""Codes for seclusion, long-term segregation and use of force (MHSDS MHS505 / MHS515)."""

from __future__ import annotations

AUTHORISED_BY_ROLES: dict[str, str] = {
    "psychiatrist": "Psychiatrist",
    "approved_clinician": "Approved clinician",
    "nurse_in_charge": "Nurse in charge",
}

SECLUSION_REVIEW_KINDS: dict[str, str] = {
    "medical": "Medical review",
    "nursing": "Nursing review",
    "mdt": "MDT review",
    "independent_mdt": "Independent MDT review",
}

REVIEW_OUTCOMES: dict[str, str] = {"continue": "Continue", "end": "End seclusion"}

SEGREGATION_REVIEW_KINDS: dict[str, str] = {
    "approved_clinician": "Approved clinician review",
    "mdt": "MDT review",
    "external": "External review",
    "icetr": "IC(E)TR",
}

# MHS515 restrictive intervention types. 05 seclusion and 06 segregation are recorded as
# episodes (with their reviews), never as types of a use-of-force record.
INTERVENTION_TYPES: dict[str, str] = {
    "01": "Physical restraint - prone",
    "04": "Mechanical restraint",
    "07": "Physical restraint - standing",
    "08": "Physical restraint - restrictive escort",
    "09": "Physical restraint - supine",
    "10": "Physical restraint - side",
    "11": "Physical restraint - seated",
    "12": "Physical restraint - kneeling",
    "13": "Physical restraint - other",
    "14": "Chemical restraint - rapid tranquillisation by injection",
    "15": "Chemical restraint - injection (not rapid tranquillisation)",
    "16": "Chemical restraint - oral",
    "17": "Chemical restraint - other",
}
PRONE = "01"

INTERVENTION_TYPE_GROUPS: dict[str, list[str]] = {
    "Physical restraint": ["01", "07", "08", "09", "10", "11", "12", "13"],
    "Mechanical restraint": ["04"],
    "Chemical restraint": ["14", "15", "16", "17"],
}

# MHS505 restrictive intervention reasons.
INTERVENTION_REASONS: dict[str, str] = {
    "10": "Prevent violence to others",
    "11": "Prevent serious intentional self-harm",
    "12": "Prevent accidental serious injury",
    "13": "Lawfully give medicines or other medical treatment",
    "14": "Personal care",
    "15": "Nasogastric feeding",
    "16": "Extreme and prolonged over-activity",
    "17": "Otherwise dangerous behaviour",
    "18": "Search for the safety of others",
    "19": "Prevent absconding from lawful custody",
    "98": "Other",
    "99": "Not known",
}

# What each deadline is called where people read it (board, episode pages).
DUE_LABELS: dict[str, str] = {
    "medical": "Medical review",
    "nursing": "Nursing review",
    "mdt": "MDT review",
    "independent_mdt": "Independent MDT review",
    "observation": "Observation",
    "approved_clinician": "Approved clinician review",
    "external": "External review",
    "notification": "Commissioner and IMHA informed",
    "icetr": "IC(E)TR",
}
