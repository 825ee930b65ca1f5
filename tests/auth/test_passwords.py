"""The password rule (issue 17, finding 8): NCSC / NIST SP 800-63B. At least 12 characters,
no common or breached password (the list zxcvbn ships), nothing guessable, no composition
rules. Before the fix only the length (10) was checked: ten spaces were accepted."""

from __future__ import annotations

import pytest

from app.auth import passwords, service
from app.errors import Invalid


@pytest.mark.parametrize(
    "weak",
    [
        " " * 10,  # the finding: accepted before
        " " * 12,
        "abcdefghijk",  # 11 characters
        "password1234",  # on the breached list
        "123456789012",
        "qwertyuiopasdf",  # a keyboard walk
        "aaaaaaaaaaaaaaaa",
        "nurse2-nurse2-nurse2",  # the person's own name, repeated
        "wardflow-2026",  # the service's own name and a year
        "Password123!",  # "complex", and guessable
    ],
)
async def test_weak_passwords_are_refused_when_an_account_is_made(world, session, weak):
    with pytest.raises(Invalid) as refused:
        await service.create_user(
            session,
            username="nurse2",
            role="director",
            password=weak,
            ward_codes=[],
            now=world.now,
        )
    assert [e.field for e in refused.value.errors] == ["password"]


@pytest.mark.parametrize(
    "good",
    [
        "tulip harbour lantern",  # words and spaces, no digits or capitals: allowed
        "correct-horse-battery",
        "zq8#Lm2!xP0v",  # 12 random characters
        "ein langes deutsches Passwort",
        "😀 emoji pass phrase ok",
    ],
)
def test_long_unguessable_passwords_pass_without_composition_rules(good):
    assert passwords.problem(good, username="nurse") is None


def test_the_breached_list_is_the_one_the_package_ships():
    shipped = passwords.breached()
    assert len(shipped) > 20_000
    assert {"password", "123456", "iloveyou"} <= shipped


def test_the_message_says_why_without_composition_advice():
    why = passwords.problem("password1234")
    assert why is not None and "breach" in why
    assert "capital" not in why and "symbol" not in why
