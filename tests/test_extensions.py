"""The wiring between domains (app/extensions.py): declared in one place, set by every entry
point that calls services, the same however often it is set."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from app import extensions
from app.wards import board


def unwire() -> None:
    for hook in extensions.hooks().values():
        hook.clear()
    board.flag_styles.clear()


def wiring() -> dict[str, list[Any]]:
    return {name: list(hook) for name, hook in extensions.hooks().items()}


@pytest.fixture
def unwired() -> Iterator[None]:
    """Every hook empty, as in a process no entry point has wired; wired again after."""
    unwire()
    yield
    extensions.register_all()


def assert_wired() -> None:
    empty = [name for name, hook in extensions.hooks().items() if not hook]
    assert not empty, f"hooks nobody filled: {empty}"
    assert board.flag_styles == {
        **board.FLAG_STYLES,
        "out_of_area": "orange",
        "purpose_missing": "blue",
    }


def test_every_hook_list_is_declared_and_filled() -> None:
    from app.discharge import service as discharge
    from app.segregation import board as restrictive_board

    extensions.register_all()
    assert_wired()
    hooks = extensions.hooks()
    assert hooks["app.discharge.service.discharge_checks"] is discharge.discharge_checks
    assert restrictive_board.refuse_discharge_while_restricted in discharge.discharge_checks
    assert len(hooks) == 12
    # Nothing is left that registers itself when imported or installed.
    import app.discharge.ready
    import app.segregation.board
    import app.segregation.views

    for module in (app.discharge.ready, app.segregation.board, app.segregation.views):
        assert not hasattr(module, "install")


def test_register_all_is_idempotent() -> None:
    extensions.register_all()
    once = wiring()
    extensions.register_all()
    extensions.register_all()
    assert wiring() == once
    for name, hook in once.items():
        assert len(hook) == len(set(hook)), name


def test_admission_sections_keep_their_order() -> None:
    """The admission page: restrictive practice, then ready for discharge, then the Act."""
    extensions.register_all()
    modules = [
        section.__module__ for section in extensions.hooks()["app.wards.views.admission_sections"]
    ]
    assert modules == ["app.segregation.views", "app.discharge.views", "app.mha.views"]


def test_create_app_wires_every_hook(unwired: None) -> None:
    from app.main import create_app

    create_app()
    assert_wired()


def test_the_command_line_wires_before_any_command(unwired: None) -> None:
    """`wardflow adt listen`, the seeds and rule runs admit, discharge and read boards."""
    from app import cli

    result = CliRunner().invoke(cli.app, ["rules", "run", "--as-of", "not a time"])
    assert result.exit_code != 0  # refused before touching any database
    assert_wired()


def test_a_scheduler_tick_wires_before_its_jobs(unwired: None) -> None:
    from app import scheduler

    class NotLeader:
        busy = asyncio.Lock()

        async def held(self) -> bool:
            return False

    asyncio.run(scheduler.tick(None, NotLeader()))  # type: ignore[arg-type]
    assert_wired()


@pytest.mark.parametrize(
    ("flags", "tags"),
    [
        (["under_18"], [("under_18", "red")]),
        (["out_of_area"], [("out_of_area", "orange")]),
        (["purpose_missing"], [("purpose_missing", "blue")]),
        (["secluded", "segregated", "ready_for_discharge"], []),  # shown in their own lines
        (["something_new"], [("something_new", "blue")]),
        (
            ["out_of_area", "ready_for_discharge", "under_18"],
            [("out_of_area", "orange"), ("under_18", "red")],
        ),
    ],
)
def test_board_flags_take_the_style_their_domain_gives(
    flags: list[str], tags: list[tuple[str, str]]
) -> None:
    extensions.register_all()
    assert board.flag_tags(flags) == tags
