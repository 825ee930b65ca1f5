"""The password rule: NCSC and NIST SP 800-63B, not composition rules.

At least 12 characters, no upper limit a person would meet (64 is the least NIST allows a
person to choose; argon2 takes any length). Refused: any password on the list of the
30,000 most common passwords seen in breaches that the zxcvbn package ships (nothing is
fetched at run time), and any that zxcvbn's estimator finds guessable in fewer than 10^8
tries (score below 3): dictionary words with a digit on the end, keyboard walks, repeats,
sequences, dates, and the person's own name or "wardflow" in it. No rules about capitals,
digits or symbols: they make passwords harder to remember, not to guess.
"""

from __future__ import annotations

from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's score 3: "safely unguessable", at least 10^8 guesses.
MIN_SCORE = 3
# Words that make a password easy to guess here, whoever the person is.
SERVICE_WORDS = ("wardflow", "nhs", "ward")


@lru_cache(maxsize=1)
def breached() -> frozenset[str]:
    """The breached-password list zxcvbn ships (lower case, most common first)."""
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def problem(password: str, *, username: str = "") -> str | None:
    """Why this password may not be used, or None if it may."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if not password.strip():
        return "must not be only spaces"
    if password.lower() in breached() or password.strip().lower() in breached():
        return "is on a list of passwords known from data breaches; choose another"
    # zxcvbn's run time grows with length; past 100 characters the first 100 are plenty.
    words = [username, *SERVICE_WORDS] if username else list(SERVICE_WORDS)
    result = zxcvbn(password[:100], user_inputs=words)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning")
        because = f" ({warning.rstrip('.').lower()})" if warning else ""
        return f"is too easy to guess{because}; try three or more random words together"
    return None
