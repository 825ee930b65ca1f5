"""An episode's timeline: what happened and what was due, in the order it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.segregation import evaluate, schemas
from app.segregation.codes import (
    AUTHORISED_BY_ROLES,
    DUE_LABELS,
    REVIEW_OUTCOMES,
    SECLUSION_REVIEW_KINDS,
    SEGREGATION_REVIEW_KINDS,
)

DUE_KEYS = {**evaluate.SECLUSION_DUE_KEYS, **evaluate.SEGREGATION_DUE_KEYS}


@dataclass(frozen=True)
class Entry:
    at: datetime
    title: str
    text: str = ""
    # "missed": a deadline passed without its action; "late": done after the deadline.
    tone: Literal["event", "missed", "late", "end"] = "event"


def _missed(episode: schemas.SeclusionOut | schemas.SegregationOut) -> list[Entry]:
    entries = []
    for m in episode.missed:
        # Named as the deadline is named on the board, not after a parameter's default.
        key = DUE_KEYS.get(m.rule, m.rule)
        title = f"{DUE_LABELS.get(key, key)} missed"
        if m.done_at is None:
            entries.append(Entry(m.due_at, title, "Not done yet.", "missed"))
        else:
            entries.append(Entry(m.due_at, title, "Done late.", "late"))
    return entries


def _end(episode: schemas.SeclusionOut | schemas.SegregationOut, name: str) -> list[Entry]:
    if episode.ended_at is None:
        return []
    return [Entry(episode.ended_at, f"{name} ended", episode.end_note or "", "end")]


def seclusion_timeline(episode: schemas.SeclusionOut) -> list[Entry]:
    role = AUTHORISED_BY_ROLES.get(episode.authorised_by_role, episode.authorised_by_role)
    entries = [
        Entry(
            episode.started_at,
            "Seclusion started",
            f"Authorised by {role.lower()}. {episode.reason}",
        )
    ]
    for review in episode.reviews:
        outcome = f" Outcome: {REVIEW_OUTCOMES[review.outcome].lower()}." if review.outcome else ""
        entries.append(
            Entry(
                review.at,
                SECLUSION_REVIEW_KINDS.get(review.kind, review.kind),
                review.note + outcome,
            )
        )
    entries += [Entry(o.at, "Observation", o.note) for o in episode.observations]
    entries += _missed(episode) + _end(episode, "Seclusion")
    return sorted(entries, key=lambda e: e.at)


def segregation_timeline(episode: schemas.SegregationOut) -> list[Entry]:
    entries = [Entry(episode.started_at, "Long-term segregation started", episode.reason)]
    for review in episode.reviews:
        entries.append(
            Entry(review.at, SEGREGATION_REVIEW_KINDS.get(review.kind, review.kind), review.note)
        )
    if episode.commissioner_informed_at:
        entries.append(Entry(episode.commissioner_informed_at, "Commissioner informed"))
    if episode.imha_informed_at:
        entries.append(Entry(episode.imha_informed_at, "IMHA informed"))
    entries += _missed(episode) + _end(episode, "Segregation")
    return sorted(entries, key=lambda e: e.at)
