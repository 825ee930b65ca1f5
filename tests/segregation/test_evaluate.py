"""Every seclusion and LTS rule of RULES.md section 2, walked per rule code at and around each
boundary (1 minute before, at, 1 minute after), through evaluate.py: the functions the board,
the episode API and the rules engine all call.

The generic chain arithmetic is tested in test_deadlines.py; here each case says which rule
code a deadline belongs to, which reviews count for it and which do not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.segregation import evaluate
from app.segregation.evaluate import Episode, Review

LONDON = ZoneInfo("Europe/London")
S = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
OFFSETS = pytest.mark.parametrize("offset", [-1, 0, 1], ids=["1 min before", "at", "1 min after"])


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in the UK, as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def seclusion(
    as_of: datetime,
    *,
    reviews: tuple[tuple[str, datetime], ...] = (),
    observations: tuple[datetime, ...] = (),
    role: str = "nurse_in_charge",
    start: datetime = S,
    ended: datetime | None = None,
    earlier: tuple[Episode, ...] = (),
):
    return evaluate.seclusion_chains(
        Episode(1, start, ended),
        authorised_by_role=role,
        reviews=[Review(kind, at) for kind, at in reviews],
        observations=list(observations),
        earlier=list(earlier),
        as_of=as_of,
    )


def segregation(
    as_of: datetime,
    *,
    reviews: tuple[tuple[str, datetime], ...] = (),
    commissioner: datetime | None = None,
    imha: datetime | None = None,
    needs_icetr: bool = True,
    start: datetime = S,
    ended: datetime | None = None,
):
    return evaluate.segregation_chains(
        Episode(1, start, ended),
        reviews=[Review(kind, at) for kind, at in reviews],
        commissioner_informed_at=commissioner,
        imha_informed_at=imha,
        needs_icetr=needs_icetr,
        as_of=as_of,
    )


# --- each rule's deadline, per rule code, at and around the boundary ------------------------

# (rule, what happened, the deadline RULES.md gives for it)
SECLUSION_CASES = {
    "first medical within 1 h": ("SECL_MEDICAL_FIRST", {}, S + H),
    # only a psychiatrist's authorisation stands for the first review
    "approved clinician authorised: first medical still due": (
        "SECL_MEDICAL_FIRST",
        {"role": "approved_clinician"},
        S + H,
    ),
    "a nursing review is not medical": (
        "SECL_MEDICAL_FIRST",
        {"reviews": (("nursing", S + 30 * M),)},
        S + H,
    ),
    "4-hourly after the first medical": (
        "SECL_MEDICAL_REVIEW",
        {"reviews": (("medical", S + 30 * M),)},
        S + 4 * H + 30 * M,
    ),
    "a missed first review: then 4-hourly from the missed deadline": (
        "SECL_MEDICAL_REVIEW",
        {},
        S + H + 4 * H,
    ),
    "psychiatrist authorised: their assessment is the first review": (
        "SECL_MEDICAL_REVIEW",
        {"role": "psychiatrist"},
        S + 4 * H,
    ),
    "an mdt review is the first medical review and starts 12-hourly": (
        "SECL_MEDICAL_REVIEW",
        {"reviews": (("mdt", S + 40 * M),)},
        S + 40 * M + 12 * H,
    ),
    # Only an MDT review proper starts the 12-hourly rhythm (the reading that raises alerts).
    "an independent mdt review is medical, still 4-hourly": (
        "SECL_MEDICAL_REVIEW",
        {"reviews": (("independent_mdt", S + 50 * M),)},
        S + 50 * M + 4 * H,
    ),
    "12-hourly after the first mdt, from the latest medical": (
        "SECL_MEDICAL_REVIEW",
        {
            "reviews": (
                ("medical", S + 30 * M),
                ("medical", S + 4 * H),
                ("mdt", S + 6 * H),
                ("medical", S + 10 * H),
            )
        },
        S + 22 * H,
    ),
    "a nursing review does not move the medical chain": (
        "SECL_MEDICAL_REVIEW",
        {"reviews": (("medical", S + 30 * M), ("nursing", S + 3 * H))},
        S + 4 * H + 30 * M,
    ),
    "psychiatrist authorised then an mdt: 12-hourly": (
        "SECL_MEDICAL_REVIEW",
        {"role": "psychiatrist", "reviews": (("mdt", S + 2 * H),)},
        S + 14 * H,
    ),
    "nursing every 2 h from the start": ("SECL_NURSING_REVIEW", {}, S + 2 * H),
    "nursing every 2 h from the last nursing review": (
        "SECL_NURSING_REVIEW",
        {"reviews": (("nursing", S + 90 * M), ("medical", S + 3 * H), ("mdt", S + 3 * H))},
        S + 90 * M + 2 * H,
    ),
    "mdt every 24 h": ("SECL_MDT_REVIEW", {}, S + 24 * H),
    "mdt every 24 h from the last mdt": (
        "SECL_MDT_REVIEW",
        {"reviews": (("mdt", S + 20 * H),)},
        S + 44 * H,
    ),
    "a medical review is not an mdt review": (
        "SECL_MDT_REVIEW",
        {"reviews": (("medical", S + 20 * H),)},
        S + 24 * H,
    ),
    "independent mdt once 8 h in one episode": ("SECL_INDEPENDENT_MDT", {}, S + 8 * H),
    "an ordinary mdt review is not independent": (
        "SECL_INDEPENDENT_MDT",
        {"reviews": (("mdt", S + 7 * H),)},
        S + 8 * H,
    ),
    "12 h in 48: 6 h yesterday, 6 h today": (
        "SECL_INDEPENDENT_MDT",
        {"earlier": (Episode(0, S - 24 * H, S - 18 * H),)},
        S + 6 * H,
    ),
    "12 h in 48: intermittent, three episodes": (
        "SECL_INDEPENDENT_MDT",
        {"earlier": (Episode(0, S - 20 * H, S - 16 * H), Episode(2, S - 10 * H, S - 6 * H))},
        S + 4 * H,
    ),
    # at S+6h the window is [S-42h, S+6h]: all 6 earlier hours are still in it
    "12 h in 48: reached as the earlier episode is about to leave the window": (
        "SECL_INDEPENDENT_MDT",
        {"earlier": (Episode(0, S - 42 * H, S - 36 * H),)},
        S + 6 * H,
    ),
    # an hour earlier, the earlier episode slides out as fast as this one adds: 11 h at most
    "12 h in 48 never reached: only the 8 h line": (
        "SECL_INDEPENDENT_MDT",
        {"earlier": (Episode(0, S - 43 * H, S - 37 * H),)},
        S + 8 * H,
    ),
    "an earlier episode more than 48 h ago does not count": (
        "SECL_INDEPENDENT_MDT",
        {"earlier": (Episode(0, S - 60 * H, S - 50 * H),)},
        S + 8 * H,
    ),
    "observation every 15 min": ("SECL_OBSERVATION", {}, S + 15 * M),
    "observation every 15 min from the last": (
        "SECL_OBSERVATION",
        {"observations": (S + 5 * M, S + 10 * M)},
        S + 25 * M,
    ),
}


@OFFSETS
@pytest.mark.parametrize(("rule", "setup", "due"), SECLUSION_CASES.values(), ids=SECLUSION_CASES)
def test_seclusion_rule_at_its_boundary(rule, setup, due, offset):
    as_of = due + offset * M
    result = seclusion(as_of, **setup)[rule]
    if offset <= 0:
        # strictly after: at the deadline it is still only due
        assert result.breaches == ()
        assert result.next_due == due
    else:
        assert result.breaches == (due,)
        assert result.satisfied_at == (None,)


SEGREGATION_CASES = {
    "approved clinician every 24 h": ("LTS_AC_REVIEW", {}, S + 24 * H),
    "approved clinician from the last review": (
        "LTS_AC_REVIEW",
        {"reviews": (("approved_clinician", S + 20 * H),)},
        S + 44 * H,
    ),
    "an mdt review counts as approved clinician": (
        "LTS_AC_REVIEW",
        {"reviews": (("mdt", S + 20 * H),)},
        S + 44 * H,
    ),
    "external and icetr reviews are not approved clinician reviews": (
        "LTS_AC_REVIEW",
        {"reviews": (("external", S + 20 * H), ("icetr", S + 21 * H))},
        S + 24 * H,
    ),
    "mdt every 7 days": ("LTS_MDT_REVIEW", {}, S + 7 * D),
    "mdt every 7 days from the last": (
        "LTS_MDT_REVIEW",
        {"reviews": (("mdt", S + 3 * D),)},
        S + 10 * D,
    ),
    "an approved clinician review is not an mdt": (
        "LTS_MDT_REVIEW",
        {"reviews": (("approved_clinician", S + 3 * D),)},
        S + 7 * D,
    ),
    # 3 calendar months in UK local time; a short month clamps
    "external: 31 January to 30 April, local time across the March change": (
        "LTS_EXTERNAL_REVIEW",
        {"start": local(2026, 1, 31, 10, 0)},
        local(2026, 4, 30, 10, 0),
    ),
    "external: 10 March GMT to 10 June BST": (
        "LTS_EXTERNAL_REVIEW",
        {},
        local(2026, 6, 10, 8, 0),
    ),
    "external: 3 months from the last external review, across the October change": (
        "LTS_EXTERNAL_REVIEW",
        {"start": local(2026, 6, 1, 9, 0), "reviews": (("external", local(2026, 8, 20, 10, 0)),)},
        local(2026, 11, 20, 10, 0),
    ),
    "external: 30 November to 28 February": (
        "LTS_EXTERNAL_REVIEW",
        {"start": local(2026, 11, 30, 9, 0)},
        local(2027, 2, 28, 9, 0),
    ),
    "an mdt review is not external": (
        "LTS_EXTERNAL_REVIEW",
        {"reviews": (("mdt", S + 30 * D),)},
        local(2026, 6, 10, 8, 0),
    ),
    "notification: nobody informed": ("LTS_NOTIFICATION", {}, S + 24 * H),
    "notification: only the commissioner informed is a breach": (
        "LTS_NOTIFICATION",
        {"commissioner": S + H},
        S + 24 * H,
    ),
    "notification: only the IMHA informed is a breach": (
        "LTS_NOTIFICATION",
        {"imha": S + H},
        S + 24 * H,
    ),
    "icetr within 28 days for a person who needs one": ("LTS_ICETR", {}, S + 28 * D),
    "an external review is not an icetr": (
        "LTS_ICETR",
        {"reviews": (("external", S + 20 * D),)},
        S + 28 * D,
    ),
}


@OFFSETS
@pytest.mark.parametrize(
    ("rule", "setup", "due"), SEGREGATION_CASES.values(), ids=SEGREGATION_CASES
)
def test_segregation_rule_at_its_boundary(rule, setup, due, offset):
    as_of = due + offset * M
    result = segregation(as_of, **setup)[rule]
    if offset <= 0:
        assert result.breaches == ()
        assert result.next_due == due
    else:
        assert result.breaches == (due,)
        assert result.satisfied_at == (None,)


def test_external_review_dates_are_local_wall_clock():
    # the examples in the brief, spelled out in UTC: BST is an hour ahead
    assert local(2026, 1, 31, 10, 0) == datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    assert local(2026, 4, 30, 10, 0) == datetime(2026, 4, 30, 9, 0, tzinfo=UTC)
    chains = segregation(local(2026, 4, 30, 9, 59), start=local(2026, 1, 31, 10, 0))
    assert chains["LTS_EXTERNAL_REVIEW"].next_due == datetime(2026, 4, 30, 9, 0, tzinfo=UTC)


# --- what does not raise -------------------------------------------------------------------


def test_a_psychiatrist_authorising_never_raises_the_first_medical_review():
    for as_of in (S + H - M, S + H, S + H + M, S + 3 * H):
        first = seclusion(as_of, role="psychiatrist")["SECL_MEDICAL_FIRST"]
        assert first.breaches == () and first.next_due is None


@pytest.mark.parametrize("kind", ["medical", "mdt", "independent_mdt"])
@pytest.mark.parametrize("at", [S, S + 30 * M, S + H], ids=["at start", "in the hour", "at 1 h"])
def test_the_first_medical_review_is_met_by_any_medical_kind(kind, at):
    first = seclusion(S + H + M, reviews=((kind, at),))["SECL_MEDICAL_FIRST"]
    assert first.breaches == () and first.next_due is None


def test_a_missed_first_review_is_one_breach_of_the_first_rule_not_of_the_later_one():
    chains = seclusion(S + 5 * H + M)
    assert chains["SECL_MEDICAL_FIRST"].breaches == (S + H,)
    assert chains["SECL_MEDICAL_REVIEW"].breaches == (S + 5 * H,)


# (rule, what happened exactly at the deadline, the deadline)
MET_AT_THE_DEADLINE = {
    "SECL_MEDICAL_FIRST": ("SECL_MEDICAL_FIRST", {"reviews": (("medical", S + H),)}),
    "SECL_MEDICAL_REVIEW": (
        "SECL_MEDICAL_REVIEW",
        {"reviews": (("medical", S), ("medical", S + 4 * H))},
    ),
    "SECL_NURSING_REVIEW": ("SECL_NURSING_REVIEW", {"reviews": (("nursing", S + 2 * H),)}),
    "SECL_MDT_REVIEW": ("SECL_MDT_REVIEW", {"reviews": (("mdt", S + 24 * H),)}),
    "SECL_INDEPENDENT_MDT": (
        "SECL_INDEPENDENT_MDT",
        {"reviews": (("independent_mdt", S + 8 * H),)},
    ),
    "SECL_OBSERVATION": ("SECL_OBSERVATION", {"observations": (S + 15 * M,)}),
}


@pytest.mark.parametrize(("rule", "setup"), MET_AT_THE_DEADLINE.values(), ids=MET_AT_THE_DEADLINE)
def test_an_action_exactly_at_the_deadline_meets_it(rule, setup):
    deadline = {
        "SECL_MEDICAL_FIRST": S + H,
        "SECL_MEDICAL_REVIEW": S + 4 * H,
        "SECL_NURSING_REVIEW": S + 2 * H,
        "SECL_MDT_REVIEW": S + 24 * H,
        "SECL_INDEPENDENT_MDT": S + 8 * H,
        "SECL_OBSERVATION": S + 15 * M,
    }[rule]
    assert seclusion(deadline + M, **setup)[rule].breaches == ()


@pytest.mark.parametrize(
    ("rule", "setup", "deadline"),
    [
        ("LTS_AC_REVIEW", {"reviews": (("approved_clinician", S + 24 * H),)}, S + 24 * H),
        ("LTS_MDT_REVIEW", {"reviews": (("mdt", S + 7 * D),)}, S + 7 * D),
        (
            "LTS_EXTERNAL_REVIEW",
            {"reviews": (("external", local(2026, 6, 10, 8, 0)),)},
            local(2026, 6, 10, 8, 0),
        ),
        ("LTS_NOTIFICATION", {"commissioner": S + H, "imha": S + 24 * H}, S + 24 * H),
        ("LTS_NOTIFICATION", {"commissioner": S + 24 * H, "imha": S}, S + 24 * H),
        ("LTS_ICETR", {"reviews": (("icetr", S + 28 * D),)}, S + 28 * D),
    ],
)
def test_a_segregation_action_exactly_at_the_deadline_meets_it(rule, setup, deadline):
    assert segregation(deadline + M, **setup)[rule].breaches == ()


def test_notification_is_met_only_once_both_are_told():
    both = segregation(S + 30 * D, commissioner=S + 2 * H, imha=S + 23 * H)
    assert both["LTS_NOTIFICATION"].breaches == ()
    assert both["LTS_NOTIFICATION"].next_due is None
    # one told in time and the other late: a breach, done when the later one was told
    late = segregation(S + 30 * D, commissioner=S + 2 * H, imha=S + 25 * H)
    assert late["LTS_NOTIFICATION"].breaches == (S + 24 * H,)
    assert late["LTS_NOTIFICATION"].satisfied_at == (S + 25 * H,)
    # only one ever told: still missing
    one = segregation(S + 30 * D, commissioner=S + 2 * H)
    assert one["LTS_NOTIFICATION"].satisfied_at == (None,)
    # telling recorded as happening after as_of does not count yet
    future = segregation(S + 24 * H + M, commissioner=S + H, imha=S + 24 * H + 2 * M)
    assert future["LTS_NOTIFICATION"].breaches == (S + 24 * H,)
    assert future["LTS_NOTIFICATION"].satisfied_at == (None,)


def test_icetr_only_for_a_person_with_a_learning_disability_or_autistic():
    as_of = S + 40 * D
    needed = segregation(as_of, needs_icetr=True)["LTS_ICETR"]
    assert needed.breaches == (S + 28 * D,)
    not_needed = segregation(as_of, needs_icetr=False)["LTS_ICETR"]
    assert not_needed.breaches == () and not_needed.next_due is None


def test_the_icetr_is_once_within_28_days_and_met_by_an_earlier_one():
    chains = segregation(S + 90 * D, reviews=(("icetr", S + 10 * D),))
    assert chains["LTS_ICETR"].breaches == () and chains["LTS_ICETR"].next_due is None


# --- the episode's end stops every chain ------------------------------------------------------

SECLUSION_DEADLINES = {
    "SECL_MEDICAL_FIRST": S + H,
    "SECL_NURSING_REVIEW": S + 2 * H,
    "SECL_MDT_REVIEW": S + 24 * H,
    "SECL_INDEPENDENT_MDT": S + 8 * H,
    "SECL_OBSERVATION": S + 15 * M,
}


@OFFSETS
@pytest.mark.parametrize(("rule", "due"), SECLUSION_DEADLINES.items())
def test_seclusion_chains_stop_at_the_end(rule, due, offset):
    """A deadline at or after ended_at is no breach; one before it is."""
    ended = due + offset * M
    result = seclusion(S + 30 * D, ended=ended)[rule]
    assert result.next_due is None
    if offset <= 0:
        assert due not in result.breaches
    else:
        assert result.breaches[-1] == due


SEGREGATION_DEADLINES = {
    "LTS_AC_REVIEW": S + 24 * H,
    "LTS_MDT_REVIEW": S + 7 * D,
    "LTS_EXTERNAL_REVIEW": local(2026, 6, 10, 8, 0),
    "LTS_ICETR": S + 28 * D,
}


@OFFSETS
@pytest.mark.parametrize(("rule", "due"), SEGREGATION_DEADLINES.items())
def test_segregation_reviews_stop_at_the_end(rule, due, offset):
    ended = due + offset * M
    result = segregation(S + 400 * D, ended=ended)[rule]
    assert result.next_due is None
    if offset <= 0:
        assert due not in result.breaches
    else:
        assert result.breaches[-1] == due


@OFFSETS
def test_the_notification_is_owed_however_soon_the_segregation_ended(offset):
    """No exemption for a short segregation in RULES.md: the commissioner and the IMHA are
    still to be told within 24 h of the start (the reading that raises the alert)."""
    due = S + 24 * H
    ended = S + 2 * H
    before = segregation(due, ended=ended)["LTS_NOTIFICATION"]
    assert (before.breaches, before.next_due) == ((), due)
    result = segregation(due + offset * M, ended=ended)["LTS_NOTIFICATION"]
    if offset <= 0:
        assert (result.breaches, result.next_due) == ((), due)
    else:
        assert (result.breaches, result.satisfied_at) == ((due,), (None,))
    # told after it ended: on time (at the deadline at the latest), or late
    told = segregation(due + H, ended=ended, commissioner=S + 3 * H, imha=due + offset * M)
    notification = told["LTS_NOTIFICATION"]
    if offset <= 0:
        assert (notification.breaches, notification.next_due) == ((), None)
    else:
        assert (notification.breaches, notification.satisfied_at) == ((due,), (due + M,))


def test_an_independent_review_breach_is_cleared_by_the_episode_ending():
    chains = seclusion(S + 30 * D, ended=S + 9 * H)
    assert chains["SECL_INDEPENDENT_MDT"].breaches == (S + 8 * H,)
    assert chains["SECL_INDEPENDENT_MDT"].satisfied_at == (S + 9 * H,)


def test_an_end_after_as_of_does_not_count_yet():
    chains = seclusion(S + 2 * H + M, ended=S + 3 * H)
    assert chains["SECL_NURSING_REVIEW"].breaches == (S + 2 * H,)
    assert chains["SECL_NURSING_REVIEW"].next_due == S + 4 * H


def test_nothing_before_the_start():
    chains = seclusion(S - M)
    assert all(c.breaches == () and c.next_due is None for c in chains.values())
    chains = segregation(S - M)
    assert all(c.breaches == () and c.next_due is None for c in chains.values())


def test_reviews_recorded_as_happening_after_as_of_do_not_count():
    chains = seclusion(S + 2 * H + M, reviews=(("nursing", S + 2 * H + 2 * M),))
    assert chains["SECL_NURSING_REVIEW"].breaches == (S + 2 * H,)
    assert chains["SECL_NURSING_REVIEW"].satisfied_at == (None,)


# --- late actions: a breach already done --------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "setup", "due", "done"),
    [
        ("SECL_MEDICAL_FIRST", {"reviews": (("medical", S + 90 * M),)}, S + H, S + 90 * M),
        ("SECL_NURSING_REVIEW", {"reviews": (("nursing", S + 150 * M),)}, S + 2 * H, S + 150 * M),
        ("SECL_MDT_REVIEW", {"reviews": (("mdt", S + 25 * H),)}, S + 24 * H, S + 25 * H),
        (
            "SECL_INDEPENDENT_MDT",
            {"reviews": (("independent_mdt", S + 9 * H),)},
            S + 8 * H,
            S + 9 * H,
        ),
        ("SECL_OBSERVATION", {"observations": (S + 20 * M,)}, S + 15 * M, S + 20 * M),
    ],
)
def test_a_late_seclusion_action_is_a_missed_deadline_with_done_at(rule, setup, due, done):
    chains = seclusion(done + M, **setup)
    assert chains[rule].breaches[0] == due and chains[rule].satisfied_at[0] == done
    missed = [m for m in evaluate.missed(chains) if m.rule == rule]
    assert missed[0] == evaluate.Missed(rule, due, done)


@pytest.mark.parametrize(
    ("rule", "setup", "due", "done"),
    [
        ("LTS_AC_REVIEW", {"reviews": (("mdt", S + 26 * H),)}, S + 24 * H, S + 26 * H),
        ("LTS_MDT_REVIEW", {"reviews": (("mdt", S + 8 * D),)}, S + 7 * D, S + 8 * D),
        (
            "LTS_EXTERNAL_REVIEW",
            {"reviews": (("external", S + 100 * D),)},
            local(2026, 6, 10, 8, 0),
            S + 100 * D,
        ),
        ("LTS_NOTIFICATION", {"commissioner": S, "imha": S + 30 * H}, S + 24 * H, S + 30 * H),
        ("LTS_ICETR", {"reviews": (("icetr", S + 30 * D),)}, S + 28 * D, S + 30 * D),
    ],
)
def test_a_late_segregation_action_is_a_missed_deadline_with_done_at(rule, setup, due, done):
    chains = segregation(done + M, **setup)
    missed = [m for m in evaluate.missed(chains) if m.rule == rule]
    assert missed[0] == evaluate.Missed(rule, due, done)


# --- next_due per review kind -----------------------------------------------------------------


def test_seclusion_next_due_per_kind():
    chains = seclusion(S + 10 * M)
    assert evaluate.next_due(chains, evaluate.SECLUSION_DUE_KEYS) == {
        "medical": S + H,
        "nursing": S + 2 * H,
        "mdt": S + 24 * H,
        "independent_mdt": S + 8 * H,
        "observation": S + 15 * M,
    }
    chains = seclusion(
        S + 3 * H,
        reviews=(("medical", S + 30 * M), ("nursing", S + 100 * M), ("mdt", S + 2 * H)),
        observations=(S + 170 * M,),
    )
    assert evaluate.next_due(chains, evaluate.SECLUSION_DUE_KEYS) == {
        "medical": S + 14 * H,  # the mdt is medical too, and 12-hourly after it
        "nursing": S + 100 * M + 2 * H,
        "mdt": S + 26 * H,
        "independent_mdt": S + 8 * H,
        "observation": S + 185 * M,
    }


def test_seclusion_next_due_after_a_missed_first_review_and_met_independent_review():
    chains = seclusion(S + 2 * H, reviews=(("independent_mdt", S + 90 * M),))
    due = evaluate.next_due(chains, evaluate.SECLUSION_DUE_KEYS)
    assert due["medical"] == S + 90 * M + 4 * H  # independent mdt is medical
    assert due["independent_mdt"] is None  # met: nothing more due
    chains = seclusion(S + 2 * H)
    assert evaluate.next_due(chains, evaluate.SECLUSION_DUE_KEYS)["medical"] == S + 5 * H


def test_segregation_next_due_per_kind():
    chains = segregation(S + H)
    assert evaluate.next_due(chains, evaluate.SEGREGATION_DUE_KEYS) == {
        "approved_clinician": S + 24 * H,
        "mdt": S + 7 * D,
        "external": local(2026, 6, 10, 8, 0),
        "notification": S + 24 * H,
        "icetr": S + 28 * D,
    }
    chains = segregation(
        S + 2 * D,
        reviews=(("mdt", S + 30 * H),),
        commissioner=S + H,
        imha=S + 2 * H,
        needs_icetr=False,
    )
    assert evaluate.next_due(chains, evaluate.SEGREGATION_DUE_KEYS) == {
        "approved_clinician": S + 54 * H,
        "mdt": S + 30 * H + 7 * D,
        "external": local(2026, 6, 10, 8, 0),
        "notification": None,
        "icetr": None,
    }


def test_next_due_is_all_none_once_ended():
    chains = seclusion(S + 3 * H, ended=S + 2 * H + 30 * M)
    assert set(evaluate.next_due(chains, evaluate.SECLUSION_DUE_KEYS).values()) == {None}
    chains = segregation(S + 3 * D, ended=S + 2 * D)
    assert set(evaluate.next_due(chains, evaluate.SEGREGATION_DUE_KEYS).values()) == {None}


# --- missed: every passed deadline, oldest first ----------------------------------------------


def test_missed_lists_every_passed_deadline_oldest_first():
    chains = seclusion(S + 2 * H + M, observations=(S + 20 * M,))
    missed = evaluate.missed(chains)
    expected = {
        ("SECL_OBSERVATION", S + 15 * M, S + 20 * M),  # late, then the chain restarts from it
        ("SECL_MEDICAL_FIRST", S + H, None),
        ("SECL_NURSING_REVIEW", S + 2 * H, None),
        *(("SECL_OBSERVATION", S + 20 * M + n * 15 * M, None) for n in range(1, 7)),
    }
    assert {(m.rule, m.due_at, m.done_at) for m in missed} == expected
    assert len(missed) == len(expected)
    assert [m.due_at for m in missed] == sorted(m.due_at for m in missed)
    # deadlines at the same instant come in a stable order, by rule code
    same = [(m.due_at, m.rule) for m in missed]
    assert same == sorted(same)


def test_missed_is_empty_when_every_deadline_was_met():
    chains = seclusion(
        S + 90 * M,
        reviews=(("medical", S + 50 * M), ("nursing", S + 80 * M)),
        observations=tuple(S + n * 14 * M for n in range(1, 7)),
    )
    assert evaluate.missed(chains) == []
