"""The rule checks, each a pure function of the records and ``as_of`` (RULES.md 1).

A check is a fixed number of set-based queries, whatever the number of subjects."""

from __future__ import annotations

from app.alerts.breaches import CheckSpec
from app.alerts.checks import admissions, episodes, flow, force, pas, wards

CHECKS: tuple[CheckSpec, ...] = (
    *episodes.CHECKS,
    *admissions.CHECKS,
    *force.CHECKS,
    *wards.CHECKS,
    *flow.CHECKS,
    *pas.CHECKS,
)
