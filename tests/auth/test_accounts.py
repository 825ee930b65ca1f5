"""Account management (issue 17, finding 6): the admin's Users page, disabling, enabling,
a new password and revoking tokens, each ending the person's access at once; and the demo
accounts flagged while they keep the demo password. The command line is tests/test_cli.py.

Before the fix there was no way to do any of this short of editing the database.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth import service
from app.auth.models import User
from tests.auth.helpers import parse

NEW_PASSWORD = "tulip-harbour-lantern"


async def user_id(world, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(world.users[name].id)


async def test_the_users_page_lists_everyone_for_the_admin_only(world, signed_in):
    admin = await signed_in("admin")
    nurse = await signed_in("nurse")

    page = await admin.get("/admin/users")

    assert page.status_code == 200
    table = parse(page.text).by_id("users").text()
    for name in ("admin", "nurse", "birchnurse", "beds", "lead", "director"):
        assert name in table
    assert (await nurse.get("/admin/users")).status_code == 403
    assert (await nurse.get(f"/admin/users/{await user_id(world, 'admin')}")).status_code == 403


async def test_disabling_ends_every_session_and_token_at_once(world, client, signed_in, session):
    admin = await signed_in("admin")
    nurse = await signed_in("nurse")
    also_nurse = await signed_in("nurse")  # a second PC
    assert (await nurse.get("/wards/ASH")).status_code == 200

    response = await admin.post(f"/admin/users/{await user_id(world, 'nurse')}/disable")

    assert response.status_code == 200
    assert parse(response.text).by_id("user-state").text() == "Disabled"
    for browser in (nurse, also_nurse):
        assert (await browser.get("/wards/ASH")).status_code == 303  # to sign in
    assert (await client.get("/api/v1/wards", headers=world.auth("nurse"))).status_code == 401
    refused = await nurse.submit_login("nurse")
    assert refused.status_code == 401
    [entry] = list(
        await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.disable"))
    )
    assert entry.username == "admin" and entry.entity_id == str(world.users["nurse"].id)

    # Enabled again, she signs in afresh; the old token and sessions stay ended.
    await admin.post(f"/admin/users/{await user_id(world, 'nurse')}/enable")
    assert (await signed_in("nurse")) is not None
    assert (await nurse.get("/wards/ASH")).status_code == 303
    assert (await client.get("/api/v1/wards", headers=world.auth("nurse"))).status_code == 401


async def test_a_new_password_ends_every_session_and_token_and_the_old_one_stops(
    world, client, signed_in, browser
):
    admin = await signed_in("admin")
    lead = await signed_in("lead")

    response = await admin.post(
        f"/admin/users/{await user_id(world, 'lead')}/password", {"password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert (await lead.get("/alerts")).status_code == 303
    assert (await client.get("/api/v1/alerts", headers=world.auth("lead"))).status_code == 401
    assert (await browser().submit_login("lead")).status_code == 401  # the old password
    assert (await browser().submit_login("lead", NEW_PASSWORD)).status_code == 303


@pytest.mark.parametrize("weak", [" " * 12, "short", "password1234", "lead-lead-lead"])
async def test_a_weak_new_password_is_refused_beside_the_field_and_changes_nothing(
    world, client, signed_in, browser, weak
):
    admin = await signed_in("admin")

    response = await admin.post(
        f"/admin/users/{await user_id(world, 'lead')}/password", {"password": weak}
    )

    assert response.status_code == 422
    group = parse(response.text).by_id("passwd-password").ancestor("nhsuk-form-group")
    assert group is not None and "nhsuk-form-group--error" in group.classes
    assert (await client.get("/api/v1/alerts", headers=world.auth("lead"))).status_code == 200
    assert (await browser().submit_login("lead")).status_code == 303


async def test_revoking_a_persons_tokens_from_the_users_page(world, client, signed_in):
    admin = await signed_in("admin")
    beds = await signed_in("beds")

    response = await admin.post(f"/admin/users/{await user_id(world, 'beds')}/revoke-tokens")

    assert response.status_code == 200
    assert "1 token of beds revoked" in parse(response.text).by_id("user-message").text()
    assert (await client.get("/api/v1/wards", headers=world.auth("beds"))).status_code == 401
    # Their browser session is not a token: it goes on.
    assert (await beds.get("/flow")).status_code == 200


async def test_the_only_active_admin_cannot_be_disabled(world, signed_in, session):
    admin = await signed_in("admin")

    response = await admin.post(f"/admin/users/{await user_id(world, 'admin')}/disable")

    assert response.status_code == 409
    await session.refresh(world.users["admin"])
    assert world.users["admin"].active is True
    assert (await admin.get("/admin/users")).status_code == 200


# --- the demo accounts -----------------------------------------------------------------------


async def _demo_account(session, world) -> User:  # type: ignore[no-untyped-def]
    from app.demo import DEMO_PASSWORD

    user = await service.create_user(
        session,
        username="demo-ward",
        role="director",
        password=DEMO_PASSWORD,
        ward_codes=[],
        now=world.now,
        demo=True,
    )
    await session.commit()
    return user


async def test_the_demo_password_is_only_allowed_to_the_seeds_own_accounts(world, session):
    from app.demo import DEMO_PASSWORD
    from app.errors import Invalid

    with pytest.raises(Invalid):
        await service.create_user(
            session,
            username="someone",
            role="director",
            password=DEMO_PASSWORD,
            ward_codes=[],
            now=world.now,
        )


async def test_start_up_warns_of_accounts_with_the_demo_password(world, session, caplog):
    user = await _demo_account(session, world)
    changed = await _demo_account_with_changed_password(session, world)

    with caplog.at_level(logging.WARNING, logger="wardflow.auth"):
        still = await service.check_demo_passwords(session)

    assert still == ["demo-ward"]
    assert "demo-ward" in caplog.text and "wardflow-demo" in caplog.text
    assert changed.demo_password is False  # its password had changed: no longer flagged
    assert user.demo_password is True


async def _demo_account_with_changed_password(session, world) -> User:  # type: ignore[no-untyped-def]
    """A demo account whose password was changed behind Wardflow's back (a restore, SQL)."""
    from app.auth.security import hash_password

    user = await service.create_user(
        session,
        username="demo-changed",
        role="director",
        password="wardflow-demo",
        ward_codes=[],
        now=world.now,
        demo=True,
    )
    user.password_hash = hash_password(NEW_PASSWORD)
    await session.commit()
    return user


async def test_admins_see_a_banner_until_the_demo_password_is_changed(world, session, signed_in):
    user = await _demo_account(session, world)
    admin = await signed_in("admin")
    nurse = await signed_in("nurse")

    banner = parse((await admin.get("/wards")).text).by_id("demo-password-warning")
    assert "demo-ward" in banner.text()
    assert parse((await nurse.get("/wards")).text).find(id="demo-password-warning") is None

    await admin.post(f"/admin/users/{user.id}/password", {"password": NEW_PASSWORD})
    assert parse((await admin.get("/wards")).text).find(id="demo-password-warning") is None
