"""Codes for bed flow: out-of-area reasons (NHS Digital OAP collection), MHSDS v6 hospital
bed types, and how a placement ends."""

from __future__ import annotations

OAP_REASONS: dict[str, str] = {
    "10": "No bed available locally",
    "11": "Safeguarding",
    "12": "Offending restrictions",
    "13": "Staff member or family or friend at the local provider",
    "14": "Patient choice",
    "99": "Not known",
}
# An out-of-area placement is inappropriate when it happened because no local bed was free.
INAPPROPRIATE_REASON = "10"

BED_TYPES: dict[str, str] = {
    "200": "Adult acute",
    "201": "Older adult acute",
    "202": "Adult psychiatric intensive care (PICU)",
}

OAP_OUTCOMES: dict[str, str] = {
    "repatriated": "Brought back to a local bed",
    "discharged": "Discharged from the placement",
    "other": "Other",
}

REQUEST_STATUSES: dict[str, str] = {
    "open": "Waiting",
    "admitted": "Admitted",
    "placed_out_of_area": "Placed out of area",
    "cancelled": "Cancelled",
}
