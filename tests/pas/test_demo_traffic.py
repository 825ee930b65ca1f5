"""The demo's day of PAS traffic (`wardflow adt demo-day`, app/demo/adt.py): planned against
the wards as they are, every message is accepted through the feed, the one sent twice
changes nothing the second time, the one sent ahead of its admission is held and applied,
and the board ends as the messages say (issue 21, scope 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.demo import adt
from app.pas.models import PasHeldMessage, PasMessage
from app.wards.models import Admission, Bed, Patient, Ward, WardStay
from tests.pas.helpers import send

pytestmark = pytest.mark.asyncio


def _field(text: str, segment: str, n: int) -> str:
    line = next(s for s in text.split("\r") if s.startswith(segment + "|"))
    fields = line.split("|")
    return fields[n] if len(fields) > n else ""


def expected_places(before: dict[str, tuple[str, str]], messages: list[adt.Message]) -> dict:  # type: ignore[type-arg]
    """Where each person should be once the messages are applied, in the order of their
    events (a message sent early is held until its turn)."""
    places = dict(before)
    for message in sorted(messages, key=lambda m: m.at):
        nhs = _field(message.text, "PID", 3).split("^")[0]
        point, _, bed, *_ = _field(message.text, "PV1", 3).split("^")
        if message.event in ("A01", "A02"):
            places[nhs] = (point, bed)
        elif message.event == "A03":
            places.pop(nhs, None)
    return places


async def places_now(session) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    rows = await session.execute(
        select(Patient.nhs_number, Ward.code, Bed.label)
        .join(Admission, Admission.patient_id == Patient.id)
        .join(WardStay, WardStay.admission_id == Admission.id)
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Bed, Bed.id == WardStay.bed_id)
        .where(Admission.discharged_at.is_(None), WardStay.ended_at.is_(None))
    )
    return {nhs: (ward, bed) for nhs, ward, bed in rows}


async def test_a_day_of_demo_traffic_is_accepted_and_the_board_ends_as_it_says(
    client, world, session, clock
):
    # People on the board for a while, then three days of traffic ending a week on.
    for ward, bed, sex in (("ASH", "A1", "female"), ("ASH", "A2", "female"),
                           ("ASH", "A3", "female"), ("BIRCH", "B1", "male"),
                           ("BIRCH", "B2", "male"), ("CEDAR", "C1", "male")):  # fmt: skip
        await world.admit(await world.patient(sex=sex), ward=ward, bed=bed)
    clock.now += timedelta(days=7)
    before = await places_now(session)
    messages = await adt.day_of_traffic(session, clock.now, seed=3, hours=72)
    assert messages == await adt.day_of_traffic(session, clock.now, seed=3, hours=72)
    kinds = adt.counts(messages)
    assert kinds["A01"] >= 2 and kinds["A21"] >= 1 and kinds["A02"] + kinds["A03"] >= 1, kinds
    assert all(clock.now - timedelta(hours=72) <= m.at <= clock.now for m in messages)
    control_ids = [_field(m.text, "MSH", 9) for m in messages]
    assert len(control_ids) - len(set(control_ids)) == 1  # one message resent

    for message in messages:
        ack = await send(client, world, message.text)
        assert ack["code"] == "AA", (message.text, ack)

    assert await places_now(session) == expected_places(before, messages)
    # The message sent ahead of its admission was held, then applied.
    held = (await session.execute(select(PasHeldMessage.resolution))).scalars().all()
    assert held == ["applied"]
    # The resend was recognised: one stored message per control id.
    assert await session.scalar(select(func.count(PasMessage.id))) == len(set(control_ids))
