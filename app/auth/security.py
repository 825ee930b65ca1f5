"""Password hashing (argon2) and random tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from weakref import WeakKeyDictionary

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A real hash to verify against when the username is unknown, so the response time
# does not tell an attacker which usernames exist.
_DUMMY_HASH = _hasher.hash("wardflow-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# argon2 takes ~100 ms of CPU and 64 MiB per check. A flood of sign-ins checked on the event
# loop would stall every request of that worker (the ward board included), and checked on
# an unbounded thread pool would eat the machine's memory. So checks run in a thread, at
# most this many at once per process; the others wait their turn, the board does not.
ARGON2_AT_ONCE = 2
_slots: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


async def check_password(password_hash: str | None, password: str) -> bool:
    """verify_password off the event loop, bounded (see ARGON2_AT_ONCE)."""
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(ARGON2_AT_ONCE))
    async with slots:
        return await asyncio.to_thread(verify_password, password_hash, password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
