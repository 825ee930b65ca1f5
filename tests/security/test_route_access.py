"""Every route, for every role and for no one signed in: who may use it, through the API and
the pages, with real records on ward ASH and ward BIRCH.

The table below is app/auth/access.py written out route by route: clinical readers are
admin, safeguarding lead, bed manager and ward staff (own wards only); placers are admin,
bed manager and ward staff (own wards); clinical writers are admin and ward staff (own
wards); places, the audit log and rule runs are the admin's; the rules are read by every
role, changed by admin and safeguarding lead; directors see no individual records.

"Every route is in the table": a route added later without a row fails
``test_every_route_is_in_the_table``, so nobody adds a page or an endpoint without saying
who may use it. A refused write changes nothing (the audit log and the record counts are
the same before and after), and a refusal never shows a patient's name.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.auth import service as auth_service
from app.auth.models import ApiToken, User, UserSession
from app.auth.security import hash_password, token_digest
from tests.auth.helpers import hidden_csrf, parse
from tests.factories import PASSWORD, TEST_CLIENT, World, next_nhs_number, patient_body

API = "/api/v1"
# Patients admitted to ASH, to BIRCH, and people not on any ward: their names show who saw what.
ASH_FAMILY, BIRCH_FAMILY = "Ashcombe", "Birchall"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def local(moment: datetime) -> str:
    """A datetime-local form value (Europe/London; GMT in March 2026, before the clocks go
    forward)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


# --- the records every row reaches for ----------------------------------------------------


@dataclass
class Records:
    """Real ids, for one ward's records (``ward``), and the records no ward owns."""

    ward: str
    ids: dict[str, Any]


@dataclass
class Trust:
    world: World
    now: datetime
    on: dict[str, Records]
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)


