"""Every deadline of a seclusion or segregation episode, from the one deadline calculator.

The board's countdowns, the episode pages and the rules engine all call these functions,
so what a nurse sees as "due" is exactly what the rules will raise when it passes.
Pure: the records and ``as_of`` in, chains out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.rules.catalogue import (
    RuleCode,
    SeclusionPolicy,
    SegregationPolicy,
    default_seclusion_policy,
    default_segregation_policy,
)
from app.segregation.deadlines import (
    Chain,
    Episode,
    Interval,
    Review,
    chain,
    independent_review,
    medical_chain,
    single,
)

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
