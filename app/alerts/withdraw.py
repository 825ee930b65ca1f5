"""Late-typed records move alerts both ways (RULES.md 1.1).

A run judges the records as they stand. For the rules with a deadline chain or an end, a
check tells the run which subjects it judged whole (``RunContext.examine``): every deadline
of their chains up to as_of is among the breaches it returned. So an alert of such a subject
that is not among them any more was never a deadline: a review typed in later moved the
chain, the action was done at or before it, or the episode had ended. It is **withdrawn**,
naming the record that withdrew it; it leaves the queue and stays in the history and the
audit log. The other way round, a withdrawn alert whose deadline is a breach again (a later
record moved the chain back onto it) is reinstated, and a cleared alert whose action turns
out to have come earlier gets that time. Alerts after the run are then a function of the
records and as_of, whatever order the records were typed in and whenever earlier runs were.

What a person did stays: an acknowledged alert is withdrawn too (its note is kept: it is no
longer owed, and the person who took it on sees why), a resolved one stays resolved.
An alert raised under other parameters than the rule's now (a threshold changed since) is
left alone: RULES.md 3 keeps it to the parameters it was raised under, by which the
deadline may well have been missed; unless the episode (or admission) had ended at or
before its deadline, when nothing was owed under any threshold.

The work is proportional to the subjects the check read, which a windowed run keeps to
those with records typed since the previous run, an alert to clear, or a deadline in the
window: one indexed read of their alerts per rule, and a write only for what changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import Breach, Key, RunContext, Typed
from app.alerts.models import Alert
from app.audit.models import AuditEntry
from app.audit.service import SYSTEM, snapshot
from app.clock import local_tz
from app.rules import settings
from app.rules.catalogue import RuleCode
from app.sql import among

# The statuses a run still judges: a resolved alert is a person's, and stays as they left it.
FOLLOWED = ("open", "acknowledged", "cleared", "withdrawn")
WITHDRAWABLE = ("open", "acknowledged", "cleared")
# Rules whose alerts are judged at their own due, whatever the record now gives (app/alerts/
# checks/force.py: an end typed late moves the deadline, but the one already raised stays a
# breach until its action is done; a long stay keeps the due it was raised at): an alert no
# longer found is withdrawn only by its action or end ("ends" records) at or before its due,
# cleared by one after it, and otherwise left alone (the reading that keeps the alert).
OWN_DUE = frozenset({RuleCode.RI_DEBRIEF, RuleCode.RI_RECORD_INCOMPLETE, RuleCode.LOS_LONG})
# A record stamped in a request that began a little before the alert was raised can still be
# the one typed "after" it (as engine.RECORDING_MARGIN).
MARGIN = timedelta(minutes=10)


@dataclass
class Followed:
    withdrawn: list[Alert] = field(default_factory=list)
    reinstated: list[Alert] = field(default_factory=list)
    recleared: list[Alert] = field(default_factory=list)

    def __iadd__(self, other: Followed) -> Followed:
        self.withdrawn += other.withdrawn
        self.reinstated += other.reinstated
        self.recleared += other.recleared
        return self


def withdrawer(due_at: datetime, raised_at: datetime, records: Sequence[Typed]) -> Typed | None:
    """The record that withdrew an alert due at ``due_at``: an end (or notification) at or
    before the deadline; else the latest-dated record typed since the alert was raised that
    happened at or before the deadline (the review that met it, or moved the chain); else
    the latest record typed since; else none is known (the alert is still withdrawn)."""
    ends = [r for r in records if r.recorded_at is None and r.at <= due_at]
    if ends:
        return max(ends, key=lambda r: r.at)
    since = [
        r for r in records if r.recorded_at is not None and r.recorded_at >= raised_at - MARGIN
    ]
    met = [r for r in since if r.at <= due_at]
    if met:
        return max(met, key=lambda r: (r.at, r.id))
    if since:
        return max(since, key=lambda r: (r.recorded_at or r.at, r.id))
    return None


def reason(record: Typed | None) -> str:
    """The sentence the alert page and the withdrawn notice show."""
    if record is None:
        return "the records typed in since show the deadline was met"
    at = record.at.astimezone(local_tz())
    return f"the {record.what} at {at:%H:%M} on {at:%d %b %Y} was recorded late"


def _action(alert: Any, breach: Breach | None, rule: settings.RuleInForce, as_of: datetime) -> str:
    """What this run does to the alert (a plain row or an Alert): '' for nothing."""
    if breach is None:
        if alert.status not in WITHDRAWABLE:
            return ""
        # Raised under other thresholds: only an end before it shows nothing was owed.
        same = dict(rule.parameters) == alert.parameters and alert.rule not in OWN_DUE
        return "withdraw" if same else "withdraw_ended"
    if alert.status == "withdrawn":
        return "reinstate"
    # A cleared one whose action turned out to come earlier (typed late), or whose action
    # is no longer the first after the deadline (the run can see that far), is re-timed.
    later = breach.cleared_at is not None and alert.status == "cleared"
    if later and (
        breach.cleared_at < alert.cleared_at
        or (breach.cleared_at != alert.cleared_at and alert.cleared_at <= as_of)
    ):
        return "reclear"
    return ""


async def follow(
    session: AsyncSession,
    ctx: RunContext,
    breaches: list[Breach],
    rules: dict[str, settings.RuleInForce],
    now: datetime,
) -> Followed:
    """Withdraw, reinstate or re-time the alerts of the subjects the check judged whole."""
    done = Followed()
    if not ctx.examined:
        return done
    found: dict[Key, Breach] = {b.key: b for b in breaches}
    wanted: dict[int, str] = {}
    for code, subjects in ctx.examined.items():
        by_type: dict[str, list[int]] = {}
        for subject_type, subject_id in subjects:
            by_type.setdefault(subject_type, []).append(subject_id)
        for subject_type, ids in by_type.items():
            # Only deadlines the run could judge: after as_of nothing is known yet.
            rows = await session.execute(
                select(
                    Alert.id, Alert.rule, Alert.subject_type, Alert.subject_id, Alert.due_at,
                    Alert.status, Alert.cleared_at, Alert.parameters,
                ).where(
                    Alert.rule == code, Alert.subject_type == subject_type,
                    among(Alert.subject_id, ids), Alert.status.in_(FOLLOWED),
                    Alert.due_at < ctx.as_of,
                )
            )  # fmt: skip
            for row in rows:
                key = (row.rule, row.subject_type, row.subject_id, row.due_at)
                action = _action(row, found.get(key), rules[code], ctx.as_of)
                if action:
                    wanted[row.id] = action
    if not wanted:
        return done
    evidence: dict[tuple[str, str, int], list[Typed]] = {}
    # Locked in id order, as the engine and bulk acknowledge lock them; read again under the
    # lock (a person may have resolved one since the run began).
    for alert in await session.scalars(
        select(Alert)
        .where(among(Alert.id, wanted))
        .order_by(Alert.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ):
        breach = found.get((alert.rule, alert.subject_type, alert.subject_id, alert.due_at))
        action = _action(alert, breach, rules[alert.rule], ctx.as_of)
        if action != wanted[alert.id]:
            continue
        before = snapshot(alert)
        if action.startswith("withdraw"):
            subject = (alert.rule, alert.subject_type, alert.subject_id)
            if subject not in evidence:
                evidence[subject] = ctx.examined[alert.rule][subject[1:]](alert.rule)
            if action == "withdraw_ended":
                ends = [r for r in evidence[subject] if r.ends and r.at <= ctx.as_of]
                if not ends:
                    continue
                if ends[0].at > alert.due_at:
                    # Missed under its own thresholds, then the episode ended: cleared
                    # at the end (RULES.md 1.1), instead of open for ever.
                    if alert.status not in ("open", "acknowledged"):
                        continue
                    alert.status, alert.cleared_at = "cleared", ends[0].at
                    done.recleared.append(alert)
                    session.add(_audit("alert.clear", alert.id, before, snapshot(alert), now))
                    continue
                action = "withdraw"
            record = withdrawer(alert.due_at, alert.raised_at, evidence[subject])
            # No right was missed: the time it looked cleared stays in the audit log only.
            alert.status, alert.withdrawn_at, alert.cleared_at = "withdrawn", now, None
            alert.withdrawn_by_type = record.table if record else None
            alert.withdrawn_by_id = record.id if record else None
            alert.withdrawn_reason = reason(record)
            done.withdrawn.append(alert)
        elif action == "reinstate":
            assert breach is not None
            if breach.cleared_at is not None:
                alert.status = "cleared"
            else:
                alert.status = "acknowledged" if alert.acknowledged_at else "open"
            alert.cleared_at = breach.cleared_at
            alert.withdrawn_at = alert.withdrawn_by_type = alert.withdrawn_by_id = None
            alert.withdrawn_reason = None
            done.reinstated.append(alert)
        else:
            assert breach is not None
            alert.cleared_at = breach.cleared_at
            done.recleared.append(alert)
        session.add(_audit(f"alert.{action}", alert.id, before, snapshot(alert), now))
    return done


def _audit(
    action: str,
    alert_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> AuditEntry:
    return AuditEntry(
        at=now, user_id=None, username=SYSTEM, action=action, entity_type="alerts",
        entity_id=str(alert_id), before=before, after=after,
    )  # fmt: skip