async def _call(
    client: httpx.AsyncClient, world: World, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    r = await client.request(method, f"{API}{path}", json=body, headers=world.auth("admin"))
    assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
    return dict(r.json())


async def build_trust(
    session: AsyncSession, client: httpx.AsyncClient, world: World, now: datetime
) -> Trust:
    """On each of ASH and BIRCH: a plain admission (bed 1), one in seclusion (bed 2), one in
    segregation (bed 3), one ready for discharge (bed 4), a use-of-force record and an alert
    (the seclusion's first medical review is overdue). Trust-wide: a bed request and an
    out-of-area placement. Every record is made through the API, as staff would make it."""

    async def admit(ward: str, bed: str, given: str, family: str) -> dict[str, Any]:
        patient = await _call(
            client,
            world,
            "POST",
            "/patients",
            patient_body(
                given_name=given,
                family_name=family,
                sex="female" if ward == "ASH" else "male",
            ),
        )
        return await _call(
            client,
            world,
            "POST",
            "/admissions",
            {
                "patient_id": patient["id"],
                "ward_code": ward,
                "bed_label": bed,
                "admitted_at": iso(now - timedelta(days=5)),
                "legal_status": "s3",
                "reason": "Relapse of psychosis, not safe at home",
                "expected_benefit": "Restart treatment safely",
            },
        )

    on: dict[str, Records] = {}
    for ward, family in (("ASH", ASH_FAMILY), ("BIRCH", BIRCH_FAMILY)):
        p = ward[0]
        plain = await admit(ward, f"{p}1", "Ada", family)
        secluded = await admit(ward, f"{p}2", "Bea", family)
        segregated = await admit(ward, f"{p}3", "Cai", family)
        ready = await admit(ward, f"{p}4", "Dot", family)
        seclusion = await _call(
            client,
            world,
            "POST",
            f"/admissions/{secluded['id']}/seclusions",
            {
                "started_at": iso(now - timedelta(hours=3)),
                "authorised_by_role": "nurse_in_charge",
                "reason": "Assaulted another patient",
            },
        )
        segregation = await _call(
            client,
            world,
            "POST",
            f"/admissions/{segregated['id']}/segregations",
            {"started_at": iso(now - timedelta(days=2)), "reason": "Sustained risk to others"},
        )
        period = await _call(
            client,
            world,
            "POST",
            f"/admissions/{ready['id']}/ready-for-discharge",
            {
                "started_at": iso(now - timedelta(days=1)),
                "reason_code": "09",
                "attributable_to": "social_care",
            },
        )
        force = await _call(
            client,
            world,
            "POST",
            f"/admissions/{plain['id']}/restrictive-interventions",
            force_body(now),
        )
        on[ward] = Records(
            ward,
            {
                "code": ward,
                "label": f"{p}1",
                "empty_bed": f"{p}{'6' if ward == 'ASH' else '5'}",
                "admission_id": plain["id"],
                "patient_id": plain["patient_id"],
                "seclusion_admission_id": secluded["id"],
                "seclusion_id": seclusion["id"],
                "segregation_id": segregation["id"],
                "period_id": period["id"],
                "intervention_id": force["id"],
                "mha_period_id": (
                    await _call(client, world, "GET", f"/admissions/{plain['id']}/mha")
                )["periods"][0]["id"],
                "pos_id": (
                    await _call(
                        client,
                        world,
                        "POST",
                        "/place-of-safety-episodes",
                        {
                            "patient_id": (
                                await _call(
                                    client,
                                    world,
                                    "POST",
                                    "/patients",
                                    patient_body(given_name="Fay", family_name="Safeton"),
                                )
                            )["id"],
                            "section": "s136",
                            "place_type": "hospital",
                            "arrived_at": iso(now - timedelta(hours=2)),
                        },
                    )
                )["id"],
                "certificate_id": (
                    await _call(
                        client,
                        world,
                        "POST",
                        f"/admissions/{plain['id']}/certificates",
                        {
                            "form": "T2",
                            "issued_at": iso(now - timedelta(days=1)),
                            "covers": "Antipsychotic, oral, within BNF limits",
                        },
                    )
                )["id"],
            },
        )
    # BIRCH has four beds; its fifth, empty one is added here.
    await _call(client, world, "POST", "/wards/BIRCH/beds", {"label": "B5"})

    run = await _call(client, world, "POST", "/rules/run", {"as_of": iso(now)})
    for records in on.values():
        [alert] = [
            a
            for a in run["raised"]
            if a["rule"] == "SECL_MEDICAL_FIRST" and a["subject_id"] == records.ids["seclusion_id"]
        ]
        records.ids["alert_id"] = alert["id"]

    waiting = await _call(
        client, world, "POST", "/patients", patient_body(given_name="Eve", family_name="Waites")
    )
    request = await _call(
        client,
        world,
        "POST",
        "/bed-requests",
        {
            "patient_id": waiting["id"],
            "decision_to_admit_at": iso(now - timedelta(hours=6)),
            "ward_type": "adult_acute",
            "note": "Assessed in A&E",
        },
    )
    free = await _call(
        client, world, "POST", "/patients", patient_body(given_name="Gus", family_name="Nolan")
    )
    away = await _call(
        client, world, "POST", "/patients", patient_body(given_name="Fay", family_name="Farrow")
    )
    placement = await _call(
        client,
        world,
        "POST",
        "/out-of-area-placements",
        {
            "patient_id": away["id"],
            "provider_name": "Priory Roehampton",
            "latitude": 51.45,
            "longitude": -0.24,
            "bed_type": "200",
            "reason_code": "10",
            "started_at": iso(now - timedelta(days=3)),
        },
    )
    for records in on.values():
        records.ids.update(
            request_id=request["id"],
            placement_id=placement["id"],
            waiting_patient_id=waiting["id"],
            free_patient_id=free["id"],
            free_nhs_number=free["nhs_number"],
            waiting_nhs_number=waiting["nhs_number"],
            rule="SECL_MEDICAL_FIRST",
        )

    # An integration account (role "service", issue 17): API reads, no pages but its own
    # account. Made here, not in every test's World.
    service = User(
        username="svc",
        role="service",
        password_hash=hash_password(PASSWORD),
        created_at=now,
        active=True,
        failed_logins=0,
    )
    session.add(service)
    await session.flush()
    world.users["svc"] = service
    world.tokens["svc"] = await auth_service.make_api_token(session, user=service, now=now)
    await session.execute(update(ApiToken).values(last_client=TEST_CLIENT))
    admins_token = await session.scalar(
        select(ApiToken.id).where(ApiToken.user_id == world.users["admin"].id)
    )
    # A PAS message refused for its unmapped ward (issue 21), for processing again.
    from app.pas import service as pas_service

    refused = await pas_service.receive(
        session,
        "MSH|^~\\&|PAS|RXX|WARDFLOW|RXX|202603100900||ADT^A01|ACCESS0|P|2.4\r"
        f"PID|1||{next_nhs_number()}^^^NHS^NH||PAS^PAT||19900102|F\rPV1|1|I|NOWARD^^1\r",
        now,
    )
    for records in on.values():
        # Account management reaches for the director (disabling them harms no other row);
        # a token is revoked by its holder, the admin.
        records.ids.update(
            user_id=world.users["director"].id,
            token_id=admins_token,
            pas_message_id=refused.message_id,
        )

    trust = Trust(world, now, on)
    # Browser sessions made directly (signing in through the form is tested elsewhere and
    # is slow on purpose: argon2).
    for username, user in world.users.items():
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session.add(
            UserSession(
                token_hash=token_digest(cookie),
                csrf_token=csrf,
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
            )
        )
        trust.cookies[username], trust.csrf[username] = cookie, csrf
    await session.commit()
    return trust


def force_body(now: datetime) -> dict[str, Any]:
    start = now - timedelta(hours=20)
    return {
        "started_at": iso(start),
        "ended_at": iso(start + timedelta(minutes=12)),
        "reason_code": "10",
        "types": [{"type_code": "07"}],
        "staff": [{"name": "Sam Okafor", "job_title": "Staff nurse"}],
        "description": "Held standing for a few minutes.",
        "in_care_plan": True,
        "non_unit_staff_reason": "No one from outside the unit took part.",
        "outcome": "Settled; reviewed by the duty doctor.",
        "avoidance_efforts": "Talked down; offered a quiet room.",
        "patient_injury": False,
        "staff_injury": False,
        "care_plan_notification_sent": True,
    }


@pytest.fixture
async def trust(session, client, world, clock) -> Trust:  # type: ignore[no-untyped-def]
    from app.alerts import engine

    built = await build_trust(session, client, world, clock.now)
    # A running service has checked its rules (so /healthz/rules answers 200).
    await engine.run_rules(session, as_of=clock.now, now=clock.now, trigger="test")
    await session.commit()
    return built


# --- who may --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """Roles allowed; ``own_ward``: ward staff only on their own wards' records."""

    name: str
    roles: frozenset[str]
    own_ward: bool = False
    signed_out: bool = False  # open to people who are not signed in

    def allows(self, role: str | None, wards: set[str], records_ward: str) -> bool:
        if role is None:
            return self.signed_out
        if role not in self.roles:
            return False
        return not (self.own_ward and role == "ward_staff" and records_ward not in wards)


ROLES = frozenset(
    {"admin", "ward_staff", "bed_manager", "safeguarding_lead", "director", "service"}
)
# "service" (an integration) reads like a clinical reader with no ward limit, through the
# API only: on the pages it reaches only SERVICE_PAGES (see try_row).
CLINICAL_READERS = frozenset({"admin", "safeguarding_lead", "bed_manager", "ward_staff", "service"})
PLACERS = frozenset({"admin", "bed_manager", "ward_staff"})
CLINICAL_WRITERS = frozenset({"admin", "ward_staff"})

PUBLIC = Who("anyone, signed in or not", ROLES, signed_out=True)
SIGNED_IN = Who("anyone signed in", ROLES)
ADMIN = Who("admin", frozenset({"admin"}))
# Ward-scoped: ward staff reach only their own wards' records.
READ = Who("clinical readers (own ward)", CLINICAL_READERS, own_ward=True)
PLACE = Who("placers (own ward)", PLACERS, own_ward=True)
WRITE = Who("clinical writers (own ward)", CLINICAL_WRITERS, own_ward=True)
BEDS = Who("open or close beds (own ward)", PLACERS, own_ward=True)
POS_KEEPERS = Who(
    "admin, bed manager and safeguarding lead",
    frozenset({"admin", "bed_manager", "safeguarding_lead"}),
)
MHA_WRITE = Who(
    "Mental Health Act recorders (own ward)",
    CLINICAL_WRITERS | {"safeguarding_lead"},
    own_ward=True,
)
# Trust-wide lists and records no ward owns (filtered to the ward staff's wards where they
# hold ward records).
READ_ANY = Who("clinical readers", CLINICAL_READERS)
PLACE_ANY = Who("placers", PLACERS)
PLACEMENT_WRITERS = Who("admin and bed manager", frozenset({"admin", "bed_manager"}))
ALERT_WORK = Who("alert workers (own ward)", CLINICAL_READERS - {"service"}, own_ward=True)
# Issue 17: API tokens are made by the roles that integrate; a token is revoked by its holder
# (anyone else is told "not found", not "forbidden": the ids say nothing).
TOKEN_MAKERS = Who("admin and service", frozenset({"admin", "service"}))
TOKEN_HOLDER = Who("the token's holder (the admin)", frozenset({"admin"}))
# Issue 21: the PAS feed's messages come from the roles that integrate.
FEEDERS = Who("admin and service (integrations)", frozenset({"admin", "service"}))
# A person on no ward (waiting for a bed, placed out of area, registered only): ward staff
# do not read them (issue 17, app/auth/scope.py), nor cancel a request another made.
READ_OFF_WARD = Who(
    "clinical readers but ward staff",
    frozenset({"admin", "safeguarding_lead", "bed_manager", "service"}),
)
PLACE_OFF_WARD = PLACEMENT_WRITERS
RULES_READ = Who("clinical readers and director", CLINICAL_READERS | {"director"})
RULES_EDIT = Who("admin and safeguarding lead", frozenset({"admin", "safeguarding_lead"}))
RUNS_READ = RULES_EDIT
# Routes other engineers are adding (issue 9 time): their rows are at the end.
REPORT_READERS = Who(
    "director, admin, safeguarding lead, bed manager",
    frozenset({"director", "admin", "safeguarding_lead", "bed_manager"}),
)


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's own template, as app.routes has it
    who: Who
    url: str | None = None  # the request's path, {names} from the records; default: path
    body: dict[str, Any] | None = None  # JSON for the API, a form for the pages
    refused_status: int = 403  # what a signed-in person who may not gets
    # What one who may gets, when not a success: a renewal of a period admitted days ago
    # is refused for its examination date (422), which is checked after who may record it.
    allowed_status: int | None = None
    content: str | None = None  # a raw HL7 v2 (ER7) body instead of JSON
    # Records counted before and after (a refused write changes none of them).

    @property
    def is_api(self) -> bool:
        return self.path.startswith(("/api/", "/fhir/"))

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def _bodies(now: datetime) -> dict[str, dict[str, Any]]:
    """Valid bodies: an allowed request succeeds, so a refusal is the access rule's doing."""
    ago = lambda **kw: iso(now - timedelta(**kw))  # noqa: E731
    form_ago = lambda **kw: local(now - timedelta(**kw))  # noqa: E731
    return {
        # JSON
        "locality": {"code": "HGT", "name": "Harrogate", "latitude": 54.0, "longitude": -1.54},
        "site": {"code": "HGH", "name": "Harrogate District", "locality_code": "YRK"},
        "ward": {
            "code": "DALE",
            "name": "Dale Ward",
            "site_code": "STJ",
            "ward_type": "picu",
            "sex": "mixed",
            "min_age": 18,
            "max_age": 64,
        },
        "bed": {"label": "X9"},
        "close_bed": {"status": "closed", "reason": "Ligature work"},
        "patient": patient_body(given_name="Gil", family_name="Newcombe"),
        "transfer": {
            "ward_code": "{code}",
            "bed_label": "{empty_bed}",
            "at": ago(hours=1),
            "reason": "Quieter room",
        },
        "purpose_review": {"at": ago(hours=1), "still_needed": True, "note": "Still needed"},
        "admission_patch": {"expected_discharge_date": "2026-04-01"},
        "rights": {
            "kind": "s132",
            "given_at": ago(hours=1),
            "oral": True,
            "written": True,
            "understood": "yes",
        },
        "tribunal_event": {"kind": "reference", "at": ago(hours=1)},
        "place_of_safety": {
            "patient_id": "{waiting_patient_id}",
            "section": "s136",
            "place_type": "emergency_department",
            "arrived_at": ago(hours=3),
        },
        "extension": {"authorised_at": ago(hours=1), "hours": 6, "reason": "Awaiting an AMHP"},
        "place_of_safety_end": {"at": ago(minutes=20), "outcome": "released"},
        "medicine_started": {"at": ago(hours=2)},
        "certificate": {"form": "T3", "issued_at": ago(hours=1), "covers": "Depot, monthly"},
        "certificate_fallen": {"fallen_at": ago(minutes=30)},
        "renewal": {
            "examined_at": ago(hours=3),
            "agreed_at": ago(hours=2),
            "furnished_at": ago(hours=1),
        },
        "discharge": {"at": ago(hours=1), "destination": "usual_residence"},
        "ready": {
            "started_at": ago(hours=2),
            "reason_code": "09",
            "attributable_to": "social_care",
        },
        "ready_end": {"at": ago(minutes=30)},
        "bed_request": {
            "patient_id": "{free_patient_id}",
            "decision_to_admit_at": ago(hours=1),
            "ward_type": "adult_acute",
            "note": "Second opinion",
        },
        "cancel": {"at": ago(minutes=10), "reason": "Crisis team will support at home"},
        "placement": {
            "patient_id": "{free_patient_id}",
            "provider_name": "Cygnet York",
            "latitude": 53.96,
            "longitude": -1.08,
            "bed_type": "200",
            "reason_code": "10",
            "started_at": ago(hours=1),
        },
        "placement_review": {"at": ago(hours=1), "note": "Still needs this bed"},
        "placement_end": {"at": ago(minutes=10), "outcome": "repatriated"},
        "seclusion": {
            "started_at": ago(minutes=30),
            "authorised_by_role": "psychiatrist",
            "reason": "Serious violence",
        },
        "seclusion_review": {"kind": "medical", "at": ago(minutes=20), "note": "Reviewed"},
        "observation": {"at": ago(minutes=5), "note": "Sitting quietly"},
        "end": {"at": ago(minutes=5), "note": "Calm"},
        "to_segregation": {"at": ago(minutes=5), "note": "Calm", "reason": "Sustained risk"},
        "segregation": {"started_at": ago(minutes=30), "reason": "Sustained risk to others"},
        "segregation_patch": {"commissioner_informed_at": ago(hours=1)},
        "segregation_review": {"kind": "mdt", "at": ago(hours=1), "note": "MDT reviewed"},
        "rule_patch": {"severity": "high"},
        "run": {"as_of": iso(now)},
        "acknowledge": {"note": "Seen; doctor called"},
        "acknowledge_many": {"ids": ["{alert_id}"], "note": "Seen"},
        "resolve": {"note": "Doctor reviewed at 13:10"},
        # forms
        "f_admit": {
            "nhs_number": next_nhs_number(),
            "given_name": "Hal",
            "family_name": "Newcombe",
            "date_of_birth": "1980-05-05",
            "sex": "female",
            "ethnic_category": "A",
            "home_locality_code": "LDS",
            "admitted_at": form_ago(hours=1),
            "legal_status": "s2",
            "reason": "Crisis",
            "expected_benefit": "Safety",
        },
        "f_close_bed": {"status": "closed", "reason": "Deep clean"},
        "f_transfer": {
            "bed": "{code}/{empty_bed}",
            "at": form_ago(hours=1),
            "reason": "Quieter room",
        },
        "f_purpose_review": {"at": form_ago(hours=1), "still_needed": "yes", "note": "Needed"},
        "f_legal_status": {"at": form_ago(hours=1), "legal_status": "s3"},
        "f_purpose": {"reason": "Relapse of psychosis", "expected_benefit": "Safe treatment"},
        "f_discharge": {"at": form_ago(hours=1), "destination": "usual_residence"},
        "f_ready": {
            "started_at": form_ago(hours=2),
            "reason_code": "09",
            "attributable_to": "social_care",
        },
        "f_ready_end": {"at": form_ago(minutes=30)},
        "f_rights": {
            "kind": "s132",
            "given_at": form_ago(hours=1),
            "oral": "on",
            "written": "on",
            "understood": "yes",
        },
        "f_seclusion": {
            "started_at": form_ago(minutes=30),
            "authorised_by_role": "psychiatrist",
            "reason": "Serious violence",
        },
        "f_segregation": {"started_at": form_ago(minutes=30), "reason": "Sustained risk"},
        "f_seclusion_review": {"kind": "medical", "at": form_ago(minutes=20), "note": "Seen"},
        "f_segregation_review": {"kind": "mdt", "at": form_ago(hours=1), "note": "MDT"},
        "f_observation": {"at": form_ago(minutes=5), "note": "Sitting quietly"},
        "f_end": {"at": form_ago(minutes=5), "note": "Calm"},
        "f_notifications": {"commissioner_informed_at": form_ago(hours=1)},
        "f_force": {
            "started_at": form_ago(hours=2),
            "ended_at": form_ago(hours=1, minutes=50),
            "reason_code": "10",
            "types": "07",
            "description": "Held standing briefly",
        },
        "f_acknowledge": {"note": "Seen"},
        "f_acknowledge_many": {"ids": "{alert_id}", "note": "Seen"},
        "f_resolve": {"note": "Doctor reviewed"},
        "f_rule": {"param-within": "PT2H", "severity": "high", "enabled": "yes"},
        "f_bed_request": {
            "nhs_number": "{free_nhs_number}",
            "decision_to_admit_at": form_ago(hours=1),
            "ward_type": "adult_acute",
            "note": "Second opinion",
        },
        "f_cancel": {"at": form_ago(minutes=10), "reason": "Supported at home"},
        "f_placement": {
            "nhs_number": "{free_nhs_number}",
            "provider_name": "Cygnet York",
            "latitude": "53.96",
            "longitude": "-1.08",
            "bed_type": "200",
            "reason_code": "10",
            "started_at": form_ago(hours=1),
        },
        "f_placement_review": {"at": form_ago(hours=1), "note": "Still needs this bed"},
        "f_placement_end": {"at": form_ago(minutes=10), "outcome": "repatriated"},
    }


def rows(now: datetime) -> list[Row]:
    b = _bodies(now)
    a = API
    return [
        # --- open to everyone -------------------------------------------------------------
        Row("GET", "/openapi.json", PUBLIC),
        Row("GET", "/docs", PUBLIC),
        Row("GET", "/docs/oauth2-redirect", PUBLIC),
        Row("GET", "/healthz", PUBLIC),
        Row("GET", "/healthz/rules", PUBLIC),
        Row("GET", "/login", PUBLIC),
        Row("POST", "/login", PUBLIC, body={"username": "admin", "password": PASSWORD}),
        # --- API: places and beds ---------------------------------------------------------
        Row("POST", f"{a}/localities", ADMIN, body=b["locality"]),
        Row("GET", f"{a}/localities", SIGNED_IN),
        Row("POST", f"{a}/sites", ADMIN, body=b["site"]),
        Row("POST", f"{a}/wards", ADMIN, body=b["ward"]),
        Row("GET", f"{a}/wards", SIGNED_IN),
        Row("GET", f"{a}/wards/{{code}}", SIGNED_IN),
        Row("POST", f"{a}/wards/{{code}}/beds", ADMIN, body=b["bed"]),
        Row(
            "PATCH",
            f"{a}/wards/{{code}}/beds/{{label}}",
            BEDS,
            url=f"{a}/wards/{{code}}/beds/{{empty_bed}}",
            body=b["close_bed"],
        ),
        Row("GET", f"{a}/wards/{{code}}/board", READ),
        # --- API: patients and admissions -------------------------------------------------
        Row("POST", f"{a}/patients", PLACE_ANY, body=b["patient"]),
        Row("GET", f"{a}/patients/{{patient_id}}", READ),
        Row(
            "POST",
            f"{a}/patients/lookup",
            PLACE_ANY,
            body={"nhs_number": "{free_nhs_number}", "date_of_birth": "1985-06-15"},
        ),
        Row("GET", f"{a}/patients/{{patient_id}}/access-log", ADMIN),
        Row(
            "POST",
            f"{a}/admissions",
            PLACE,
            # Ward staff name someone they may not read yet by NHS number and date of
            # birth (issue 17 review): the id alone would be refused.
            body={
                "patient_id": "{waiting_patient_id}",
                "nhs_number": "{waiting_nhs_number}",
                "date_of_birth": "1985-06-15",
                "ward_code": "{code}",
                "bed_label": "{empty_bed}",
                "admitted_at": iso(now - timedelta(hours=1)),
                "legal_status": "s2",
                "reason": "Crisis",
                "expected_benefit": "Safety",
            },
        ),
        Row("GET", f"{a}/admissions", READ, url=f"{a}/admissions?ward_code={{code}}"),
        Row("GET", f"{a}/admissions/{{admission_id}}", READ),
        Row("POST", f"{a}/admissions/{{admission_id}}/transfer", PLACE, body=b["transfer"]),
        Row(
            "POST",
            f"{a}/admissions/{{admission_id}}/purpose-reviews",
            WRITE,
            body=b["purpose_review"],
        ),
        Row("PATCH", f"{a}/admissions/{{admission_id}}", WRITE, body=b["admission_patch"]),
        Row("POST", f"{a}/admissions/{{admission_id}}/discharge", WRITE, body=b["discharge"]),
        Row("POST", f"{a}/admissions/{{admission_id}}/ready-for-discharge", WRITE, body=b["ready"]),
        Row("GET", f"{a}/ready-for-discharge/{{period_id}}", READ),
        # --- API: Mental Health Act -------------------------------------------------------
        Row("GET", f"{a}/admissions/{{admission_id}}/mha", READ),
        Row("POST", f"{a}/admissions/{{admission_id}}/rights", MHA_WRITE, body=b["rights"]),
        Row(
            "POST",
            f"{a}/mha-periods/{{period_id}}/renewals",
            MHA_WRITE,
            url=f"{a}/mha-periods/{{mha_period_id}}/renewals",
            body=b["renewal"],
            allowed_status=422,
        ),
        Row("GET", f"{a}/mha/diary", READ, url=f"{a}/mha/diary?ward_code={{code}}"),
        Row(
            "POST",
            f"{a}/admissions/{{admission_id}}/tribunal-events",
            MHA_WRITE,
            body=b["tribunal_event"],
        ),
        Row(
            "POST",
            f"{a}/admissions/{{admission_id}}/medicine-started",
            MHA_WRITE,
            body=b["medicine_started"],
        ),
        Row(
            "POST",
            f"{a}/admissions/{{admission_id}}/certificates",
            MHA_WRITE,
            body=b["certificate"],
        ),
        # One open episode a person: the first allowed role starts it, the next is told (409).
        Row(
            "POST",
            f"{a}/place-of-safety-episodes",
            POS_KEEPERS,
            body=b["place_of_safety"],
            allowed_status=409,
        ),
        Row("GET", f"{a}/place-of-safety-episodes", POS_KEEPERS),
        Row(
            "GET",
            f"{a}/place-of-safety-episodes/{{episode_id}}",
            POS_KEEPERS,
            url=f"{a}/place-of-safety-episodes/{{pos_id}}",
        ),
        Row(
            "POST",
            f"{a}/place-of-safety-episodes/{{episode_id}}/extension",
            POS_KEEPERS,
            url=f"{a}/place-of-safety-episodes/{{pos_id}}/extension",
            body=b["extension"],
            allowed_status=409,
        ),
        Row(
            "POST",
            f"{a}/place-of-safety-episodes/{{episode_id}}/end",
            POS_KEEPERS,
            url=f"{a}/place-of-safety-episodes/{{pos_id}}/end",
            body=b["place_of_safety_end"],
            allowed_status=409,
        ),
        # The first allowed role records when the certificate fell; the next is told it
        # already has (409), which is past the access check too.
        Row(
            "PATCH",
            f"{a}/certificates/{{certificate_id}}",
            MHA_WRITE,
            body=b["certificate_fallen"],
            allowed_status=409,
        ),
        Row("POST", f"{a}/ready-for-discharge/{{period_id}}/end", WRITE, body=b["ready_end"]),
        # --- API: bed flow ----------------------------------------------------------------
        Row("POST", f"{a}/bed-requests", PLACE_ANY, body=b["bed_request"]),
        Row("GET", f"{a}/bed-requests", READ_ANY),
        Row("GET", f"{a}/bed-requests/{{request_id}}", READ_OFF_WARD),
        Row("POST", f"{a}/bed-requests/{{request_id}}/cancel", PLACE_OFF_WARD, body=b["cancel"]),
        Row(
            "GET",
            f"{a}/beds/search",
            READ_OFF_WARD,
            url=f"{a}/beds/search?patient_id={{waiting_patient_id}}",
        ),
        Row("POST", f"{a}/out-of-area-placements", PLACEMENT_WRITERS, body=b["placement"]),
        Row("GET", f"{a}/out-of-area-placements", READ_ANY),
        Row("GET", f"{a}/out-of-area-placements/{{placement_id}}", READ_OFF_WARD),
        Row(
            "POST",
            f"{a}/out-of-area-placements/{{placement_id}}/reviews",
            PLACEMENT_WRITERS,
            body=b["placement_review"],
        ),
        Row(
            "POST",
            f"{a}/out-of-area-placements/{{placement_id}}/end",
            PLACEMENT_WRITERS,
            body=b["placement_end"],
        ),
        # --- API: seclusion, segregation, use of force -------------------------------------
        Row("POST", f"{a}/admissions/{{admission_id}}/seclusions", WRITE, body=b["seclusion"]),
        Row("GET", f"{a}/seclusions/{{seclusion_id}}", READ),
        Row("POST", f"{a}/seclusions/{{seclusion_id}}/reviews", WRITE, body=b["seclusion_review"]),
        Row("POST", f"{a}/seclusions/{{seclusion_id}}/observations", WRITE, body=b["observation"]),
        Row("POST", f"{a}/seclusions/{{seclusion_id}}/end", WRITE, body=b["end"]),
        Row(
            "POST",
            f"{a}/seclusions/{{seclusion_id}}/to-segregation",
            WRITE,
            body=b["to_segregation"],
        ),
        Row("POST", f"{a}/admissions/{{admission_id}}/segregations", WRITE, body=b["segregation"]),
        Row("GET", f"{a}/segregations/{{segregation_id}}", READ),
        Row("PATCH", f"{a}/segregations/{{segregation_id}}", WRITE, body=b["segregation_patch"]),
        Row(
            "POST",
            f"{a}/segregations/{{segregation_id}}/reviews",
            WRITE,
            body=b["segregation_review"],
        ),
        Row("POST", f"{a}/segregations/{{segregation_id}}/end", WRITE, body=b["end"]),
        Row(
            "POST",
            f"{a}/admissions/{{admission_id}}/restrictive-interventions",
            WRITE,
            body=force_body(now),
        ),
        Row("GET", f"{a}/admissions/{{admission_id}}/restrictive-interventions", READ),
        Row("GET", f"{a}/restrictive-interventions/{{intervention_id}}", READ),
        Row(
            "PATCH",
            f"{a}/restrictive-interventions/{{intervention_id}}",
            WRITE,
            body={"outcome": "Settled within minutes", "correction_reason": "Typo"},
        ),
        # --- API: rules and alerts --------------------------------------------------------
        Row("GET", f"{a}/rules", RULES_READ),
        Row("GET", f"{a}/rules/{{code}}", RULES_READ, url=f"{a}/rules/{{rule}}"),
        Row(
            "PATCH",
            f"{a}/rules/{{code}}",
            RULES_EDIT,
            url=f"{a}/rules/{{rule}}",
            body=b["rule_patch"],
        ),
        Row("POST", f"{a}/rules/run", ADMIN, body=b["run"]),
        Row("GET", f"{a}/rule-runs", RUNS_READ),
        Row("GET", f"{a}/alerts", READ_ANY),
        Row("GET", f"{a}/alerts/{{alert_id}}", READ),
        Row("POST", f"{a}/alerts/acknowledge", ALERT_WORK, body=b["acknowledge_many"]),
        Row("POST", f"{a}/alerts/{{alert_id}}/acknowledge", ALERT_WORK, body=b["acknowledge"]),
        Row("POST", f"{a}/alerts/{{alert_id}}/resolve", ALERT_WORK, body=b["resolve"]),
        # --- API: the PAS feed (issue 21) ---------------------------------------------------
        Row(
            "POST",
            f"{a}/hl7/v2",
            FEEDERS,
            content="MSH|^~\\&|PAS|RXX|WARDFLOW|RXX|202603100900||ADT^A60|ACCESS1|P|2.4\r",
        ),
        # --- pages: signing in, the account ------------------------------------------------
        Row("POST", "/logout", SIGNED_IN),
        Row("GET", "/account", SIGNED_IN),
        Row(
            "POST",
            "/account/tokens",
            TOKEN_MAKERS,
            body={"name": "access table", "password": PASSWORD},
        ),
        Row("POST", "/account/tokens/{token_id}/revoke", TOKEN_HOLDER, refused_status=404),
        # --- pages: account management (issue 17) ------------------------------------------
        Row("GET", "/admin/users", ADMIN),
        # --- pages: the PAS interface (issue 21) -------------------------------------------
        Row("GET", "/admin/interfaces", ADMIN),
        Row(
            "POST",
            "/admin/interfaces/locations",
            ADMIN,
            body={"point_of_care": "ACCESSPOC", "pas_bed": "", "ward_code": "ASH", "bed_label": ""},
        ),
        Row(
            "POST",
            "/admin/interfaces/messages/{message_id}/reprocess",
            ADMIN,
            url="/admin/interfaces/messages/{pas_message_id}/reprocess",
        ),
        Row("GET", "/admin/users/{user_id}", ADMIN),
        Row("POST", "/admin/users/{user_id}/disable", ADMIN),
        Row("POST", "/admin/users/{user_id}/enable", ADMIN),
        Row("POST", "/admin/users/{user_id}/revoke-tokens", ADMIN),
        Row(
            "POST",
            "/admin/users/{user_id}/password",
            ADMIN,
            body={"password": "tulip-harbour-lantern"},
        ),
        Row("GET", "/", PUBLIC),  # a redirect to /wards, which asks for sign-in
        # --- pages: wards, beds, admissions -----------------------------------------------
        Row("GET", "/wards", SIGNED_IN),
        Row("GET", "/wards/{code}", READ),
        Row(
            "GET",
            "/wards/{code}/beds/{label}/admit",
            PLACE,
            url="/wards/{code}/beds/{empty_bed}/admit",
        ),
        Row(
            "POST",
            "/wards/{code}/beds/{label}/admit",
            PLACE,
            url="/wards/{code}/beds/{empty_bed}/admit",
            body=b["f_admit"],
        ),
        Row(
            "GET",
            "/wards/{code}/beds/{label}/close",
            BEDS,
            url="/wards/{code}/beds/{empty_bed}/close",
        ),
        Row(
            "POST",
            "/wards/{code}/beds/{label}/status",
            BEDS,
            url="/wards/{code}/beds/{empty_bed}/status",
            body=b["f_close_bed"],
        ),
        Row("GET", "/admissions/{admission_id}/transfer", PLACE),
        Row("POST", "/admissions/{admission_id}/transfer", PLACE, body=b["f_transfer"]),
        Row("GET", "/admissions/{admission_id}", READ),
        Row(
            "POST", "/admissions/{admission_id}/purpose-reviews", WRITE, body=b["f_purpose_review"]
        ),
        Row("POST", "/admissions/{admission_id}/legal-status", WRITE, body=b["f_legal_status"]),
        Row("POST", "/admissions/{admission_id}/purpose", WRITE, body=b["f_purpose"]),
        Row("GET", "/admissions/{admission_id}/discharge", WRITE),
        Row("POST", "/admissions/{admission_id}/discharge", WRITE, body=b["f_discharge"]),
        Row("GET", "/admissions/{admission_id}/ready-for-discharge", WRITE),
        Row("POST", "/admissions/{admission_id}/ready-for-discharge", WRITE, body=b["f_ready"]),
        Row("GET", "/ready-for-discharge/{period_id}/end", WRITE),
        Row("GET", "/admissions/{admission_id}/rights/new", MHA_WRITE),
        Row("POST", "/admissions/{admission_id}/rights", MHA_WRITE, body=b["f_rights"]),
        Row("GET", "/mha/diary", READ, url="/mha/diary?ward_code={code}"),
        Row("POST", "/ready-for-discharge/{period_id}/end", WRITE, body=b["f_ready_end"]),
        # --- pages: seclusion, segregation, use of force ------------------------------------
        Row("GET", "/admissions/{admission_id}/seclusions/new", WRITE),
        Row("POST", "/admissions/{admission_id}/seclusions/new", WRITE, body=b["f_seclusion"]),
        Row("GET", "/admissions/{admission_id}/segregations/new", WRITE),
        Row("POST", "/admissions/{admission_id}/segregations/new", WRITE, body=b["f_segregation"]),
        Row("GET", "/seclusions/{seclusion_id}/review", WRITE),
        Row("POST", "/seclusions/{seclusion_id}/review", WRITE, body=b["f_seclusion_review"]),
        Row("GET", "/seclusions/{seclusion_id}/observation", WRITE),
        Row("POST", "/seclusions/{seclusion_id}/observation", WRITE, body=b["f_observation"]),
        Row("GET", "/seclusions/{seclusion_id}/end", WRITE),
        Row("POST", "/seclusions/{seclusion_id}/end", WRITE, body=b["f_end"]),
        Row("GET", "/segregations/{segregation_id}/review", WRITE),
        Row("POST", "/segregations/{segregation_id}/review", WRITE, body=b["f_segregation_review"]),
        Row("GET", "/segregations/{segregation_id}/notifications", WRITE),
        Row(
            "POST",
            "/segregations/{segregation_id}/notifications",
            WRITE,
            body=b["f_notifications"],
        ),
        Row("GET", "/segregations/{segregation_id}/end", WRITE),
        Row("POST", "/segregations/{segregation_id}/end", WRITE, body=b["f_end"]),
        Row("GET", "/seclusions/{seclusion_id}", READ),
        Row("GET", "/segregations/{segregation_id}", READ),
        Row("GET", "/admissions/{admission_id}/use-of-force/new", WRITE),
        Row("POST", "/admissions/{admission_id}/use-of-force/new", WRITE, body=b["f_force"]),
        Row("GET", "/use-of-force/{intervention_id}", READ),
        Row("GET", "/use-of-force/{intervention_id}/edit", WRITE),
        Row(
            "POST",
            "/use-of-force/{intervention_id}/edit",
            WRITE,
            body={**b["f_force"], "correction_reason": "Typo"},
        ),
        # --- pages: audit, alerts, rules --------------------------------------------------
        Row("GET", "/admin/audit", ADMIN),
        Row("GET", "/alerts", READ_ANY),
        Row("GET", "/alerts/{alert_id}", READ),
        Row("POST", "/alerts/{alert_id}/acknowledge", ALERT_WORK, body=b["f_acknowledge"]),
        Row("POST", "/alerts/{alert_id}/resolve", ALERT_WORK, body=b["f_resolve"]),
        Row("POST", "/alerts/acknowledge", ALERT_WORK, body=b["f_acknowledge_many"]),
        Row("GET", "/rules", RULES_READ),
        Row("GET", "/rules/{code}", RULES_READ, url="/rules/{rule}"),
        Row("POST", "/rules/{code}", RULES_EDIT, url="/rules/{rule}", body=b["f_rule"]),
        Row("GET", "/admin/rule-runs", RUNS_READ),
        Row("POST", "/admin/rule-runs", ADMIN),
        # --- pages: bed flow --------------------------------------------------------------
        Row("GET", "/flow", READ_ANY),
        Row(
            "GET",
            "/flow/search",
            READ_OFF_WARD,
            url="/flow/search?patient_id={waiting_patient_id}",
        ),
        Row("GET", "/flow/requests/new", PLACE_ANY),
        Row("POST", "/flow/requests", PLACE_ANY, body=b["f_bed_request"]),
        Row("GET", "/flow/requests/{request_id}", READ_OFF_WARD),
        Row("POST", "/flow/requests/{request_id}/cancel", PLACE_OFF_WARD, body=b["f_cancel"]),
        Row("GET", "/flow/placements/new", PLACEMENT_WRITERS),
        Row("POST", "/flow/placements", PLACEMENT_WRITERS, body=b["f_placement"]),
        Row("GET", "/flow/placements/{placement_id}", READ_OFF_WARD),
        Row(
            "POST",
            "/flow/placements/{placement_id}/reviews",
            PLACEMENT_WRITERS,
            body=b["f_placement_review"],
        ),
        Row(
            "POST",
            "/flow/placements/{placement_id}/end",
            PLACEMENT_WRITERS,
            body=b["f_placement_end"],
        ),
    ]


# Routes being added by other engineers while this table was written: a prefix, who may use
# it, and no request made (their ids and bodies are theirs to know). A route under one of
# these prefixes is "in the table"; test_prefixed_routes_refuse_who_they_must checks the
# refusals that need no record (no one signed in, and roles the prefix's rule leaves out).
PREFIXES: list[tuple[str, Who]] = [
    (f"{API}/reports/", REPORT_READERS),
    ("/reports/", REPORT_READERS),
    # FHIR: the capability statement is public (clients read it before signing in); places
    # are read by anyone signed in, like GET /api/v1/wards; an unknown resource type is
    # "not found" for anyone signed in; the rest like the API's clinical read.
    ("/fhir/r4/metadata", PUBLIC),
    ("/fhir/r4/Location", SIGNED_IN),
    ("/fhir/r4/{rest", SIGNED_IN),
    ("/fhir/r4/", READ_ANY),
    ("/admin/exports", ADMIN),
]
# Not routes a person uses: static files (public) and the mounts of the framework.
NOT_ROUTES = {"/static"}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the application answers (HEAD goes with GET)."""
    for context in iter_route_contexts(app.routes):
        path = context.path
        if path is None or path in NOT_ROUTES:
            continue
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield method, path


def prefixed(path: str) -> str | None:
    """The first prefix of PREFIXES the path falls under (the most particular comes first)."""
    for prefix, _who in PREFIXES:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return prefix
    return None


# --- the tests ---------------------------------------------------------------------------


# Users: (username, role, wards) as tests/factories.World builds them; "nurse" works on ASH,
# "birchnurse" on BIRCH. Each row is tried by every user on ASH's records, and by the ASH
# nurse on BIRCH's (a ward's staff reaching for another ward's records by id, both ways).
USERS: list[tuple[str | None, str | None, set[str], str]] = [
    ("admin", "admin", set(), "ASH"),
    ("nurse", "ward_staff", {"ASH"}, "ASH"),
    ("birchnurse", "ward_staff", {"BIRCH"}, "ASH"),
    ("nurse", "ward_staff", {"ASH"}, "BIRCH"),
    ("beds", "bed_manager", set(), "ASH"),
    ("lead", "safeguarding_lead", set(), "ASH"),
    ("director", "director", set(), "ASH"),
    ("svc", "service", set(), "ASH"),
    (None, None, set(), "ASH"),
]
# The only pages an integration (service) account reaches, besides the public ones.
SERVICE_PAGES = {"/account", "/account/tokens", "/account/tokens/{token_id}/revoke", "/logout"}


def may(row: Row, role: str | None, wards: set[str], ward: str) -> bool:
    """The table's answer, with the service role's rule: API reads, no pages but its own."""
    if not row.who.allows(role, wards, ward):
        return False
    if role == "service" and not row.is_api and not row.who.signed_out:
        return row.path in SERVICE_PAGES
    return True


ALL_ROWS = rows(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))  # the keys; each test makes its own


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) in ids:
            return ids[whole.group(1)]
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def record_counts(session: AsyncSession) -> dict[str, int]:
    """How many rows each table holds (the audit log among them): a refused write changes
    none of these."""
    from app.db import Base

    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return counts


@asynccontextmanager
async def rolled_back(session: AsyncSession) -> AsyncIterator[None]:
    """Whatever happens inside is undone: a savepoint of our own around the request (the
    app's commits release savepoints nested inside it)."""
    await session.commit()
    conn = session.bind
    assert isinstance(conn, AsyncConnection)
    nested = await conn.begin_nested()
    try:
        yield
    finally:
        await session.rollback()
        if nested.is_active:
            await nested.rollback()
        session.expunge_all()


@dataclass
class Outcome:
    status: int
    location: str
    text: str


async def request_as(
    app: FastAPI, trust: Trust, row: Row, username: str | None, ward: str, *, csrf: bool = True
) -> Outcome:
    ids = trust.on[ward].ids
    url = _fill(row.url or row.path, ids)
    body = _fill(row.body, ids)
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if username is not None:
        if row.is_api:
            headers["Authorization"] = f"Bearer {trust.world.tokens[username]}"
        else:
            cookies["wardflow_session"] = trust.cookies[username]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as client:
        if row.content is not None:
            headers["Content-Type"] = "application/hl7-v2"
            response = await client.request(row.method, url, content=row.content, headers=headers)
        elif row.is_api:
            response = await client.request(row.method, url, json=body, headers=headers)
        else:
            form = dict(body or {})
            if row.path == "/login" and row.method == "POST":
                # Signing in has its own CSRF token, from the sign-in form's cookie.
                page = await client.get("/login")
                form["csrf_token"] = hidden_csrf(page.text) if csrf else ""
            elif csrf and username is not None and row.method == "POST":
                form["csrf_token"] = trust.csrf[username]
            response = await client.request(
                row.method, url, data=form if row.method == "POST" else None, headers=headers
            )
    return Outcome(response.status_code, response.headers.get("location", ""), response.text)


def judge(row: Row, allowed: bool, signed_in: bool, outcome: Outcome) -> str | None:
    """None if the outcome is what the table says; otherwise what went wrong."""
    status = outcome.status
    if status >= 500:
        return f"server error {status}"
    if allowed:
        if status < 400 and not outcome.location.startswith("/login?next="):
            return None
        if row.allowed_status is not None and status == row.allowed_status:
            return None
        return f"expected allowed (2xx/3xx), got {status} {outcome.location}".strip()
    if not signed_in and not row.is_api:
        if status == 303 and outcome.location.startswith("/login?next="):
            return None
        return f"expected a redirect to sign in, got {status} {outcome.location}"
    expected = row.refused_status if signed_in else 401
    if status == expected:
        return None
    return f"expected {expected}, got {status}"


def _family(ward: str) -> str:
    return ASH_FAMILY if ward == "ASH" else BIRCH_FAMILY


def _names_in(text: str) -> set[str]:
    lowered = text.lower()
    return {n for n in (ASH_FAMILY, BIRCH_FAMILY) if n.lower() in lowered}


AREAS = {
    "localities": "places and admissions",
    "sites": "places and admissions",
    "wards": "places and admissions",
    "patients": "places and admissions",
    "admissions": "places and admissions",
    "ready-for-discharge": "places and admissions",
    "mha-periods": "mental health act",
    "certificates": "mental health act",
    "place-of-safety-episodes": "mental health act",
    "mha": "mental health act",
    "bed-requests": "bed flow",
    "beds": "bed flow",
    "out-of-area-placements": "bed flow",
    "flow": "bed flow",
    "seclusions": "restrictive practice",
    "segregations": "restrictive practice",
    "restrictive-interventions": "restrictive practice",
    "use-of-force": "restrictive practice",
    "rules": "rules and alerts",
    "rule-runs": "rules and alerts",
    "alerts": "rules and alerts",
    "admin": "rules and alerts",
    "hl7": "rules and alerts",  # tried with them: one more group would build its records again
}


def group(row: Row) -> str:
    """Rows are tried a group at a time (the records are built once per group): the API or
    the pages, by area."""
    if row.is_api:
        return "api: " + AREAS.get(row.path.removeprefix(API).split("/")[1], "other")
    return "pages: " + AREAS.get(row.path.split("/")[1], "other")


GROUPS = sorted({group(r) for r in ALL_ROWS})


def shown(outcome: Outcome) -> str:
    """What a failure shows of a response: a problem's detail, or a page's heading and its
    error messages."""
    if outcome.text.lstrip().startswith("<"):
        doc = parse(outcome.text)
        h1 = doc.find("h1")
        errors = [n.text() for n in doc.find_all(class_="nhsuk-error-message")]
        problem = [n.text() for n in doc.find_all(class_="nhsuk-error-summary")]
        return f"page {h1.text() if h1 else ''!r} {errors or problem}"
    return outcome.text[:300]


@pytest.mark.parametrize("group_name", GROUPS)
async def test_route_access(app, session, trust, group_name):
    """Each row of the group, tried by every user; each try is rolled back before the next,
    so each sees the same records."""
    failures: list[str] = []
    for row in rows(trust.now):
        if group(row) == group_name:
            failures += await try_row(app, session, trust, row)
    assert not failures, "\n".join(failures)


async def try_row(app: FastAPI, session: AsyncSession, trust: Trust, row: Row) -> list[str]:
    failures: list[str] = []
    for username, role, wards, ward in USERS:
        allowed = may(row, role, wards, ward)
        who = f"{username or 'no one'} on {ward}'s records"
        writes = row.method != "GET"
        async with rolled_back(session):
            before = await record_counts(session) if writes else {}
            await session.commit()
            outcome = await request_as(app, trust, row, username, ward)
            problem = judge(row, allowed, username is not None, outcome)
            if problem:
                failures.append(f"{who}: {problem}: {shown(outcome)}")
            elif not allowed:
                after = await record_counts(session) if writes else {}
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                if changed:
                    failures.append(f"{who}: refused, yet wrote {changed}")
                # A refusal says nothing about the person reached for.
                if _family(ward) in _names_in(outcome.text):
                    failures.append(f"{who}: the refusal names the patient")
            # Whoever reads: never another ward's patients, and a director no patient at all.
            if allowed and username is not None:
                seen = _names_in(outcome.text)
                if role == "director" and seen:
                    failures.append(f"{who}: a director was shown patients {seen}")
                if role == "ward_staff":
                    others = seen - {ASH_FAMILY if "ASH" in wards else BIRCH_FAMILY}
                    if others:
                        failures.append(f"{who}: shown another ward's patients {others}")
    return [f"{row.method} {row.path} ({row.who.name}): {f}" for f in failures]


def test_every_route_is_in_the_table(app):
    """A route added without a row here fails: say who may use it before it ships."""
    table = {r.key for r in ALL_ROWS}
    missing = [
        f"{method} {path}"
        for method, path in app_routes(app)
        if (method, path) not in table and prefixed(path) is None
    ]
    stale = sorted(f"{m} {p}" for m, p in table - set(app_routes(app)))
    assert not missing, "routes with no row in the access table:\n" + "\n".join(missing)
    assert not stale, "rows for routes that no longer exist:\n" + "\n".join(stale)


@pytest.mark.parametrize("prefix, who", PREFIXES, ids=[p for p, _ in PREFIXES])
async def test_prefixed_routes_refuse_who_they_must(app, session, trust, prefix, who):
    """Routes under a prefix that other work is adding (reports, FHIR, exports): no one
    signed in, and every role the prefix's rule leaves out, is refused, with any id."""
    found = [(m, p) for m, p in app_routes(app) if prefixed(p) == prefix]
    if not found:
        pytest.skip(f"no routes under {prefix} yet")
    failures = []
    for method, path in found:
        url = re.sub(r"\{[^}]+\}", "1", path)
        row = Row(method, path, who, url=url, body={})
        for username, role, wards, ward in USERS:
            if may(row, role, wards, ward):
                continue
            async with rolled_back(session):
                outcome = await request_as(app, trust, row, username, ward)
            problem = judge(row, False, username is not None, outcome)
            if problem:
                failures.append(f"{method} {path} as {username or 'no one'}: {problem}")
    assert not failures, "\n".join(failures)


# --- people who left, moved, or were never admitted (issue 17 findings 1 and 2) ------------
#
# Ward staff read a person through a stay on their ward that is open or ended less than
# WARDFLOW_RECORDS_AFTER_DISCHARGE_DAYS (7) ago, and only what was recorded on such a stay.
# Every read path is tried: the JSON API, FHIR read and search, the pages, an htmx
# fragment; reports and exports (CSV/PDF, MHSDS) are refused to ward staff outright.

WEEK = timedelta(days=7)


async def _person(client: httpx.AsyncClient, world: World, family: str) -> dict[str, Any]:
    return await _call(
        client, world, "POST", "/patients", patient_body(given_name="Ida", family_name=family)
    )


async def _admit_at(
    client: httpx.AsyncClient, world: World, patient_id: int, ward: str, bed: str, at: datetime
) -> dict[str, Any]:
    return await _call(
        client,
        world,
        "POST",
        "/admissions",
        {
            "patient_id": patient_id,
            "ward_code": ward,
            "bed_label": bed,
            "admitted_at": iso(at),
            "legal_status": "s2",
            "reason": "Crisis",
            "expected_benefit": "Safety",
        },
    )


async def _secluded(
    client: httpx.AsyncClient, world: World, admission_id: int, at: datetime
) -> dict[str, Any]:
    seclusion = await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission_id}/seclusions",
        {"started_at": iso(at), "authorised_by_role": "psychiatrist", "reason": "Violence"},
    )
    await _call(
        client,
        world,
        "POST",
        f"/seclusions/{seclusion['id']}/end",
        {"at": iso(at + timedelta(hours=1)), "note": "Calm"},
    )
    return seclusion


