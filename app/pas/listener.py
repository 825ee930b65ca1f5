"""The MLLP listener (``wardflow adt listen``): its own process, like the scheduler, beside
any number of web workers, through the same service as ``POST /api/v1/hl7/v2``.

Each connection is read one MLLP block (<VT> message <FS><CR>) at a time and each block
answered with its ACK before the next is read (HL7's original acknowledgement mode: the
sender waits for it).
One message, one session, one transaction. Nothing a client sends stops the listener:
noise without MLLP framing gets an AR, a message over WARDFLOW_MAX_BODY_BYTES gets an AR,
a client that says nothing for WARDFLOW_PAS_IDLE_SECONDS is closed, and an error of ours
answers AE (the sender may resend; nothing was written) and is logged.

MLLP carries no credentials: bind it where only the integration engine reaches it
(``--host``, 127.0.0.1 by default) and list the engine's address in
WARDFLOW_PAS_ALLOWED_CLIENTS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import utcnow
from app.config import get_settings
from app.pas import hl7v2, service

log = logging.getLogger("wardflow.pas.mllp")

DEFAULT_PORT = 2575


def decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")


def _client_ok(writer: asyncio.StreamWriter) -> bool:
    allowed = get_settings().pas_allowed_clients
    if not allowed:
        return True
    peer = writer.get_extra_info("peername")
    return bool(peer) and peer[0] in allowed


START, END = b"\x0b", b"\x1c\r"
READ_SIZE = 65536
ACK_WAIT_SECONDS = 30  # replay: how long to wait for each ACK


def handler(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    settings = get_settings()

    async def answer(text: str) -> str:
        try:
            async with sessionmaker() as session:
                return (await service.receive(session, text, utcnow())).ack
        except Exception:
            log.exception("PAS message could not be processed")
            try:
                message: hl7v2.Message | None = hl7v2.parse(text)
            except hl7v2.Unparsable:
                message = None
            problem = hl7v2.Problem("207", "Wardflow could not process it just now; resend")
            return hl7v2.ack("AE", message, problem.text, problem)

    def refuse(text: str) -> str:
        return hl7v2.ack("AR", None, text, hl7v2.Problem("100", text))

    async def serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """MLLP framing read here rather than by hl7.mllp's reader: over its limit that one
        answers each leftover piece of a too-large message, where the sender must get one
        AR for the one message it sent."""
        if not _client_ok(writer):
            log.warning("MLLP client %s refused", writer.get_extra_info("peername"))
            writer.close()
            return
        buffer = bytearray()
        too_large = False
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(
                        reader.read(READ_SIZE), timeout=settings.pas_idle_seconds
                    )
                except (TimeoutError, ConnectionError):
                    break  # silent or reset: close this connection only
                if not chunk:
                    break
                buffer += chunk
                while (end := buffer.find(END)) >= 0:
                    block = bytes(buffer[:end]).lstrip(b"\r\n ")
                    del buffer[: end + len(END)]
                    if too_large:
                        too_large = False
                        ack = refuse(f"message over {settings.max_body_bytes} bytes")
                    elif not block.startswith(START):
                        ack = refuse("not an MLLP block (no start character)")
                    else:
                        ack = await answer(decode(block[1:]))
                    writer.write(START + ack.encode("utf-8") + END)
                    await writer.drain()
                if len(buffer) > settings.max_body_bytes:
                    # Kept no further: the rest is read and dropped up to its end.
                    too_large = True
                    del buffer[:-1]  # the last byte may be the first of END
        except Exception:
            log.exception("MLLP connection ended by an error")
        finally:
            writer.close()

    return serve_client


async def start(
    sessionmaker: async_sessionmaker[AsyncSession], host: str, port: int
) -> asyncio.Server:
    return await asyncio.start_server(handler(sessionmaker), host, port)


async def run_forever(host: str, port: int) -> None:
    from app.db import make_engine

    engine = make_engine()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    server = await start(sessions, host, port)
    watcher = asyncio.create_task(watch_held(sessions))
    try:
        async with server:
            await server.serve_forever()
    finally:
        watcher.cancel()
        await engine.dispose()


async def watch_held(sessions: async_sessionmaker[AsyncSession], every: float = 60) -> None:
    """Held messages are reported when overdue even while the feed is silent (each message
    received also reports them)."""
    while True:
        await asyncio.sleep(every)
        try:
            async with sessions() as session:
                await service.report_overdue(session, utcnow())
                await session.commit()
        except Exception:
            log.exception("Could not check held PAS messages")


def split_messages(text: str) -> list[str]:
    """The messages of a file: each starts at an MSH segment (MLLP framing, blank lines and
    line endings of any kind allowed)."""
    text = text.replace("\x0b", "\n").replace("\x1c", "\n")
    messages: list[list[str]] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            continue
        if line.startswith("MSH") or not messages:
            messages.append([])
        messages[-1].append(line)
    return ["\r".join(m) + "\r" for m in messages]


async def replay(host: str, port: int, messages: list[str]) -> list[str]:
    """Send each message over one MLLP connection, waiting for its ACK; the ACKs in order."""
    reader, writer = await asyncio.open_connection(host, port)
    acks = []
    try:
        for message in messages:
            writer.write(START + message.encode("utf-8") + END)
            await writer.drain()
            block = await asyncio.wait_for(reader.readuntil(END), timeout=ACK_WAIT_SECONDS)
            acks.append(decode(block.removeprefix(START).removesuffix(END)))
    finally:
        writer.close()
    return acks
