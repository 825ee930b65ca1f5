"""NHS number checks, using the nhs-number package rather than a hand-written checksum."""

from __future__ import annotations

import nhs_number


def normalise_nhs_number(value: str) -> str:
    """Ten digits with spaces or dashes removed; ValueError (shown beside the field) if invalid."""
    digits = "".join(ch for ch in value if ch not in " -")
    if not (len(digits) == 10 and digits.isdigit()):
        raise ValueError("must be 10 digits, for example 943 476 5919")
    if not nhs_number.is_valid(digits):
        raise ValueError("is not a valid NHS number (the check digit does not match)")
    return digits