async def _force(
    client: httpx.AsyncClient, world: World, admission_id: int, at: datetime
) -> dict[str, Any]:
    return await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission_id}/restrictive-interventions",
        force_body(at + timedelta(hours=20)),
    )


@dataclass
class Reach:
    """What a reader reached for one person: (path, status) per read path, and whether the
    person was in each list or search."""

    by_id: dict[str, int]
    listed: dict[str, bool]


async def reach(
    client: httpx.AsyncClient,
    world: World,
    page: Any,
    username: str,
    *,
    patient_id: int,
    admission_id: int | None = None,
    seclusion_id: int | None = None,
    force_id: int | None = None,
) -> Reach:
    auth = world.auth(username)
    paths = {
        "api patient": f"{API}/patients/{patient_id}",
        "fhir Patient": f"/fhir/r4/Patient/{patient_id}",
    }
    if admission_id is not None:
        paths.update(
            {
                "api admission": f"{API}/admissions/{admission_id}",
                "fhir Encounter": f"/fhir/r4/Encounter/{admission_id}",
                "page admission": f"/admissions/{admission_id}",
            }
        )
    if seclusion_id is not None:
        paths.update(
            {
                "api seclusion": f"{API}/seclusions/{seclusion_id}",
                "page seclusion": f"/seclusions/{seclusion_id}",
            }
        )
    if force_id is not None:
        paths.update(
            {
                "api force": f"{API}/restrictive-interventions/{force_id}",
                "page force": f"/use-of-force/{force_id}",
                "fragment force": f"/use-of-force/{force_id}#htmx",
            }
        )
    by_id = {}
    for name, path in paths.items():
        if name.startswith(("page", "fragment")):
            url = path.removesuffix("#htmx")
            response = await page.get(url, htmx=path.endswith("#htmx"))
        else:
            response = await client.get(path, headers=auth)
        by_id[name] = response.status_code
    listed = {}
    admissions = (await client.get(f"{API}/admissions", headers=auth)).json()
    listed["api admissions"] = any(a["patient_id"] == patient_id for a in admissions)
    found = await client.get(f"/fhir/r4/Patient?_id={patient_id}", headers=auth)
    listed["fhir Patient search"] = found.json()["total"] > 0
    found = await client.get(f"/fhir/r4/Encounter?patient=Patient/{patient_id}", headers=auth)
    listed["fhir Encounter search"] = found.json()["total"] > 0
    return Reach(by_id, listed)


