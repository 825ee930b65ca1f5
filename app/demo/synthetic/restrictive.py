"""Seclusion, long-term segregation and use of force at one hospital, planned exactly as
the demo trust plans them (app.demo.restrictive: the same rates by ward type, review
rhythms, record wording and the scenes on the board today), then turned into rows.

The demo writes its plans through the ORM; here they become tuples for the bulk writer.
Each use-of-force record's first version keeps the same snapshot the service keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from app.demo.plan import Person, Spell
from app.demo.restrictive.current import plan_current
from app.demo.restrictive.past import plan_past
from app.demo.restrictive.plan import MINUTE, Planner
from app.demo.restrictive.seclusion import OBSERVATIONS
from app.demo.synthetic.writer import COLUMNS, Rows
from app.segregation.codes import INTERVENTION_TYPES
from app.segregation.force.checks import missing_items
from app.segregation.force.models import RestrictiveIntervention

INTERVENTION_COLUMNS = COLUMNS["restrictive_interventions"]

# The demo's rates are a busy trust's: applied to a nation's every admission they give
# about 0.35 episodes per admission. England's figure, and the benchmark's (200,000 over
# a million admissions), is nearer 0.2, so only this share of past admissions is planned.
PAST_SHARE = 0.57
INTERVENTION_FIELDS = (
    "place", "reason_code", "description", "in_care_plan", "non_unit_staff_reason", "outcome",
    "avoidance_efforts", "patient_injury", "staff_injury", "care_plan_notification_sent",
    "debriefed_at",
)  # fmt: skip


def plan_restrictive(
    planner: Planner,
    spells: list[Spell],
    admission_ids: list[int],
    people: list[Person],
) -> None:
    """Past admissions' history; then the scenes and earlier uses of force of the people
    in the hospital now."""
    current: list[tuple[Spell, int]] = []
    for spell, admission_id in zip(spells, admission_ids, strict=True):
        if spell.is_open:
            current.append((spell, admission_id))
        elif planner.rng.random() < PAST_SHARE:
            plan_past(planner, spell, admission_id, people[spell.person])
    plan_current(planner, current, people)


def write_restrictive(planner: Planner, rows: Rows) -> None:
    rng = planner.rng
    seclusion_ids: dict[int, int] = {}  # id(plan) -> row id
    for plan in planner.seclusions:
        user = planner.user_for(plan.ward)
        seclusion_id = rows.next_id("seclusions")
        seclusion_ids[id(plan)] = seclusion_id
        rows.add(
            "seclusions",
            (
                seclusion_id, plan.admission_id, plan.started_at, plan.ended_at,
                plan.authorised_by_role, plan.reason, plan.end_note,
                planner.recorded(plan.started_at + 5 * MINUTE, 40), user,
                user if plan.ended_at is not None else None,
            ),
        )  # fmt: skip
        for kind, at, note, outcome in plan.reviews:
            rows.add(
                "seclusion_reviews",
                (
                    rows.next_id("seclusion_reviews"), seclusion_id, kind, at, note, outcome,
                    planner.recorded(at, 45), user,
                ),
            )  # fmt: skip
        for at in plan.observations:
            rows.add(
                "seclusion_observations",
                (
                    rows.next_id("seclusion_observations"), seclusion_id, at,
                    rng.choice(OBSERVATIONS), planner.recorded(at, 10), user,
                ),
            )  # fmt: skip
    for seg in planner.segregations:
        user = planner.user_for(seg.ward)
        segregation_id = rows.next_id("segregations")
        rows.add(
            "segregations",
            (
                segregation_id, seg.admission_id, seg.started_at, seg.ended_at, seg.reason,
                seg.end_note, seg.commissioner_informed_at, seg.imha_informed_at,
                seclusion_ids[id(seg.from_seclusion)] if seg.from_seclusion else None,
                (created := planner.recorded(seg.started_at, 30)), user,
                user if seg.ended_at is not None else None, created,
            ),
        )  # fmt: skip
        for kind, at, note in seg.reviews:
            rows.add(
                "segregation_reviews",
                (
                    rows.next_id("segregation_reviews"), segregation_id, kind, at, note,
                    planner.recorded(at, 60), user,
                ),
            )  # fmt: skip
    for force in planner.forces:
        user = planner.user_for(force.ward)
        record_id = rows.next_id("restrictive_interventions")
        values = {name: force.values.get(name) for name in INTERVENTION_FIELDS}
        columns: dict[str, Any] = {
            "id": record_id,
            "admission_id": force.admission_id,
            "ward_id": planner.ward_ids[force.ward],
            "place": values["place"],
            "started_at": force.started_at,
            "ended_at": force.ended_at,
            **{name: values[name] for name in INTERVENTION_FIELDS[1:]},
            "version": 1,
            "created_at": force.created_at,
            "created_by_id": user,
        }
        rows.add("restrictive_interventions", tuple(columns[c] for c in INTERVENTION_COLUMNS))
        types = [
            (rows.next_id("intervention_types"), record_id, code, start, end, None)
            for code, start, end in force.types
        ]
        staff = [
            (rows.next_id("intervention_staff"), record_id, name, title, None)
            for name, title in force.staff
        ]
        for type_row in types:
            rows.add("intervention_types", type_row)
        for staff_row in staff:
            rows.add("intervention_staff", staff_row)
        rows.add(
            "intervention_versions",
            (
                rows.next_id("intervention_versions"), record_id, 1,
                version_data(columns, force.types, force.staff), None, force.created_at, user,
            ),
        )  # fmt: skip


def version_data(
    columns: dict[str, Any],
    types: list[tuple[str, datetime, datetime]],
    staff: list[tuple[str, str]],
) -> dict[str, Any]:
    """What app.segregation.force.service.snapshot keeps for the record as first written: its
    columns (times in ISO 8601), its types and staff as the API shows them, and the Act's
    items it still lacks. Built directly, since building ORM objects for every one of a
    nation's uses of force to call it would double the time; tests compare the two."""
    data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in columns.items()}
    data["types"] = [
        {
            "type_code": code,
            "started_at": _api_time(start),
            "ended_at": _api_time(end),
            "name": INTERVENTION_TYPES.get(code, code),
        }
        for code, start, end in types
    ]
    data["staff"] = [{"name": name, "job_title": title} for name, title in staff]
    record = SimpleNamespace(**columns, types=types, staff=staff)
    data["missing"] = missing_items(cast(RestrictiveIntervention, record))
    return data


def _api_time(moment: datetime | None) -> str | None:
    """As pydantic writes an aware UTC time in JSON."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
