"""The Mental Health Act's code lists (MHA.md §2, §4)."""

from __future__ import annotations

RIGHTS_KINDS: dict[str, str] = {
    "s132": "Rights as a detained patient (s.132)",
    "s132a": "Rights on a community treatment order (s.132A)",
    "s130d": "Information about independent mental health advocates (s.130D)",
}

UNDERSTOOD: dict[str, str] = {
    "yes": "Understood",
    "partly": "Partly understood",
    "no": "Not understood",
}

TRIBUNAL_EVENT_KINDS: dict[str, str] = {
    "application": "Application by the person or their nearest relative",
    "reference": "Reference by the hospital managers",
    "hearing": "Hearing",
}

CERTIFICATE_FORMS: dict[str, str] = {
    "T2": "T2: consent certified (approved clinician or SOAD)",
    "T3": "T3: second opinion (SOAD)",
}

PLACE_OF_SAFETY_SECTIONS: dict[str, str] = {"s135": "Section 135", "s136": "Section 136"}

PLACE_TYPES: dict[str, str] = {
    "hospital": "Health-based place of safety (hospital)",
    "emergency_department": "Emergency department",
    "police_station": "Police station",
    "other": "Other place",
}

PLACE_OF_SAFETY_OUTCOMES: dict[str, str] = {
    "admitted_informal": "Admitted informally",
    "detained": "Detained (s.2 or s.3)",
    "released": "Released",
}