async def alert_reach(
    client: httpx.AsyncClient, world: World, page: Any, username: str, *, alert_id: int
) -> Reach:
    """What a reader reached of one alert about a person: an alert names the person, so it
    follows the same read rule as the person's record."""
    auth = world.auth(username)
    by_id = {
        "api alert": (await client.get(f"{API}/alerts/{alert_id}", headers=auth)).status_code,
        "fhir Flag": (await client.get(f"/fhir/r4/Flag/{alert_id}", headers=auth)).status_code,
        "page alert": (await page.get(f"/alerts/{alert_id}")).status_code,
    }
    every = "&".join(f"status={s}" for s in ("open", "acknowledged", "cleared", "resolved"))
    listed_api = (await client.get(f"{API}/alerts?{every}", headers=auth)).json()
    flags = (await client.get(f"/fhir/r4/Flag?_id={alert_id}", headers=auth)).json()
    queue = await page.get("/alerts")
    listed = {
        "api alerts": any(a["id"] == alert_id for a in listed_api),
        "fhir Flag search": flags["total"] > 0,
        "page alerts queue": f'href="/alerts/{alert_id}"' in queue.text,
    }
    return Reach(by_id, listed)


async def _alerts_about(client: httpx.AsyncClient, world: World, admission_id: int) -> list[int]:
    """Run the rules now (as the admin) and give the ids of the alerts about the admission."""
    await client.post(f"{API}/rules/run", json={}, headers=world.auth("admin"))
    every = "&".join(f"status={s}" for s in ("open", "acknowledged", "cleared"))
    found = await client.get(
        f"{API}/alerts?admission_id={admission_id}&{every}", headers=world.auth("admin")
    )
    return [a["id"] for a in found.json()]


