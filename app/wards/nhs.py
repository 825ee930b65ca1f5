"""NHS number checks, using the nhs-number package rather than a hand-written checksum."""

from __future__ import annotations

import re
from datetime import datetime

from nhs_number import validate as nhs_validate
from nhs_number.constants import REGION_SCOTLAND

# ASCII digits with spaces or dashes between them, nothing else: str.isdigit() would also
# take full-width and Arabic-Indic digits, letting one NHS number be stored three ways.
_TYPED = re.compile(r"[0-9 \-]*")


def normalise_nhs_number(value: str) -> str:
    """Ten digits with spaces or dashes removed; ValueError (shown beside the field) if invalid."""
    if not _TYPED.fullmatch(value):
        raise ValueError("must be 10 digits (0 to 9, with spaces or dashes if you like)")
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != 10:
        raise ValueError("must be 10 digits, for example 943 476 5919")
    # The library's Region.contains_number is not annotated.
    in_scotland: bool = REGION_SCOTLAND.contains_number(digits)  # type: ignore[no-untyped-call]
    if in_scotland and not _is_date(digits[:6]):
        # A Scottish CHI number starts with the date of birth (DDMMYY).
        raise ValueError(
            "is in the Scottish CHI range, but its first six digits are not a date of birth"
        )
    if not nhs_validate.is_valid(digits):
        raise ValueError("is not a valid NHS number (the check digit does not match)")
    return digits


def _is_date(ddmmyy: str) -> bool:
    try:
        datetime.strptime(ddmmyy, "%d%m%y")
    except ValueError:
        return False
    return True
