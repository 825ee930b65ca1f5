"""Building records for tests through the same services the app uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import nhs_number
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.models import ApiToken, User
from app.auth.security import hash_password
from app.wards import admissions, schemas, service
from app.wards.models import Admission, Patient, Ward

PASSWORD = "correct-horse-battery"
TEST_CLIENT = "127.0.0.1"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def _valid_nhs_numbers() -> itertools.islice[str]:
    candidates = (f"{n:010d}" for n in itertools.count(9_990_000_000))
    return itertools.islice((c for c in candidates if nhs_number.is_valid(c)), None)


_NHS_NUMBERS = _valid_nhs_numbers()


def next_nhs_number() -> str:
    return next(_NHS_NUMBERS)


def invalid_nhs_number() -> str:
    valid = next_nhs_number()
    return valid[:9] + str((int(valid[9]) + 1) % 10)


@dataclass
class World:
    session: AsyncSession
    now: datetime
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    wards: dict[str, Ward] = field(default_factory=dict)

    @classmethod
    async def build(cls, session: AsyncSession, now: datetime) -> World:
        world = cls(session, now)
        admin = User(
            username="admin",
            role="admin",
            password_hash=_PASSWORD_HASH,
            created_at=now,
            active=True,
            failed_logins=0,
        )
        session.add(admin)
        await session.flush()
        world.users["admin"] = admin
        await service.create_locality(
            session,
            actor=admin,
            now=now,
            data=schemas.LocalityIn(code="LDS", name="Leeds", latitude=53.8, longitude=-1.55),
        )
        await service.create_locality(
            session,
            actor=admin,
            now=now,
            data=schemas.LocalityIn(code="YRK", name="York", latitude=53.96, longitude=-1.08),
        )
        await service.create_site(
            session,
            actor=admin,
            now=now,
            data=schemas.SiteIn(code="STJ", name="St James", locality_code="LDS"),
        )
        for code, sex, beds in (("ASH", "female", 6), ("BIRCH", "male", 4), ("CEDAR", "mixed", 3)):
            ward = await service.create_ward(
                session,
                actor=admin,
                now=now,
                data=schemas.WardIn(
                    code=code,
                    name=f"{code.title()} Ward",
                    site_code="STJ",
                    ward_type="adult_acute",
                    sex=sex,
                    min_age=18,
                    max_age=64,
                ),
            )
            world.wards[code] = ward
            for i in range(1, beds + 1):
                await service.add_bed(
                    session,
                    actor=admin,
                    ward_code=code,
                    now=now,
                    data=schemas.BedIn(label=f"{code[0]}{i}"),
                )
        for username, role, wards in (
            ("nurse", "ward_staff", ["ASH"]),
            ("birchnurse", "ward_staff", ["BIRCH"]),
            ("beds", "bed_manager", []),
            ("lead", "safeguarding_lead", []),
            ("director", "director", []),
        ):
            user = User(
                username=username,
                role=role,
                password_hash=_PASSWORD_HASH,
                created_at=now,
                active=True,
                failed_logins=0,
                wards=[world.wards[w] for w in wards],
            )
            session.add(user)
            world.users[username] = user
        await session.flush()
        for username, user in world.users.items():
            world.tokens[username] = await auth_service.make_api_token(
                session, user=user, now=now, days=366
            )
        # The tokens have been in use from the test client's address (httpx's ASGITransport
        # calls from 127.0.0.1), so a request is not also a token's first use from a new
        # client, which is audited. And they outlast the histories tests run over (some move
        # the clock almost two years on). tests/auth/test_tokens.py tests a token's first
        # client and its end on tokens of its own.
        await session.execute(
            update(ApiToken).values(
                last_client=TEST_CLIENT, expires_at=now + timedelta(days=10 * 366)
            )
        )
        await session.commit()
        return world

    def auth(self, username: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def patient(self, **overrides: Any) -> Patient:
        data = {
            "nhs_number": next_nhs_number(),
            "given_name": "Jane",
            "family_name": "Smith",
            "date_of_birth": date(1990, 1, 2),
            "sex": "female",
            "ethnic_category": "A",
            "home_locality_code": "LDS",
            **overrides,
        }
        patient = await service.create_patient(
            self.session, actor=self.users["admin"], now=self.now, data=schemas.PatientIn(**data)
        )
        await self.session.commit()
        return patient

    async def admit(
        self,
        patient: Patient | None = None,
        ward: str = "ASH",
        bed: str = "A1",
        at: datetime | None = None,
        **overrides: Any,
    ) -> Admission:
        patient = patient or await self.patient()
        data = schemas.AdmissionIn(
            patient_id=patient.id,
            ward_code=ward,
            bed_label=bed,
            admitted_at=at or self.now - timedelta(days=2),
            legal_status=overrides.pop("legal_status", "s2"),
            reason=overrides.pop("reason", "Severe depression with risk to self"),
            expected_benefit=overrides.pop("expected_benefit", "Safe start of treatment"),
            **overrides,
        )
        admission = await admissions.admit(
            self.session, actor=self.users["admin"], data=data, now=self.now
        )
        await self.session.commit()
        return admission


def admission_body(patient_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "patient_id": patient_id,
        "ward_code": "ASH",
        "bed_label": "A1",
        "admitted_at": "2026-03-10T09:00:00Z",
        "legal_status": "s2",
        "reason": "Psychotic relapse, not safe at home",
        "expected_benefit": "Restart medication and stabilise",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def patient_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "nhs_number": next_nhs_number(),
        "given_name": "Amira",
        "family_name": "Khan",
        "date_of_birth": "1985-06-15",
        "sex": "female",
        "ethnic_category": "J",
        "home_locality_code": "LDS",
        "learning_disability": False,
        "autistic": False,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}