def allowed(reached: Reach) -> set[str]:
    return {name for name, status in reached.by_id.items() if status == 200}


def refused_everywhere(reached: Reach) -> list[str]:
    """What was not refused: every by-id read is 403 and no list shows the person."""
    wrong = [f"{n}: {s}" for n, s in reached.by_id.items() if s != 403]
    return wrong + [n for n, shown in reached.listed.items() if shown]


async def test_ward_staff_do_not_read_people_never_admitted(client, world, signed_in):
    """Registered only, or waiting for a bed: no ward's staff read them by any path."""
    never = await _person(client, world, "Neverin")
    waiting = await _person(client, world, "Waitwell")
    await _call(
        client,
        world,
        "POST",
        "/bed-requests",
        {
            "patient_id": waiting["id"],
            "decision_to_admit_at": iso(world.now - timedelta(hours=2)),
            "ward_type": "adult_acute",
        },
    )
    nurse = await signed_in("nurse")
    for person in (never, waiting):
        reached = await reach(client, world, nurse, "nurse", patient_id=person["id"])
        assert refused_everywhere(reached) == [], person["family_name"]
    requests_seen = (await client.get(f"{API}/bed-requests", headers=world.auth("nurse"))).json()
    assert requests_seen == []
    # The safeguarding lead and the bed manager read them as before.
    for username in ("lead", "beds"):
        reached = await reach(client, world, None, username, patient_id=never["id"])
        assert allowed(reached) == {"api patient", "fhir Patient"}


