"""The MLLP listener over a real TCP socket: messages, resends, noise, silence (issue 21)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import get_settings
from app.pas import listener
from app.wards.models import Admission, Patient
from tests.factories import next_nhs_number
from tests.pas.helpers import ack_fields, adt

pytestmark = pytest.mark.asyncio
VT, FS_CR = b"\x0b", b"\x1c\r"


@pytest.fixture
async def port(session: AsyncSession, world, monkeypatch) -> AsyncIterator[int]:  # type: ignore[no-untyped-def]
    """The listener on a free port, its sessions inside the test's transaction."""
    monkeypatch.setattr(get_settings(), "pas_idle_seconds", 0.5)
    sessions = async_sessionmaker(
        bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    server = await listener.start(sessions, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def exchange(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader, raw: bytes
) -> dict[str, object]:
    writer.write(raw)
    await writer.drain()
    block = await asyncio.wait_for(reader.readuntil(FS_CR), timeout=10)
    assert block.startswith(VT)
    return ack_fields(block[1:-2].decode())


async def test_messages_over_a_real_socket(port, session):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    nhs = next_nhs_number()
    message = adt("A01", nhs=nhs).encode()
    first = await exchange(writer, reader, VT + message + FS_CR)
    assert first["code"] == "AA", first
    # A resend on the same connection: the same answer, nothing new.
    again = await exchange(writer, reader, VT + message + FS_CR)
    assert again["code"] == "AA" and again["control_id"] == first["control_id"]
    # Noise without framing, then a message the listener still serves.
    noise = await exchange(writer, reader, b"\x00\xffnoise" + FS_CR)
    assert noise["code"] == "AR"
    garbage = await exchange(writer, reader, VT + b"not hl7 at all" + FS_CR)
    assert garbage["code"] == "AR"
    ae = await exchange(writer, reader, VT + adt("A01", nhs="1234567890").encode() + FS_CR)
    assert ae["code"] == "AE"
    writer.close()
    count = await session.scalar(
        select(Admission.id).join(Patient).where(Patient.nhs_number == nhs)
    )
    assert count is not None


async def test_a_silent_client_is_closed_and_others_are_served(port):
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(silent_reader.read(), timeout=5) == b""  # closed by it
    silent_writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ack = await exchange(writer, reader, VT + adt("A28", nhs=next_nhs_number()).encode() + FS_CR)
    assert ack["code"] == "AA"
    writer.close()


async def test_a_message_too_large_gets_an_ar(port, monkeypatch):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    big = adt("A28", nhs=next_nhs_number(), extra="NTE|1||" + "x" * 5_000_000).encode()
    writer.write(VT + big + FS_CR)
    await writer.drain()
    block = await asyncio.wait_for(reader.readuntil(FS_CR), timeout=20)
    assert ack_fields(block[1:-2].decode())["code"] == "AR"
    # One AR for the one message, and the connection goes on serving.
    ack = await exchange(writer, reader, VT + adt("A28", nhs=next_nhs_number()).encode() + FS_CR)
    assert ack["code"] == "AA", ack
    writer.close()


async def test_replay_sends_a_file_of_messages(port, session):
    nhs = next_nhs_number()
    text = "\n\n".join(
        m.replace("\r", "\n")
        for m in (adt("A01", nhs=nhs, evn="202603100800"), adt("A02", nhs=nhs, bed="A2"))
    )
    messages = listener.split_messages(text)
    assert len(messages) == 2
    acks = await listener.replay("127.0.0.1", port, messages)
    assert [ack_fields(a)["code"] for a in acks] == ["AA", "AA"]


async def test_only_the_listed_integration_engine_may_connect(port, session, monkeypatch):
    """MLLP carries no credentials: with WARDFLOW_PAS_ALLOWED_CLIENTS set, a client at any
    other address is closed unanswered and nothing it sent is kept; the listed one is served."""
    monkeypatch.setattr(get_settings(), "pas_allowed_clients", ["192.0.2.10"])
    stranger = next_nhs_number()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(VT + adt("A01", nhs=stranger).encode() + FS_CR)
    await writer.drain()
    try:  # closed unanswered: an end of stream, or a reset for what it left unread
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    except ConnectionResetError:
        answer = b""
    assert answer == b""
    writer.close()
    assert await session.scalar(select(Patient.id).where(Patient.nhs_number == stranger)) is None

    monkeypatch.setattr(get_settings(), "pas_allowed_clients", ["192.0.2.10", "127.0.0.1"])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ack = await exchange(writer, reader, VT + adt("A28", nhs=next_nhs_number()).encode() + FS_CR)
    assert ack["code"] == "AA", ack
    writer.close()
