"""The harness itself: migrations applied, per-test isolation holds."""

from sqlalchemy import func, select

from app.wards.models import Ward


async def test_world_builds_and_is_rolled_back_between_tests(world, session):
    assert await session.scalar(select(func.count()).select_from(Ward)) == 3


async def test_previous_test_left_nothing_behind(session):
    assert await session.scalar(select(func.count()).select_from(Ward)) == 0
