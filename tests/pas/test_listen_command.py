"""``wardflow adt listen`` as its own process on a migrated database: a message over a real
socket gets its ACK (issue 21)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.pas.helpers import ack_fields, adt

WARDFLOW = str(Path(sys.executable).parent / "wardflow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exchange(port: int, message: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=30)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with conn:
        conn.sendall(b"\x0b" + message.encode() + b"\x1c\r")
        data = b""
        while not data.endswith(b"\x1c\r"):
            chunk = conn.recv(65536)
            assert chunk, "closed before the ACK"
            data += chunk
    return ack_fields(data[1:-2].decode())


def test_listen_answers_over_mllp(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env["WARDFLOW_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'adt.db'}"
    env["WARDFLOW_SECRET_KEY"] = "adt-test-secret"
    subprocess.run([WARDFLOW, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [WARDFLOW, "adt", "listen", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ignored = exchange(port, adt("A60", nhs="9434765919", control_id="CLI1"))
        assert ignored["code"] == "AA" and ignored["control_id"] == "CLI1"
        # No ward in an empty trust: refused with its reason, and the listener goes on.
        refused = exchange(port, adt("A01", nhs="9434765919", control_id="CLI2"))
        assert refused["code"] == "AE" and str(refused["error"]).startswith("unmapped ward")
        assert exchange(port, "garbage")["code"] == "AR"
        # wardflow adt replay: a file of messages to the listener, each ACK printed.
        feed = tmp_path / "feed.hl7"
        feed.write_text(
            adt("A60", nhs="9434765919", control_id="CLI3").replace("\r", "\n")
            + "\n"
            + adt("A60", nhs="9434765919", control_id="CLI4").replace("\r", "\n")
        )
        replayed = subprocess.run(  # noqa: S603
            [WARDFLOW, "adt", "replay", str(feed), "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert replayed.returncode == 0, replayed.stderr
        assert "AA CLI3" in replayed.stdout and "AA CLI4" in replayed.stdout
    finally:
        process.terminate()
        process.wait(timeout=30)
