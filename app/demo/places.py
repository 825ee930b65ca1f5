"""The demo trust's places and accounts: localities, four invented hospitals in real
Yorkshire towns, their thirteen wards and beds, the beds closed now, and the demo sign-ins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import DEMO_PASSWORD, create_user
from app.demo.plan import Progress, WardSpec
from app.wards.models import Bed, BedClosure, Locality, Site, Ward

# (username, role, ward codes). Ward staff see only their wards; the others see the trust.
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admin", "admin", ()),
    ("nurse", "ward_staff", ("ASH", "BIRCH")),
    ("bedmanager", "bed_manager", ()),
    ("safeguarding", "safeguarding_lead", ()),
    ("director", "director", ()),
)


@dataclass(frozen=True)
class LocalitySpec:
    code: str
    name: str
    latitude: float
    longitude: float
    # Share of the trust's patients who live here; 0 for places outside the trust.
    weight: float


LOCALITIES: tuple[LocalitySpec, ...] = (
    LocalitySpec("LEEDS", "Leeds", 53.7997, -1.5492, 30),
    LocalitySpec("BRADFORD", "Bradford", 53.7960, -1.7594, 20),
    LocalitySpec("WAKEFIELD", "Wakefield", 53.6830, -1.4977, 13),
    LocalitySpec("HUDDERSFIELD", "Huddersfield", 53.6458, -1.7850, 10),
    LocalitySpec("HALIFAX", "Halifax", 53.7248, -1.8658, 8),
    LocalitySpec("HARROGATE", "Harrogate", 53.9921, -1.5418, 6),
    LocalitySpec("YORK", "York", 53.9600, -1.0873, 10),
    LocalitySpec("SCARBOROUGH", "Scarborough", 54.2831, -0.3998, 4),
    # Far from the trust: where out-of-area placements go, and home to a few people
    # placed here by other trusts.
    LocalitySpec("NORTHAMPTON", "Northampton", 52.2405, -0.9027, 0),
    LocalitySpec("BRISTOL", "Bristol", 51.4545, -2.5879, 0),
    LocalitySpec("NORWICH", "Norwich", 52.6309, 1.2974, 0),
)

# (code, name, locality code). Invented hospitals in real towns.
SITES: tuple[tuple[str, str, str], ...] = (
    ("AIRE", "Aire Valley Hospital", "LEEDS"),
    ("MOOR", "Moorside Hospital", "BRADFORD"),
    ("CALDER", "Calder Park Hospital", "WAKEFIELD"),
    ("OUSE", "Ouse Bank Hospital", "YORK"),
)


WARDS: tuple[WardSpec, ...] = (
    WardSpec("ASH", "AIRE", "adult_acute", "male", 18, 64, 20, 0.95),
    WardSpec("BIRCH", "AIRE", "adult_acute", "female", 18, 64, 18, 0.94),
    WardSpec("CEDAR", "AIRE", "picu", "male", 18, 64, 10, 0.90),
    WardSpec("ELM", "AIRE", "older_adult_acute", "female", 65, 130, 16, 0.80),
    WardSpec("HAZEL", "MOOR", "adult_acute", "male", 18, 64, 18, 0.94),
    WardSpec("HOLLY", "MOOR", "adult_acute", "female", 18, 64, 18, 0.88),
    WardSpec("IVY", "MOOR", "picu", "female", 18, 64, 8, 0.75),
    WardSpec("JUNIPER", "MOOR", "rehabilitation", "mixed", 18, 130, 14, 0.80),
    WardSpec("LARCH", "CALDER", "forensic", "male", 18, 130, 16, 0.90),
    WardSpec("MAPLE", "CALDER", "ld_autism", "mixed", 18, 130, 10, 0.70),
    WardSpec("OAK", "CALDER", "camhs", "mixed", 12, 17, 12, 0.67),
    WardSpec("ROWAN", "OUSE", "adult_acute", "mixed", 18, 130, 22, 0.86),
    WardSpec("WILLOW", "OUSE", "older_adult_acute", "mixed", 65, 130, 16, 0.75),
)

# Bed label -> (why it is closed, how many days ago it closed).
CLOSED_BEDS: dict[str, tuple[str, int]] = {
    "ASH-07": ("Ligature work: en-suite door being replaced", 6),
    "HOLLY-12": ("Deep clean after a norovirus outbreak", 2),
    "LARCH-03": ("Window repair after damage", 11),
    "ROWAN-15": ("Closed to keep safe staffing levels", 20),
}


async def write_places(session: AsyncSession, report: Progress, now: datetime) -> dict[str, Bed]:
    """Localities, sites, wards and beds; returns the beds by label. One flush per level."""
    total = 4
    localities = {
        spec.code: Locality(
            code=spec.code, name=spec.name, latitude=spec.latitude, longitude=spec.longitude
        )
        for spec in LOCALITIES
    }
    session.add_all(localities.values())
    await session.flush()
    report("places", 1, total)

    sites = {
        code: Site(code=code, name=name, locality_id=localities[locality].id)
        for code, name, locality in SITES
    }
    session.add_all(sites.values())
    await session.flush()
    report("places", 2, total)

    wards = {
        spec.code: Ward(
            code=spec.code,
            name=spec.name,
            site_id=sites[spec.site].id,
            ward_type=spec.ward_type,
            sex=spec.sex,
            min_age=spec.min_age,
            max_age=spec.max_age,
            # Made now with years of history: app/wards/beds.py counts them open from
            # their first stay.
            created_at=now,
        )
        for spec in WARDS
    }
    session.add_all(wards.values())
    await session.flush()
    report("places", 3, total)

    # Every bed starts open: the database refuses any stay, even a past one, in a closed
    # bed, so the closures are made after the history is written (close_beds).
    beds = {
        label: Bed(
            ward_id=wards[spec.code].id,
            label=label,
            status="open",
            closed_reason=None,
            created_at=now,
        )
        for spec in WARDS
        for label in bed_labels(spec)
    }
    session.add_all(beds.values())
    await session.flush()
    report("places", 4, total)
    return beds


async def write_users(
    session: AsyncSession, now: datetime, report: Progress
) -> list[tuple[str, str, str]]:
    """The demo accounts, through create_user so passwords are hashed and audited as usual."""
    created = []
    for done, (username, role, ward_codes) in enumerate(DEMO_USERS, start=1):
        await create_user(
            session,
            username=username,
            role=role,
            password=DEMO_PASSWORD,
            ward_codes=list(ward_codes),
            now=now,
            # Past the breached-password check (its password is public); flagged until changed.
            demo=True,
        )
        created.append((username, role, DEMO_PASSWORD))
        report("accounts", done, len(DEMO_USERS))
    return created


async def close_beds(session: AsyncSession, beds: dict[str, Bed], now: datetime) -> None:
    """Close the beds out of use now, each with its closure since the day it closed (the
    weekly report counts open beds from bed_closures); their last stays ended before."""
    for label, (reason, days_ago) in CLOSED_BEDS.items():
        beds[label].status = "closed"
        beds[label].closed_reason = reason
        session.add(
            BedClosure(
                bed_id=beds[label].id, closed_at=now - timedelta(days=days_ago), reason=reason
            )
        )
    await session.flush()


def bed_labels(spec: WardSpec) -> list[str]:
    return [f"{spec.code}-{n:02d}" for n in range(1, spec.beds + 1)]