@pytest.mark.parametrize(
    ("after_the_window", "readable"),
    [(-timedelta(seconds=1), True), (timedelta(0), False), (timedelta(seconds=1), False)],
    ids=["a second before 7 days", "exactly 7 days", "a second after 7 days"],
)
async def test_ward_staff_read_their_own_wards_stay_for_7_days_after_discharge(
    client, world, clock, signed_in, after_the_window, readable
):
    """Discharged from ASH: ASH reads the stay (and its seclusion and use of force) for 7
    days, to complete the records; not a second longer. BIRCH never reads it."""
    discharged_at = world.now - timedelta(days=1)
    person = await _person(client, world, "Leaver")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", discharged_at - timedelta(days=5)
    )
    seclusion = await _secluded(client, world, admission["id"], discharged_at - timedelta(days=4))
    force = await _force(client, world, admission["id"], discharged_at - timedelta(days=3))
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission['id']}/discharge",
        {"at": iso(discharged_at), "destination": "usual_residence"},
    )
    clock.now = discharged_at + WEEK + after_the_window
    nurse, birch = await signed_in("nurse"), await signed_in("birchnurse")
    ids = {
        "patient_id": person["id"],
        "admission_id": admission["id"],
        "seclusion_id": seclusion["id"],
        "force_id": force["id"],
    }

    own = await reach(client, world, nurse, "nurse", **ids)
    other = await reach(client, world, birch, "birchnurse", **ids)
    # The purpose review owed 72 h after admission was missed: an alert on ASH names them.
    alert_ids = await _alerts_about(client, world, admission["id"])
    assert alert_ids
    own_alert = await alert_reach(client, world, nurse, "nurse", alert_id=alert_ids[0])

    if readable:
        assert set(own.by_id.values()) == {200}, own.by_id
        assert all(own.listed.values()), own.listed
        assert set(own_alert.by_id.values()) == {200}, own_alert.by_id
        assert all(own_alert.listed.values()), own_alert.listed
    else:
        assert refused_everywhere(own) == []
        assert refused_everywhere(own_alert) == []
    assert refused_everywhere(other) == []


