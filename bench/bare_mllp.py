"""The feed's limit: an MLLP listener that reads each message as the real one does (the same
framing, `app.pas.hl7v2.parse`) and answers AA at once, without a database. What is left of
the real listener's time per message beyond this is Wardflow's own work.

    python -m bench.bare_mllp PORT
"""

from __future__ import annotations

import asyncio
import sys

from app.pas import hl7v2
from app.pas.listener import END, START, decode


async def serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                block = await reader.readuntil(END)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            message = hl7v2.parse(decode(block.removeprefix(START).removesuffix(END)))
            writer.write(START + hl7v2.ack("AA", message).encode("utf-8") + END)
            await writer.drain()
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(serve_client, "127.0.0.1", port, limit=2**22)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
