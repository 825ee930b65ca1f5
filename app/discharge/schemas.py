"""Request bodies for clinically ready for discharge (API.md, Bed flow)."""

from __future__ import annotations

from typing import Literal

from app.schemas import In, Instant

DelayReason = Literal[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
    "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28",
    "29", "30", "31", "32", "33", "34", "35", "36", "37", "98",
]  # fmt: skip
Attributable = Literal["nhs", "social_care", "both"]


class ReadyIn(In):
    started_at: Instant
    reason_code: DelayReason
    attributable_to: Attributable


class ReadyEndIn(In):
    at: Instant
