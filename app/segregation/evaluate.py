"""Every deadline of a seclusion or segregation episode, from the one deadline calculator.

The board's countdowns, the episode pages and the rules engine all call these functions,
so what a nurse sees as "due" is exactly what the rules will raise when it passes.
Pure: the records and ``as_of`` in, chains out (``chains_for_*`` read loaded records:
their reviews and observations must be loaded; nothing here queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from app.deadlines import Chain, Interval, chain, single
from app.rules.catalogue import (
    RuleCode,
    SeclusionPolicy,
    SegregationPolicy,
    default_seclusion_policy,
    default_segregation_policy,
)

if TYPE_CHECKING:
    from app.segregation.models import Seclusion, Segregation

# --- seclusion -----------------------------------------------------------------------------

MEDICAL_KINDS = frozenset({"medical", "mdt", "independent_mdt"})  # an MDT includes a doctor
MDT_KINDS = frozenset({"mdt"})


@dataclass(frozen=True)
class Review:
    kind: str
    at: datetime


def medical_chain(
    *,
    start: datetime,
    as_of: datetime,
    reviews: Sequence[Review],
    ended_at: datetime | None,
    authorised_by_psychiatrist: bool,
    first: Interval,
    before_mdt: Interval,
    after_mdt: Interval,
) -> tuple[Chain, bool]:
    """The medical review chain; returns it and whether its first deadline is the 1-hour one.

    Unless a psychiatrist authorised seclusion (their assessment is the first review), the
    first deadline is ``start + first`` (SECL_MEDICAL_FIRST). After that, a medical review is
    due every ``before_mdt`` until the first MDT review, then every ``after_mdt``.
    """
    first_mdt = min(
        # Only an MDT review proper starts the 12-hourly rhythm: RULES.md is silent on an
        # independent MDT review here, and we take the reading that raises the alert.
        (r.at for r in reviews if r.kind in MDT_KINDS and start <= r.at <= as_of),
        default=None,
    )

    def step(anchor: datetime, _n: int) -> Interval:
        return after_mdt if first_mdt is not None and first_mdt <= anchor else before_mdt

    medical = [r.at for r in reviews if r.kind in MEDICAL_KINDS]
    if authorised_by_psychiatrist:
        return chain(
            start=start, as_of=as_of, actions=medical, interval=step, ended_at=ended_at
        ), False
    return chain(
        start=start,
        as_of=as_of,
        actions=medical,
        interval=step,
        ended_at=ended_at,
        first_interval=first,
    ), True


@dataclass(frozen=True)
class Episode:
    id: int
    started_at: datetime
    ended_at: datetime | None


def independent_review_line(
    episode: Episode,
    earlier: Sequence[Episode],
    *,
    as_of: datetime,
    single_limit: timedelta = timedelta(hours=8),
    window_limit: timedelta = timedelta(hours=12),
    window: timedelta = timedelta(hours=48),
) -> datetime | None:
    """When this episode crosses the line that needs an independent MDT review, or None.

    The line: ``single_limit`` in this one episode, or ``window_limit`` of seclusion in total
    (this admission's episodes, this one included) within any ``window``. An episode still
    open at as_of is assumed to go on, so the board can show when the line will be reached.
    Seclusion time inside a trailing window never falls while a person is secluded (time
    enters at rate 1 and leaves at most as fast), so the crossing is found by walking the
    piecewise-linear total between the points where its rate can change.
    """
    start = episode.started_at
    if start > as_of:
        return None
    ended = episode.ended_at if episode.ended_at is not None and episode.ended_at <= as_of else None
    end = ended if ended is not None else start + single_limit
    others = [
        (e.started_at, min(e.ended_at or as_of, as_of))
        for e in earlier
        if e.id != episode.id and e.started_at < start and e.started_at <= as_of
    ]

    def total(t: datetime) -> timedelta:
        lo = t - window
        amount = max(timedelta(0), t - max(lo, start))
        for s, e in others:
            overlap = min(e, t) - max(s, lo)
            if overlap > timedelta(0):
                amount += overlap
        return amount

    points = {start, end}
    for s, e in others:
        for moment in (s + window, e + window):
            if start < moment < end:
                points.add(moment)
    ordered = sorted(points)
    for a, b in pairwise(ordered):
        total_a, total_b = total(a), total(b)
        if total_b >= window_limit:
            if total_a >= window_limit:
                return a
            rate = (total_b - total_a) / (b - a)
            return min(a + (window_limit - total_a) / rate, start + single_limit)
    if ended is None or start + single_limit < ended:
        return start + single_limit
    return None


def independent_review(
    episode: Episode,
    earlier: Sequence[Episode],
    reviews: Sequence[Review],
    *,
    as_of: datetime,
    single_limit: timedelta = timedelta(hours=8),
    window_limit: timedelta = timedelta(hours=12),
    window: timedelta = timedelta(hours=48),
) -> Chain:
    """SECL_INDEPENDENT_MDT: due when the line is crossed; met by an independent MDT review
    at or after the start of this episode and at or before the crossing; cleared by one
    later, or by the episode ending."""
    due = independent_review_line(
        episode,
        earlier,
        as_of=as_of,
        single_limit=single_limit,
        window_limit=window_limit,
        window=window,
    )
    if due is None:
        return Chain((), None)
    independent = sorted(
        r.at for r in reviews if r.kind == "independent_mdt" and episode.started_at <= r.at <= as_of
    )
    if any(at <= due for at in independent):
        return Chain((), None)
    ended = episode.ended_at if episode.ended_at is not None and episode.ended_at <= as_of else None
    if ended is not None and due >= ended:
        return Chain((), None)
    if as_of > due:
        cleared = [at for at in independent if at > due]
        if ended is not None:
            cleared.append(ended)
        return Chain((due,), None, (min(cleared) if cleared else None,))
    return Chain((), due)


AC_KINDS = frozenset({"approved_clinician", "mdt"})  # an MDT includes an approved clinician

# What each rule's "next due" is called on the board and in the API's next_due.
SECLUSION_DUE_KEYS: dict[str, str] = {
    RuleCode.SECL_MEDICAL_FIRST: "medical",
    RuleCode.SECL_MEDICAL_REVIEW: "medical",
    RuleCode.SECL_NURSING_REVIEW: "nursing",
    RuleCode.SECL_MDT_REVIEW: "mdt",
    RuleCode.SECL_INDEPENDENT_MDT: "independent_mdt",
    RuleCode.SECL_OBSERVATION: "observation",
}
SEGREGATION_DUE_KEYS: dict[str, str] = {
    RuleCode.LTS_AC_REVIEW: "approved_clinician",
    RuleCode.LTS_MDT_REVIEW: "mdt",
    RuleCode.LTS_EXTERNAL_REVIEW: "external",
    RuleCode.LTS_NOTIFICATION: "notification",
    RuleCode.LTS_ICETR: "icetr",
}


def seclusion_chains(
    episode: Episode,
    *,
    authorised_by_role: str,
    reviews: Sequence[Review],
    observations: Sequence[datetime],
    earlier: Sequence[Episode],
    as_of: datetime,
    policy: SeclusionPolicy | None = None,
) -> dict[str, Chain]:
    """Each seclusion rule's chain for one episode. ``earlier`` holds the admission's other
    seclusion episodes (for 12 hours in any 48)."""
    p = policy or default_seclusion_policy()
    start, ended_at = episode.started_at, episode.ended_at
    medical, has_first = medical_chain(
        start=start,
        as_of=as_of,
        ended_at=ended_at,
        reviews=reviews,
        authorised_by_psychiatrist=authorised_by_role == "psychiatrist",
        first=p.medical_first,
        before_mdt=p.medical_before_mdt,
        after_mdt=p.medical_after_mdt,
    )
    first_due = p.medical_first.after(episode.started_at)
    first, later = _split_first(medical, first_due if has_first else None)
    return {
        RuleCode.SECL_MEDICAL_FIRST: first,
        RuleCode.SECL_MEDICAL_REVIEW: later,
        RuleCode.SECL_NURSING_REVIEW: chain(
            start=start,
            as_of=as_of,
            ended_at=ended_at,
            actions=[r.at for r in reviews if r.kind == "nursing"],
            interval=p.nursing,
        ),
        RuleCode.SECL_MDT_REVIEW: chain(
            start=start,
            as_of=as_of,
            ended_at=ended_at,
            actions=[r.at for r in reviews if r.kind == "mdt"],
            interval=p.mdt,
        ),
        RuleCode.SECL_INDEPENDENT_MDT: independent_review(
            episode,
            earlier,
            reviews,
            as_of=as_of,
            single_limit=p.independent_single,
            window_limit=p.independent_total,
            window=p.independent_window,
        ),
        RuleCode.SECL_OBSERVATION: chain(
            start=start,
            as_of=as_of,
            ended_at=ended_at,
            actions=observations,
            interval=p.observation,
        ),
    }


def _split_first(medical: Chain, first_due: datetime | None) -> tuple[Chain, Chain]:
    """The medical chain as two rules: its 1-hour first deadline, and the rest."""
    satisfied = medical.satisfied_at or (None,) * len(medical.breaches)
    if first_due is None:
        return Chain((), None), medical
    if medical.breaches and medical.breaches[0] == first_due:
        first = Chain((first_due,), None, (satisfied[0],))
        rest = Chain(medical.breaches[1:], medical.next_due, satisfied[1:])
        return first, rest
    if not medical.breaches and medical.next_due == first_due:
        return Chain((), first_due), Chain((), None)
    return Chain((), None), medical


# Rules whose action is still owed after the episode ends: its end does not clear them.
OWED_AFTER_END: frozenset[str] = frozenset({RuleCode.LTS_NOTIFICATION})


def segregation_chains(
    episode: Episode,
    *,
    reviews: Sequence[Review],
    commissioner_informed_at: datetime | None,
    imha_informed_at: datetime | None,
    needs_icetr: bool,
    as_of: datetime,
    policy: SegregationPolicy | None = None,
) -> dict[str, Chain]:
    p = policy or default_segregation_policy()
    start, ended_at = episode.started_at, episode.ended_at

    def every(interval: Interval, *kinds: str) -> Chain:
        actions = [r.at for r in reviews if r.kind in kinds]
        return chain(
            start=start, as_of=as_of, ended_at=ended_at, actions=actions, interval=interval
        )

    def once(interval: Interval, actions: list[datetime], *, owed_after_end: bool) -> Chain:
        return single(
            start=start,
            as_of=as_of,
            ended_at=None if owed_after_end else ended_at,
            due_after=interval,
            actions=actions,
        )

    # Both must be told: the notification is done when the later of the two happened.
    informed = (
        [max(commissioner_informed_at, imha_informed_at)]
        if commissioner_informed_at is not None and imha_informed_at is not None
        else []
    )
    icetr = [r.at for r in reviews if r.kind == "icetr"]
    return {
        RuleCode.LTS_AC_REVIEW: every(p.approved_clinician, *AC_KINDS),
        RuleCode.LTS_MDT_REVIEW: every(p.mdt, "mdt"),
        RuleCode.LTS_EXTERNAL_REVIEW: every(p.external, "external"),
        # Owed even when the segregation ended sooner: RULES.md gives no exemption for a
        # short one, and the commissioner's part in the decision does not lapse with it
        # (the reading that raises the alert).
        RuleCode.LTS_NOTIFICATION: once(p.notification, informed, owed_after_end=True),
        # Only for a person with a learning disability or an autistic person; a review of
        # segregation under way, so not owed once it has ended.
        RuleCode.LTS_ICETR: (
            once(p.icetr, icetr, owed_after_end=False) if needs_icetr else Chain((), None)
        ),
    }


def next_due(chains: dict[str, Chain], keys: dict[str, str]) -> dict[str, datetime | None]:
    """The next deadline per review kind (None: nothing more due, or the episode ended;
    the notification stays due after the end until both are told, see OWED_AFTER_END)."""
    due: dict[str, datetime | None] = dict.fromkeys(dict.fromkeys(keys.values()))
    for code, result in chains.items():
        key = keys[code]
        if result.next_due is not None and (due[key] is None or result.next_due < due[key]):  # type: ignore[operator]
            due[key] = result.next_due
    return due


@dataclass(frozen=True)
class Missed:
    rule: str
    due_at: datetime
    done_at: datetime | None  # when the missing action finally happened, if it has


def missed(chains: dict[str, Chain]) -> list[Missed]:
    """Every deadline that passed without its action, oldest first."""
    result = []
    for code, item in chains.items():
        satisfied = item.satisfied_at or (None,) * len(item.breaches)
        result += [Missed(code, d, s) for d, s in zip(item.breaches, satisfied, strict=True)]
    return sorted(result, key=lambda m: (m.due_at, m.rule))


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


# --- from the stored records ---------------------------------------------------------------


def as_episode(record: Seclusion | Segregation) -> Episode:
    return Episode(record.id, record.started_at, record.ended_at)


def reviews_of(record: Seclusion | Segregation) -> list[Review]:
    return [Review(r.kind, r.at) for r in record.reviews]


def chains_for_seclusion(
    seclusion: Seclusion,
    earlier: Sequence[Seclusion],
    as_of: datetime,
    policy: SeclusionPolicy,
) -> dict[str, Chain]:
    """A stored seclusion's chains (reviews and observations loaded); ``earlier`` are the
    admission's seclusions before it, for the independent review's window."""
    return seclusion_chains(
        as_episode(seclusion),
        authorised_by_role=seclusion.authorised_by_role,
        reviews=reviews_of(seclusion),
        observations=[o.at for o in seclusion.observations],
        earlier=[as_episode(e) for e in earlier if e.id != seclusion.id],
        as_of=as_of,
        policy=policy,
    )


def chains_for_segregation(
    segregation: Segregation,
    needs_icetr: bool,
    as_of: datetime,
    policy: SegregationPolicy,
) -> dict[str, Chain]:
    """A stored segregation's chains (reviews loaded)."""
    return segregation_chains(
        as_episode(segregation),
        reviews=reviews_of(segregation),
        commissioner_informed_at=segregation.commissioner_informed_at,
        imha_informed_at=segregation.imha_informed_at,
        needs_icetr=needs_icetr,
        as_of=as_of,
        policy=policy,
    )
