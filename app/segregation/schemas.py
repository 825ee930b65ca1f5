"""Seclusion and segregation: request and response bodies (API.md, Restrictive practice)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from app.schemas import In, Instant, NonBlank, Out

AuthorisedByRole = Literal["psychiatrist", "approved_clinician", "nurse_in_charge"]
SeclusionReviewKind = Literal["medical", "nursing", "mdt", "independent_mdt"]
SegregationReviewKind = Literal["approved_clinician", "mdt", "external", "icetr"]


class SeclusionIn(In):
    started_at: Instant
    authorised_by_role: AuthorisedByRole
    reason: NonBlank


class SeclusionReviewIn(In):
    kind: SeclusionReviewKind
    at: Instant
    note: NonBlank
    outcome: Literal["continue", "end"] | None = None


class ObservationIn(In):
    at: Instant
    note: NonBlank


class EndIn(In):
    at: Instant
    note: NonBlank


class SegregationIn(In):
    started_at: Instant
    reason: NonBlank
    commissioner_informed_at: Instant | None = None
    imha_informed_at: Instant | None = None


class SegregationPatch(In):
    commissioner_informed_at: Instant | None = None
    imha_informed_at: Instant | None = None


class SegregationReviewIn(In):
    kind: SegregationReviewKind
    at: Instant
    note: NonBlank


class SeclusionToSegregationIn(In):
    """End a seclusion because long-term segregation begins: one moment, one action."""

    at: Instant
    note: NonBlank
    reason: NonBlank
    commissioner_informed_at: Instant | None = None
    imha_informed_at: Instant | None = None


class ReviewOut(Out):
    id: int
    kind: str
    at: datetime
    note: str
    recorded_at: datetime


class SeclusionReviewOut(ReviewOut):
    outcome: str | None


class ObservationOut(Out):
    id: int
    at: datetime
    note: str
    recorded_at: datetime


class MissedOut(Out):
    rule: str
    due_at: datetime
    done_at: datetime | None


class EpisodeOut(Out):
    id: int
    admission_id: int
    patient_id: int
    kind: Literal["seclusion", "segregation"]
    status: Literal["open", "ended"]
    started_at: datetime
    ended_at: datetime | None
    reason: str
    end_note: str | None
    duration_minutes: int
    # The next deadline per review kind; null once nothing more is due.
    next_due: dict[str, datetime | None]
    # Deadlines that passed without their action, with when it finally happened.
    missed: list[MissedOut]


class SeclusionOut(EpisodeOut):
    authorised_by_role: str
    reviews: list[SeclusionReviewOut]
    observations: list[ObservationOut]
    # The segregation that began as this seclusion ended, if it did.
    followed_by_segregation_id: int | None = None


class SegregationOut(EpisodeOut):
    commissioner_informed_at: datetime | None
    imha_informed_at: datetime | None
    from_seclusion_id: int | None
    reviews: list[ReviewOut]