async def test_after_a_move_the_old_ward_reads_only_its_own_stay(client, world, signed_in):
    """Moved from ASH to BIRCH: ASH reads its stay and what was recorded on it, not the
    seclusion or use of force recorded later on BIRCH, nor the BIRCH stay itself."""
    person = await _person(client, world, "Mover")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=5)
    )
    ash_seclusion = await _secluded(client, world, admission["id"], world.now - timedelta(days=4))
    ash_force = await _force(client, world, admission["id"], world.now - timedelta(days=4))
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission['id']}/transfer",
        {
            "ward_code": "BIRCH",
            "bed_label": "B1",
            "at": iso(world.now - timedelta(days=3)),
            "reason": "Needs a quieter ward",
        },
    )
    birch_seclusion = await _secluded(client, world, admission["id"], world.now - timedelta(days=2))
    birch_force = await _force(client, world, admission["id"], world.now - timedelta(days=2))
    nurse = await signed_in("nurse")

    own = await reach(
        client,
        world,
        nurse,
        "nurse",
        patient_id=person["id"],
        admission_id=admission["id"],
        seclusion_id=ash_seclusion["id"],
        force_id=ash_force["id"],
    )
    later = await reach(
        client,
        world,
        nurse,
        "nurse",
        patient_id=person["id"],
        seclusion_id=birch_seclusion["id"],
        force_id=birch_force["id"],
    )
    detail = (
        await client.get(f"{API}/admissions/{admission['id']}", headers=world.auth("nurse"))
    ).json()
    page = (await nurse.get(f"/admissions/{admission['id']}")).text
    encounter = (
        await client.get(f"/fhir/r4/Encounter/{admission['id']}", headers=world.auth("nurse"))
    ).json()

    assert set(own.by_id.values()) == {200}, own.by_id
    assert all(own.listed.values()), own.listed
    assert {n: s for n, s in later.by_id.items() if "patient" not in n.lower()} == {
        "api seclusion": 403,
        "page seclusion": 403,
        "api force": 403,
        "page force": 403,
        "fragment force": 403,
    }
    assert [s["ward_code"] for s in detail["stays"]] == ["ASH"]
    assert {(e["kind"], e["id"]) for e in detail["episodes"]} == {
        ("seclusion", ash_seclusion["id"]),
        ("use_of_force", ash_force["id"]),
    }
    assert f"/seclusions/{birch_seclusion['id']}" not in page
    assert f"/use-of-force/{birch_force['id']}" not in page
    assert f"/seclusions/{ash_seclusion['id']}" in page
    # The stays table lists ASH's stay only (where the person is now is still said: the
    # sending ward made the move).
    assert "Ash Ward, A1" in page and "Birch Ward, B1" not in page
    wards = {loc["location"]["display"] for loc in encounter["location"]}
    assert wards == {"Ash Ward", "Ash Ward bed A1"}
    # The ward the person is on now reads everything.
    birch = await signed_in("birchnurse")
    whole = await reach(
        client,
        world,
        birch,
        "birchnurse",
        patient_id=person["id"],
        admission_id=admission["id"],
        seclusion_id=birch_seclusion["id"],
        force_id=birch_force["id"],
    )
    assert set(whole.by_id.values()) == {200}, whole.by_id


async def test_reports_and_exports_are_not_a_way_round_for_ward_staff(client, world, signed_in):
    """Downloads that hold people (the MHSDS export) or the trust's figures (weekly report
    CSV and PDF) are refused to ward staff whoever they ask about."""
    nurse = await signed_in("nurse")
    assert (await nurse.get("/admin/exports/mhsds.zip")).status_code == 403
    for name in ("weekly", "weekly.csv", "weekly.pdf"):
        api = await client.get(
            f"{API}/reports/{name}?week_ending=2026-03-08", headers=world.auth("nurse")
        )
        assert api.status_code == 403, name
