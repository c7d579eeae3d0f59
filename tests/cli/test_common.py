"""Shared CLI helpers: progress bars only on a terminal, the operator actor, dates, the
replay clock, and the GRID.toml format."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from canteen_adapters.cli import _output
from canteen_adapters.cli._common import CommandError
from canteen_adapters.cli._operator import cli_clock, operator_actor
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import progress
from canteen_adapters.cli.grid_file import parse_grid
from canteen_core.domain.actors import Role
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.tariffs import TariffCategory


def test_progress_is_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress(range(3), label="Facturation") as items:
        assert list(items) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_progress_draws_a_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    monkeypatch.setattr(_output.sys, "stderr", stream)
    with progress(range(3), label="Facturation", length=3) as items:
        assert list(items) == [0, 1, 2]
    assert "Facturation" in stream.getvalue()


def test_operator_actor_is_an_admin_named_after_the_operator() -> None:
    actor = operator_actor("marie")
    assert actor.user_id == "cli:marie"
    assert actor.roles == frozenset({Role.ADMIN})
    assert operator_actor().user_id.startswith("cli:")
    with pytest.raises(CommandError, match="--as"):
        operator_actor("   ")


def test_parse_day_accepts_iso_and_french_dates() -> None:
    assert parse_day("2023-09-04", "--date") == date(2023, 9, 4)
    assert parse_day("04/09/2023", "--date") == date(2023, 9, 4)
    with pytest.raises(CommandError, match="--date"):
        parse_day("31/02/2023", "--date")


def test_canteen_now_pins_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANTEEN_NOW", raising=False)
    assert cli_clock() is None
    monkeypatch.setenv("CANTEEN_NOW", "2023-10-02T08:30:00+02:00")
    clock = cli_clock()
    assert clock is not None
    assert clock.now() == datetime(2023, 10, 2, 6, 30, tzinfo=UTC)
    monkeypatch.setenv("CANTEEN_NOW", "2023-10-02T08:30:00")
    with pytest.raises(CommandError, match="fuseau"):
        cli_clock()


def test_grid_file_kinds_and_extras() -> None:
    grid = parse_grid(
        """
        id = "g"
        valid_from = 2024-09-01
        [prices.resident_child]
        thresholds = [500]
        prices = [1, "3,10"]
        [prices.adult]
        effort_rate = 0.5
        min = 2
        max = "6.00"
        [[sibling_discounts]]
        from_rank = 3
        percent = 20
        [unbooked_surcharge]
        percent = 50
        """
    )
    assert grid.unit_amount(TariffCategory.RESIDENT_CHILD, Decimal(600)) == Decimal("3.10")
    assert grid.unit_amount(TariffCategory.ADULT, Decimal(1000)) == Decimal("5.00")
    assert grid.sibling_discounts[0].from_rank == 3
    assert grid.unbooked_surcharge is not None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[prices.resident_child]\nprice = 3\n", "valid_from"),
        ("valid_from = 2024-09-01\n[prices.child]\nprice = 3\n", "clés inconnues child"),
        ("valid_from = 2024-09-01\n[prices.resident_child]\nprice = 'x'\n", "n'est pas un nombre"),
        (
            "valid_from = 2024-09-01\n[prices.resident_child]\nprice = '3e2'\n",
            "g.toml : prices.resident_child.price : «",
        ),
        ("valid_from = 2024-09-01\n[prices.resident_child]\neffort_rate = 1\n", "min et max"),
        ("valid_from = 2024-09-01\n[prices.non_resident_child]\nprice = 3\n", "resident_child"),
        ("valid_from = 'soon'\n[prices.resident_child]\nprice = 3\n", "date TOML"),
        ("valid_from = = 3", "TOML invalide, ligne 1"),
    ],
)
def test_grid_file_errors_name_the_key(text: str, where: str) -> None:
    with pytest.raises(ConfigurationError, match=where):
        parse_grid(text, source="g.toml")


def test_the_grid_format_shown_in_help_parses() -> None:
    from canteen_adapters.cli.grid_file import GRID_FORMAT_HELP

    block = GRID_FORMAT_HELP.split("\b\n")[1].split("\n\n")[0]
    grid = parse_grid("\n".join(line.strip() for line in block.splitlines()))
    assert grid.id == "projet-2024"
    assert grid.unit_amount(TariffCategory.ADULT, Decimal(1000)) == Decimal("3.60")


def test_deadline_in_working_days() -> None:
    from datetime import time

    from canteen_adapters.cli.enroll import parse_deadline
    from canteen_core.domain.deadlines import WorkingDaysBefore

    expected = WorkingDaysBefore(days=2, at=time(10))
    assert parse_deadline("2jo 10:00") == expected
    assert parse_deadline("2 jours ouvrés 10h00") == expected
