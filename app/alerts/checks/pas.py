"""The PAS feed's rules (issue 21): ADM_PURPOSE_MISSING and FEED_SILENT.

ADM_PURPOSE_MISSING: an admission that arrived from the feed holds PURPOSE_NOT_RECORDED for
its reason and expected benefit; the deadline is ``admitted_at + within``, met when the ward
recorded both (``purpose_recorded_at``) at or before it, or by a discharge before it.

FEED_SILENT: the feed is alive while messages arrive. Silence is counted only in the working
day (local time, ``day_starts`` to ``day_ends``): a quiet night is normal, a quiet morning
means the board no longer hears who is admitted, moved or discharged. Each silence longer
than ``silence`` (of day time) is one breach, due when that much day time has passed since
the last message, cleared by the next message. A trust whose feed never sent a message has
no feed to fall silent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import Breach, CheckSpec, RunContext
from app.alerts.checks.window import stays_of, still_relevant
from app.clock import local_tz
from app.deadlines import Interval, single
from app.pas.models import PasMessage
from app.rules.catalogue import RuleCode
from app.wards.models import PURPOSE_NOT_RECORDED, Admission

# The alerts' subject for the feed: one feed per installation.
FEED_SUBJECT_ID = 1
# How far before the window's start a windowed run reads messages: longer than any night,
# so the message that began a silence still open at the window's start is among them.
_LOOK_BACK = timedelta(days=2)


async def purpose_missing(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    code = RuleCode.ADM_PURPOSE_MISSING
    within = Interval.parse(str(ctx.parameters[code]["within"]))
    rows = (
        await session.execute(
            select(
                Admission.id,
                Admission.admitted_at,
                Admission.discharged_at,
                Admission.purpose_recorded_at,
            ).where(
                Admission.admitted_at <= ctx.as_of,
                or_(
                    Admission.reason == PURPOSE_NOT_RECORDED,
                    Admission.expected_benefit == PURPOSE_NOT_RECORDED,
                    Admission.purpose_recorded_at.is_not(None),
                ),
                still_relevant(
                    ctx, Admission.discharged_at, Admission.created_at, Admission.id, code
                ),
            )
        )
    ).all()
    if not rows:
        return []
    stays = await stays_of(session, [row[0] for row in rows])
    result = []
    for admission_id, admitted_at, discharged_at, recorded_at in rows:
        found = single(
            start=admitted_at,
            as_of=ctx.as_of,
            due_after=within,
            actions=[recorded_at] if recorded_at is not None else [],
            ended_at=discharged_at,
        )
        for due, done in zip(found.breaches, found.satisfied_at, strict=True):
            ended = (
                discharged_at if discharged_at is not None and discharged_at <= ctx.as_of else None
            )
            cleared = min((m for m in (done, ended) if m is not None), default=None)
            result.append(
                Breach(
                    code,
                    "admission",
                    admission_id,
                    due,
                    admission_id,
                    stays.ward_at(admission_id, due),
                    cleared_at=cleared,
                )
            )
    return result


def day_windows(
    day: date, starts: int, ends: int, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The working day of one local date as UTC intervals. ``ends`` of 24 is midnight;
    ``starts`` after ``ends`` is a day that runs over midnight (two pieces); equal: all day."""

    def at(hour: int) -> datetime:
        if hour == 24:
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)

    if starts == ends:
        return [(at(0), at(24))]
    if starts < ends:
        return [(at(starts), at(ends))]
    return [(at(0), at(ends)), (at(starts), at(24))]


def silent_until(last: datetime, silence: timedelta, starts: int, ends: int) -> datetime:
    """The moment ``silence`` of working-day time has passed since ``last``."""
    zone = local_tz()
    left = silence
    day = last.astimezone(zone).date() - timedelta(days=1)
    while True:
        for begin, end in day_windows(day, starts, ends, zone):
            begin = max(begin, last)
            if end <= begin:
                continue
            if end - begin >= left:
                return begin + left
            left -= end - begin
        day += timedelta(days=1)


async def feed_silent(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    code = RuleCode.FEED_SILENT
    parameters = ctx.parameters[code]
    silence = Interval.parse(str(parameters["silence"])).fixed_length() or timedelta(minutes=30)
    starts, ends = int(parameters["day_starts"]), int(parameters["day_ends"])
    received = select(PasMessage.received_at).where(PasMessage.received_at <= ctx.as_of)
    since: datetime | None = None
    if ctx.window_start is not None:
        pending = [due for _, due in ctx.pending.get(code, [])]
        since = min(
            [ctx.window_start - _LOOK_BACK, *[due - _LOOK_BACK - silence for due in pending]]
        )
    times: list[datetime] = []
    if since is not None:
        before = await session.scalar(
            select(PasMessage.received_at)
            .where(PasMessage.received_at < since)
            .order_by(PasMessage.received_at.desc())
            .limit(1)
        )
        times = [before] if before is not None else []
        received = received.where(PasMessage.received_at >= since)
    times += list(await session.scalars(received.order_by(PasMessage.received_at)))
    if not times:
        return []  # no feed (no message ever), or none by as_of: nothing to fall silent
    result = []
    following_times: list[datetime | None] = [*times[1:], None]
    for last, following in zip(times, following_times, strict=True):
        if following is not None and following - last <= silence:
            continue  # day time between them is at most the time between them
        due = silent_until(last, silence, starts, ends)
        if due >= ctx.as_of or (following is not None and following <= due):
            continue
        result.append(
            Breach(code, "pas_feed", FEED_SUBJECT_ID, due, None, None, cleared_at=following)
        )
    return result


CHECKS = (
    CheckSpec((RuleCode.ADM_PURPOSE_MISSING,), purpose_missing),
    CheckSpec((RuleCode.FEED_SILENT,), feed_silent),
)
