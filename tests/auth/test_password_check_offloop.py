"""Finding 10 (sign-in flood): argon2 checks must not stall the event loop, or every other
request of that worker (the nurse's board) waits behind a flood of sign-ins."""

from __future__ import annotations

import asyncio
import threading

from app.auth.security import check_password, hash_password


async def test_a_password_check_leaves_the_event_loop_free(monkeypatch):
    from argon2 import PasswordHasher

    stored = hash_password("a long enough passphrase")
    release = threading.Event()
    real_verify = PasswordHasher.verify

    def held(self, hash_, password):  # type: ignore[no-untyped-def]
        # On the event loop this would hold every other coroutine for the whole wait
        # (the generous bound only keeps a broken build from hanging the suite).
        release.wait(timeout=120)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", held)
    checking = asyncio.create_task(check_password(stored, "a long enough passphrase"))

    async def another_request() -> str:
        await asyncio.sleep(0)
        return "board"

    # Another coroutine gets its turn while the check is still under way...
    assert await another_request() == "board"
    assert not checking.done()
    # ...and the check still answers rightly once argon2 finishes.
    release.set()
    assert await asyncio.wait_for(checking, timeout=120) is True


async def test_a_wrong_password_and_an_unknown_account_are_refused():
    stored = hash_password("a long enough passphrase")
    assert await check_password(stored, "not the passphrase") is False
    assert await check_password(None, "a long enough passphrase") is False
