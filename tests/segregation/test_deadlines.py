"""The deadline calculator, walked at and around every boundary (RULES.md sections 1 and 2)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.deadlines import Interval, chain, single
from app.segregation.evaluate import (
    Episode,
    Review,
    independent_review,
    independent_review_line,
    medical_chain,
)

S = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
SEC = timedelta(seconds=1)
TWO_H = Interval.parse("PT2H")


def t(hours: float) -> datetime:
    return S + timedelta(hours=hours)


# --- the generic chain: "at least every I" -------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "actions", "breaches", "next_due"),
    [
        # before the first deadline: nothing breached, due at S + 2h
        (t(1), [], [], t(2)),
        # exactly at the deadline: not yet breached (strictly after)
        (t(2), [], [], t(2)),
        # one second after: breached at S + 2h, next due S + 4h
        (t(2) + SEC, [], [t(2)], t(4)),
        # an action exactly at the deadline meets it
        (t(2) + SEC, [t(2)], [], t(4)),
        # an action just after the deadline does not (breach stays, chain restarts from it)
        (t(2) + 2 * SEC, [t(2) + SEC], [t(2)], t(4) + SEC),
        # an action moves the next deadline to r + I
        (t(3), [t(1)], [], t(3)),
        (t(3) + SEC, [t(1)], [t(3)], t(5)),
        # several actions in one interval: the latest sets the next deadline
        (t(3), [t(0.5), t(1.5)], [], t(3.5)),
        # each missed interval is one breach
        (t(7), [], [t(2), t(4), t(6)], t(8)),
        # actions recorded after as_of do not count (late entry is judged at its own time)
        (t(2) + SEC, [t(1)], [], t(3)),
        # an action before the start does not count
        (t(2) + SEC, [S - M], [t(2)], t(4)),
        # an action at the start counts
        (t(2), [S], [], t(2)),
        # as_of before the start: nothing at all
        (S - M, [], [], None),
    ],
)
def test_chain_boundaries(as_of, actions, breaches, next_due):
    result = chain(
        start=S,
        as_of=as_of,
        actions=[a for a in actions if a <= as_of] + [a for a in actions if a > as_of],
        interval=TWO_H,
    )
    assert list(result.breaches) == breaches
    assert result.next_due == next_due


def test_actions_after_as_of_are_ignored_even_if_given():
    result = chain(start=S, as_of=t(2) + SEC, actions=[t(2) + H], interval=TWO_H)
    assert result.breaches == (t(2),) and result.satisfied_at == (None,)


def test_a_late_action_is_a_breach_already_satisfied():
    # After downtime: the review due at 10:00 happened at 10:30; a run at 13:00 still sees it.
    result = chain(start=S, as_of=t(4.5), actions=[t(2.5)], interval=TWO_H)
    assert result.breaches == (t(2),)
    assert result.satisfied_at == (t(2.5),)
    # the late review restarts the chain: next due two hours after it
    assert result.next_due == t(4.5)
    later = chain(start=S, as_of=t(5), actions=[t(2.5)], interval=TWO_H)
    assert later.breaches == (t(2), t(4.5)) and later.satisfied_at == (t(2.5), None)


@pytest.mark.parametrize(
    ("ended", "breaches"),
    [
        (t(2) - SEC, []),  # ended before the deadline
        (t(2), []),  # a deadline at ended_at is no breach
        (t(2) + SEC, [t(2)]),  # ended just after: breached
        (t(5), [t(2), t(4)]),  # the chain stops at the end
    ],
)
def test_the_chain_stops_when_the_episode_ends(ended, breaches):
    result = chain(start=S, as_of=t(24), actions=[], interval=TWO_H, ended_at=ended)
    assert list(result.breaches) == breaches and result.next_due is None


def test_an_end_recorded_after_as_of_does_not_count_yet():
    result = chain(start=S, as_of=t(3), actions=[], interval=TWO_H, ended_at=t(5))
    assert result.breaches == (t(2),) and result.next_due == t(4)


# --- seclusion: the medical review chain ----------------------------------------------------

FIRST, FOUR, TWELVE = Interval.parse("PT1H"), Interval.parse("PT4H"), Interval.parse("PT12H")


def medical(as_of, reviews, psychiatrist=False, ended=None):
    return medical_chain(
        start=S,
        as_of=as_of,
        reviews=reviews,
        ended_at=ended,
        authorised_by_psychiatrist=psychiatrist,
        first=FIRST,
        before_mdt=FOUR,
        after_mdt=TWELVE,
    )


@pytest.mark.parametrize(
    ("as_of", "reviews", "breaches", "next_due"),
    [
        (t(1), [], [], t(1)),  # first review due within 1 h
        (t(1) + SEC, [], [t(1)], t(5)),  # missed: then 4-hourly from there
        (t(1) + SEC, [Review("medical", t(1))], [], t(5)),  # exactly at 1 h: met
        (
            t(1) + SEC,
            [Review("mdt", t(0.5))],
            [],
            t(12.5),
        ),  # an MDT counts as medical, and starts 12-hourly
        # an independent MDT review counts as medical but keeps the 4-hourly rhythm
        (t(1) + SEC, [Review("independent_mdt", t(0.9))], [], t(4.9)),
        (t(1) + SEC, [Review("nursing", t(0.5))], [t(1)], t(5)),  # a nursing review is not medical
        (t(4.5), [Review("medical", t(0.5))], [], t(4.5)),  # 4-hourly after the first
        (t(4.5) + SEC, [Review("medical", t(0.5))], [t(4.5)], t(8.5)),
        # after the first MDT review, 12-hourly
        (t(15.9), [Review("medical", t(0.5)), Review("mdt", t(4))], [], t(16)),
        (t(16) + SEC, [Review("medical", t(0.5)), Review("mdt", t(4))], [t(16)], t(28)),
    ],
)
def test_medical_reviews(as_of, reviews, breaches, next_due):
    result, first_is_one_hour = medical(as_of, reviews)
    assert first_is_one_hour
    assert list(result.breaches) == breaches and result.next_due == next_due


def test_a_psychiatrist_authorising_is_the_first_review():
    result, first_is_one_hour = medical(t(1) + SEC, [], psychiatrist=True)
    assert not first_is_one_hour
    assert result.breaches == () and result.next_due == t(4)
    result, _ = medical(t(4) + SEC, [], psychiatrist=True)
    assert result.breaches == (t(4),)


def test_seclusion_ending_within_the_hour_needs_no_medical_review():
    result, _ = medical(t(3), [], ended=t(0.75))
    assert result.breaches == () and result.next_due is None


# --- seclusion: nursing (2 h), MDT (24 h), observation (15 min) ------------------------------


@pytest.mark.parametrize(("iso", "due"), [("PT2H", t(2)), ("P1D", t(24)), ("PT15M", S + 15 * M)])
def test_other_seclusion_chains_at_their_boundaries(iso, due):
    interval = Interval.parse(iso)
    assert chain(start=S, as_of=due, actions=[], interval=interval).breaches == ()
    assert chain(start=S, as_of=due + SEC, actions=[], interval=interval).breaches == (due,)
    assert chain(start=S, as_of=due + SEC, actions=[due], interval=interval).breaches == ()


# --- independent MDT review: 8 h in one episode, or 12 h in any 48 h --------------------------


def ep(i, start_h, end_h):
    return Episode(i, t(start_h), None if end_h is None else t(end_h))


@pytest.mark.parametrize(
    ("episode", "earlier", "as_of", "line"),
    [
        (ep(1, 0, None), [], t(1), t(8)),  # open: the line is 8 h from its start
        (ep(1, 0, 7.99), [], t(9), None),  # ended before 8 h
        (ep(1, 0, 8), [], t(9), None),  # ended exactly at 8 h: no deadline
        (ep(1, 0, 9), [], t(10), t(8)),
        # 12 in 48: 6 h yesterday, then 6 h today crosses at 6 h into today's episode
        (ep(2, 24, None), [ep(1, 0, 6)], t(25), t(30)),
        # the earlier episode just leaves the window: 5 h at 0-5, new one from 44 h
        # at 44+x the window [x-4, 44+x] holds 5-(x-4) of the old (for x>=4) + x of the new
        (ep(2, 44, None), [ep(1, 0, 5)], t(45), t(52)),
        # more than 48 h apart: only the 8 h line
        (ep(2, 60, None), [ep(1, 0, 7)], t(61), t(68)),
    ],
)
def test_independent_review_line(episode, earlier, as_of, line):
    assert independent_review_line(episode, earlier, as_of=as_of) == line


def test_independent_review_breach_met_and_cleared():
    episode = ep(1, 0, None)
    assert independent_review(episode, [], [], as_of=t(8)).breaches == ()
    late = independent_review(episode, [], [], as_of=t(8) + SEC)
    assert late.breaches == (t(8),) and late.satisfied_at == (None,)
    met = independent_review(episode, [], [Review("independent_mdt", t(8))], as_of=t(9))
    assert met.breaches == ()
    cleared = independent_review(episode, [], [Review("independent_mdt", t(9))], as_of=t(10))
    assert cleared.breaches == (t(8),) and cleared.satisfied_at == (t(9),)
    # an ordinary MDT review is not an independent one
    assert independent_review(episode, [], [Review("mdt", t(7))], as_of=t(9)).breaches == (t(8),)
    # cleared by the episode ending
    ended = independent_review(ep(1, 0, 10), [], [], as_of=t(11))
    assert ended.breaches == (t(8),) and ended.satisfied_at == (t(10),)


def test_an_independent_review_before_the_crossing_episode_does_not_count():
    earlier = ep(1, 0, 6)
    episode = ep(2, 24, None)
    result = independent_review(episode, [earlier], [Review("independent_mdt", t(5))], as_of=t(31))
    assert result.breaches == (t(30),)


# --- long-term segregation ------------------------------------------------------------------


def test_lts_approved_clinician_every_24h_and_mdt_counts():
    d = Interval.parse("PT24H")
    assert chain(start=S, as_of=t(24), actions=[], interval=d).breaches == ()
    assert chain(start=S, as_of=t(24) + SEC, actions=[], interval=d).breaches == (t(24),)


def test_lts_mdt_every_7_days():
    d = Interval.parse("P7D")
    assert chain(start=S, as_of=S + timedelta(days=7), actions=[], interval=d).breaches == ()
    assert chain(
        start=S, as_of=S + timedelta(days=7, seconds=1), actions=[], interval=d
    ).breaches == (S + timedelta(days=7),)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # calendar months in UK time; the end of a short month clamps
        (datetime(2026, 1, 31, 10, 0, tzinfo=UTC), datetime(2026, 4, 30, 9, 0, tzinfo=UTC)),
        (datetime(2026, 3, 10, 8, 0, tzinfo=UTC), datetime(2026, 6, 10, 7, 0, tzinfo=UTC)),
        (datetime(2026, 5, 1, 9, 0, tzinfo=UTC), datetime(2026, 8, 1, 9, 0, tzinfo=UTC)),
        (datetime(2026, 8, 15, 12, 0, tzinfo=UTC), datetime(2026, 11, 15, 13, 0, tzinfo=UTC)),
    ],
)
def test_external_review_at_three_calendar_months(start, due):
    months = Interval.parse("P3M")
    assert months.after(start) == due
    assert chain(start=start, as_of=due, actions=[], interval=months).breaches == ()
    result = chain(start=start, as_of=due + SEC, actions=[], interval=months)
    assert result.breaches == (due,) and result.next_due == months.after(due)


def test_notification_within_24h_needs_both():
    day = Interval.parse("PT24H")
    # both informed: the later of the two is when the duty was met
    both = single(start=S, as_of=t(30), due_after=day, actions=[max(t(2), t(20))])
    assert both.breaches == ()
    late = single(start=S, as_of=t(30), due_after=day, actions=[t(25)])
    assert late.breaches == (t(24),) and late.satisfied_at == (t(25),)
    assert single(start=S, as_of=t(24), due_after=day, actions=[]).next_due == t(24)
    assert single(start=S, as_of=t(30), due_after=day, actions=[], ended_at=t(23)).breaches == ()


@pytest.mark.parametrize("bad", ["2 hours", "PT0H", "P", "-PT2H", ""])
def test_bad_intervals_are_refused(bad):
    with pytest.raises(ValueError):
        Interval.parse(bad)
