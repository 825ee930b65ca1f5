"""The cross-domain wiring, declared in one place: which routers the application serves,
and which capability fills each hook the shared parts call.

Wards and discharge call hooks so that they need not import the capabilities built on them
(restrictive practice, bed flow, ready for discharge, alerts, the Mental Health Act, the
PAS feed). Each hook is a typed list, declared by the module that calls it next to the
type a contributor must match; this module fills every one of them, explicitly, in
`register_all()`. Nothing registers itself when imported, so this file answers "what does
the board show" and "who can refuse a discharge".

The hooks (`HOOKS` below; each list's type is beside it in its module):

- `wards.board.restriction_providers` (RestrictionProvider): the card's open seclusion or
  segregation, which also sets the secluded/segregated flags;
- `wards.board.ready_providers` (ReadyProvider): the card's ready-for-discharge period,
  which also sets the ready_for_discharge flag;
- `wards.board.flag_providers` (FlagProvider): more flags on a card, and with them
  `wards.board.flag_styles` (flag -> tag colour, or None when the card shows it otherwise);
- `wards.board.alert_counters` (AlertCounter) and `wards.board.ward_alert_counters`
  (WardAlertCounter): the alert badges on a card and on a ward;
- `wards.views.admission_sections` (AdmissionSection): sections of the admission's page,
  in the order listed;
- `wards.views.admit_prefills` (AdmitPrefill): values filling the admit form;
- `flow.views.flow_notices` (FlowNotice): lines under the bed flow page's totals;
- `wards.admissions.episode_listers` (EpisodeLister): episodes in an admission's detail;
- `wards.admissions.admission_links` (AdmissionLink): what an admission closes (its bed
  request), able to refuse it;
- `wards.admissions.detail_extenders` (DetailExtender): more parts of an admission's detail;
- `discharge.service.discharge_checks` (DischargeCheck): what refuses a discharge.

Every entry point that calls services calls `register_all()` first: `create_app()` (so
also the tests' `app` fixture), the `wardflow` command (its root callback, before any
subcommand), the scheduler's ticks, `python -m bench`, and the test session (conftest).
It is idempotent: each call sets every list to exactly its contributors.

The hook lists stay with their callers, not here, because their types name the wards'
records (Admission, CardRestriction ...): lists here would make wards import this module
and this module import wards, a cycle tests/test_import_cycles.py refuses. Only the
entry points import this module, and it imports the domains inside its functions.

Adding a domain needs:

1. its package, `app/<domain>/` (models, service, and a router and/or views module); its
   views module registers its own Jinja globals and filters (`templates.env`);
2. its routers in `api_routers()` / `page_routers()` below, and its contributors in
   `register_all()` for each hook it fills (a board flag comes with its `FLAG_STYLES`);
3. its tables imported in app/models.py and one Alembic migration after the current head;
4. its rows in the access table: the role sets in app/auth/access.py that its routes use,
   and one row per route in tests/security/test_route_access.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

# Every hook list, by where it lives (module, attribute): `hooks()` reads them.
HOOKS = (
    ("app.wards.board", "restriction_providers"),
    ("app.wards.board", "ready_providers"),
    ("app.wards.board", "flag_providers"),
    ("app.wards.board", "alert_counters"),
    ("app.wards.board", "ward_alert_counters"),
    ("app.wards.views", "admission_sections"),
    ("app.wards.views", "admit_prefills"),
    ("app.flow.views", "flow_notices"),
    ("app.wards.admissions", "episode_listers"),
    ("app.wards.admissions", "admission_links"),
    ("app.wards.admissions", "detail_extenders"),
    ("app.discharge.service", "discharge_checks"),
)


def api_routers() -> list[APIRouter]:
    """The JSON API's routers (in the OpenAPI schema), in the order they are included."""
    from app.alerts.router import router as alerts
    from app.discharge.router import router as discharge
    from app.flow.router import router as flow
    from app.mha.router import router as mha
    from app.pas.router import router as pas
    from app.reports.router import router as reports
    from app.segregation.force.router import router as force
    from app.segregation.router import router as segregation
    from app.wards.router import router as wards

    return [wards, discharge, flow, segregation, force, alerts, reports, mha, pas]


def page_routers() -> list[APIRouter]:
    """The pages' routers (not in the OpenAPI schema), in the order they are included."""
    from app.alerts.rules_views import router as alert_rules
    from app.alerts.views import router as alerts
    from app.audit.views import router as audit
    from app.auth.admin_views import router as auth_admin
    from app.auth.views import router as auth
    from app.discharge.views import router as discharge
    from app.flow.views import router as flow
    from app.interop.fhir.router import router as fhir
    from app.interop.views import router as interop
    from app.mha.views import router as mha
    from app.pas.views import router as pas
    from app.reports.views import router as reports
    from app.segregation.episode_views import router as episodes
    from app.segregation.force.views import router as force
    from app.segregation.views import router as segregation
    from app.wards.views import router as wards

    return [
        auth,
        auth_admin,
        wards,
        discharge,
        segregation,
        episodes,
        force,
        audit,
        alerts,
        alert_rules,
        flow,
        interop,
        fhir,  # described by its own CapabilityStatement at /fhir/r4/metadata
        reports,
        mha,
        pas,
    ]


def register_all() -> None:
    """Fill every hook with its contributors (idempotent: lists are set, not appended to)."""
    from app.alerts.service import open_by_admission, open_by_ward
    from app.discharge import service as discharge
    from app.discharge.ready import card_ready, extend_detail
    from app.discharge.views import admission_section as ready_section
    from app.flow import placements
    from app.flow import views as flow_views
    from app.flow.requests import close_by_admission
    from app.flow.views import admit_prefill
    from app.mha.views import admission_section as mha_section
    from app.pas import service as pas
    from app.pas.status import feed_notice
    from app.segregation.board import (
        card_restrictions,
        list_episodes,
        refuse_discharge_while_restricted,
    )
    from app.segregation.views import admission_section as restrictive_section
    from app.wards import admissions, board
    from app.wards import views as wards_views

    # The ward board's cards.
    board.restriction_providers[:] = [card_restrictions]
    board.ready_providers[:] = [card_ready]
    board.flag_providers[:] = [placements.out_of_area_flags, pas.purpose_flags]
    board.flag_styles.clear()
    board.flag_styles.update({**board.FLAG_STYLES, **placements.FLAG_STYLES, **pas.FLAG_STYLES})
    board.alert_counters[:] = [open_by_admission]
    board.ward_alert_counters[:] = [open_by_ward]
    # The admission: its page, its admit form, its API detail, what admitting closes.
    wards_views.admission_sections[:] = [restrictive_section, ready_section, mha_section]
    wards_views.admit_prefills[:] = [admit_prefill]
    # The bed flow page.
    flow_views.flow_notices[:] = [feed_notice]
    admissions.episode_listers[:] = [list_episodes]
    admissions.admission_links[:] = [close_by_admission]
    admissions.detail_extenders[:] = [extend_detail]
    # What refuses a discharge (the database's trigger refuses it too).
    discharge.discharge_checks[:] = [refuse_discharge_while_restricted]


def hooks() -> dict[str, list[Any]]:
    """Every hook list by its dotted name, e.g. "app.wards.board.flag_providers"."""
    import importlib

    return {
        f"{module}.{name}": getattr(importlib.import_module(module), name) for module, name in HOOKS
    }
