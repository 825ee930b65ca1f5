"""Properties of the rules, over many generated histories rather than a few chosen ones.

On the pure deadline chains (app/deadlines.py, app/segregation/evaluate.py), which the
board and the rules share: recording an action never adds a breach; the order actions are
given in does not matter; a later run sees every breach an earlier one saw, and no other
before that time.

Through the engine against the database (records made through the API, as staff make
them): a seclusion with generated reviews, entered in one order and in the reverse order,
raises the same alerts; running the rules again raises nothing; one more review never
raises an alert more.

Deterministic for CI: derandomized, no example database, a bounded number of examples.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app import deadlines
from app.alerts import engine
from app.alerts.models import Alert
from app.deadlines import Interval
from app.segregation import evaluate
from app.segregation.evaluate import Review
from tests.security.test_route_access import rolled_back

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PURE = settings(max_examples=300, derandomize=True, database=None, deadline=None)

minutes = st.integers(min_value=0, max_value=72 * 60)
actions_st = st.lists(minutes, max_size=12)
interval_st = st.sampled_from(["PT15M", "PT1H", "PT2H", "PT4H", "PT12H", "P1D"])
review_st = st.tuples(st.sampled_from(["medical", "nursing", "mdt", "independent_mdt"]), minutes)


def at(offset: int) -> datetime:
    return START + timedelta(minutes=offset)


def fixed_chain(actions: list[int], interval: str, as_of: int) -> deadlines.Chain:
    return deadlines.chain(
        start=START,
        as_of=at(as_of),
        actions=[at(a) for a in actions],
        interval=Interval.parse(interval),
    )


def medical(reviews: list[tuple[str, int]], as_of: int, psychiatrist: bool) -> deadlines.Chain:
    chain, _ = evaluate.medical_chain(
        start=START,
        as_of=at(as_of),
        reviews=[Review(kind, at(offset)) for kind, offset in reviews],
        ended_at=None,
        authorised_by_psychiatrist=psychiatrist,
        first=Interval.parse("PT1H"),
        before_mdt=Interval.parse("PT4H"),
        after_mdt=Interval.parse("PT12H"),
    )
    return chain


# --- the pure chains ------------------------------------------------------------------------


@PURE
@given(actions=actions_st, extra=minutes, interval=interval_st, as_of=minutes)
def test_recording_an_action_never_adds_a_breach(actions, extra, interval, as_of):
    before = fixed_chain(actions, interval, as_of)
    after = fixed_chain([*actions, extra], interval, as_of)
    assert len(after.breaches) <= len(before.breaches)


@PURE
@given(
    reviews=st.lists(review_st, max_size=10), extra=review_st, as_of=minutes, psych=st.booleans()
)
def test_recording_a_review_never_adds_a_medical_breach(reviews, extra, as_of, psych):
    before = medical(reviews, as_of, psych)
    after = medical([*reviews, extra], as_of, psych)
    assert len(after.breaches) <= len(before.breaches)


@PURE
@given(reviews=st.lists(review_st, max_size=10), as_of=minutes, psych=st.booleans(), data=st.data())
def test_breaches_do_not_depend_on_the_order_reviews_were_entered(reviews, as_of, psych, data):
    shuffled = data.draw(st.permutations(reviews))
    assert medical(shuffled, as_of, psych) == medical(reviews, as_of, psych)


@PURE
@given(actions=actions_st, interval=interval_st, first=minutes, later=minutes)
def test_a_later_run_sees_the_same_breaches_up_to_an_earlier_one(actions, interval, first, later):
    """Catch-up after downtime: a run at a later time finds every breach the earlier run
    found, and none before the earlier run's time that it did not (the records being those
    entered by the earlier run)."""
    early, late = sorted((first, later))
    entered = [a for a in actions if a <= early]
    seen_early = fixed_chain(entered, interval, early).breaches
    seen_late = fixed_chain(entered, interval, late).breaches
    assert [b for b in seen_late if b < at(early)] == list(seen_early)


@PURE
@given(actions=actions_st, interval=interval_st, as_of=minutes)
def test_every_breach_is_a_deadline_missed_before_as_of(actions, interval, as_of):
    chain = fixed_chain(actions, interval, as_of)
    step = Interval.parse(interval).fixed_length()
    assert step is not None
    assert list(chain.breaches) == sorted(set(chain.breaches))
    for due in chain.breaches:
        assert due < at(as_of)
        # No action in the interval that ends at the missed deadline.
        assert not any(due - step < at(a) <= due for a in actions)
    if chain.next_due is not None:
        assert chain.next_due >= at(as_of)


@PURE
@given(actions=actions_st, interval=interval_st, as_of=minutes, due_after=interval_st)
def test_a_one_off_deadline_met_in_time_is_never_a_breach(actions, interval, as_of, due_after):
    chain = deadlines.single(
        start=START,
        as_of=at(as_of),
        due_after=Interval.parse(due_after),
        actions=[at(a) for a in actions],
    )
    due = Interval.parse(due_after).after(START)
    met = any(at(a) <= due and at(a) <= at(as_of) for a in actions)
    assert (chain.breaches == ()) or not met
    assert len(chain.breaches) <= 1


# --- through the engine, against the database ---------------------------------------------

# A seclusion authorised by the nurse in charge 30 hours before the clock; reviews inside
# its first day; rules run at the end of that day.
ENGINE_REVIEW = st.tuples(
    st.sampled_from(["medical", "nursing", "mdt", "independent_mdt"]),
    st.integers(min_value=1, max_value=24 * 60),
)


async def test_alerts_from_the_engine_do_not_depend_on_order_reruns_or_one_more_review(
    app, session, client, world, clock
):
    admission = await world.admit(bed="A1", at=clock.now - timedelta(days=3))
    admission_id = admission.id
    start = clock.now - timedelta(hours=30)
    as_of = start + timedelta(hours=24)
    headers = world.auth("admin")
    loop = asyncio.get_running_loop()

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await client.post(f"/api/v1{path}", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def alerts_after(reviews: list[tuple[str, int]], runs: int = 1) -> list[Any]:
        """The alerts (rule, subject type, due, status) after entering these reviews in this
        order and running the rules ``runs`` times at as_of; all undone afterwards."""
        async with rolled_back(session):
            seclusion = await post(
                f"/admissions/{admission_id}/seclusions",
                {
                    "started_at": start.isoformat(),
                    "authorised_by_role": "nurse_in_charge",
                    "reason": "Assaulted another patient",
                },
            )
            for kind, offset in reviews:
                await post(
                    f"/seclusions/{seclusion['id']}/reviews",
                    {
                        "kind": kind,
                        "at": (start + timedelta(minutes=offset)).isoformat(),
                        "note": f"{kind} review",
                    },
                )
            found = []
            for _ in range(runs):
                result = await engine.run_rules(session, as_of=as_of, now=clock.now, trigger="test")
                await session.commit()
                found.append(len(result.raised))
            rows = await session.scalars(select(Alert).execution_options(populate_existing=True))
            alerts = sorted((a.rule, a.subject_type, a.due_at, a.status) for a in rows)
            return [alerts, found]

    def on_loop(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(120)

    @settings(
        max_examples=12,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(reviews=st.lists(ENGINE_REVIEW, max_size=5), extra=ENGINE_REVIEW)
    def check(reviews: list[tuple[str, int]], extra: tuple[str, int]) -> None:
        alerts, raised = on_loop(alerts_after(reviews, runs=2))
        # A rerun at the same as_of raises nothing more.
        assert raised[1] == 0, f"the second run raised {raised[1]}"
        assert raised[0] == len(alerts)
        # The same records entered in the reverse order: the same alerts.
        reversed_alerts, _ = on_loop(alerts_after(list(reversed(reviews))))
        assert reversed_alerts == alerts
        # One more review never raises an alert more.
        more, _ = on_loop(alerts_after([*reviews, extra]))
        assert len(more) <= len(alerts), (extra, more, alerts)
        # And the seclusion's first medical review, missed unless a medical, MDT or
        # independent MDT review came within the hour, is raised exactly then.
        first_hour = any(k != "nursing" and o <= 60 for k, o in reviews)
        assert any(a[0] == "SECL_MEDICAL_FIRST" for a in alerts) is not first_hour

    await asyncio.to_thread(check)
