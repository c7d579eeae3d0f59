"""``canteen calendar``: text and JSON output, one-line errors, and the installed script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from canteen_adapters.cli import COMMANDS, main
from canteen_adapters.cli._common import CanteenGroup, fail
from canteen_core.domain.errors import NotFoundError

DEP_77 = ["calendar", "--department", "77", "--school-year", "2023-2024"]

EXPECTED_HEAD = """\
Calendrier scolaire 2023-2024 : Seine-et-Marne (77), académie de Créteil, zone C
Du lun. 04/09/2023 (rentrée) au ven. 05/07/2024 (dernier jour de classe)
Service le lundi, mardi, jeudi et vendredi : 140 jours de service, 166 jours de fermeture

Jours de service par mois
Septembre 2023 : 16 jours de service
            lun. mar. jeu. ven.
  sem. 36      4    5    7    8
  sem. 37     11   12   14   15
  sem. 38     18   19   21   22
  sem. 39     25   26   28   29
Octobre 2023 : 12 jours de service"""

EXPECTED_CLOSURES = """\
Fermetures
  du sam. 21/10/2023 au dim. 05/11/2023  Vacances de la Toussaint (16 jours)
  le sam. 11/11/2023                     Armistice
  du sam. 23/12/2023 au dim. 07/01/2024  Vacances de Noël (16 jours)
  du sam. 10/02/2024 au dim. 25/02/2024  Vacances d'hiver (16 jours)
  le lun. 01/04/2024                     Lundi de Pâques
  du sam. 06/04/2024 au dim. 21/04/2024  Vacances de printemps (16 jours)
  le mer. 01/05/2024                     Fête du Travail
  le mer. 08/05/2024                     Victoire 1945
  le jeu. 09/05/2024                     Ascension
  le ven. 10/05/2024                     Pont de l'Ascension
  le lun. 20/05/2024                     Lundi de Pentecôte
  Autres fermetures : 34 mercredis et 61 jours de week-end
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="canteen")


def test_text_output_for_department_77() -> None:
    result = run(*DEP_77)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(EXPECTED_HEAD)
    assert result.stdout.endswith(EXPECTED_CLOSURES)
    # Months with closed days inside an open week show them as "·".
    assert "  sem. 48     27   28   30\n" in result.stdout  # Friday 1 December is in December
    assert "  sem. 19      6    7    ·    ·\n" in result.stdout  # Ascension and its bridge
    assert "  sem. 21      ·   21   23   24\n" in result.stdout  # Lundi de Pentecôte
    assert "Juillet 2024 : 4 jours de service" in result.stdout
    assert result.stderr == ""


def json_of(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_output_for_department_77() -> None:
    data = json_of(*DEP_77)
    assert set(data) == {
        "zone",
        "department",
        "school_year",
        "weekdays",
        "first_day",
        "last_day",
        "service_days",
        "closed_days",
        "counts_by_month",
    }
    assert data["zone"] == "C"
    assert data["department"] == "77"
    assert data["school_year"] == "2023-2024"
    assert data["weekdays"] == ["mon", "tue", "thu", "fri"]
    assert (data["first_day"], data["last_day"]) == ("2023-09-04", "2024-07-05")
    assert len(data["service_days"]) == 140
    assert data["service_days"][:3] == ["2023-09-04", "2023-09-05", "2023-09-07"]
    assert data["counts_by_month"]["2024-05"] == 15
    assert sum(data["counts_by_month"].values()) == 140
    closed = {entry["date"]: entry for entry in data["closed_days"]}
    assert closed["2023-11-01"] == {
        "date": "2023-11-01",
        "kind": "school_holiday",
        "reason": "Vacances de la Toussaint",
    }
    assert closed["2024-05-10"]["reason"] == "Pont de l'Ascension"
    assert closed["2024-05-08"]["reason"] == "Victoire 1945"
    assert closed["2023-09-09"]["reason"] == "Week-end"  # weekends are listed too
    assert closed["2023-09-06"]["reason"] == "Mercredi"
    # Service days and closed days cover the school year exactly once.
    every_day = {(date(2023, 9, 4) + timedelta(days=offset)).isoformat() for offset in range(306)}
    assert set(data["service_days"]).isdisjoint(closed)
    assert set(data["service_days"]) | set(closed) == every_day
    assert len(data["closed_days"]) == len(closed) == 166


def test_json_output_for_a_zone_and_other_weekdays() -> None:
    data = json_of("calendar", "--zone", "b", "--school-year", "2024", "--weekdays", "mon-fri")
    assert data["zone"] == "B"
    assert data["department"] is None
    assert data["school_year"] == "2024-2025"
    assert data["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert "2024-09-04" in data["service_days"]  # a Wednesday
    assert data["first_day"] == "2024-09-02"
    assert data["last_day"] == "2025-07-04"


def test_alsace_moselle_is_named_in_the_header() -> None:
    result = run("calendar", "--department", "67", "--school-year", "2025-2026")
    assert result.stdout.splitlines()[0] == (
        "Calendrier scolaire 2025-2026 : Bas-Rhin (67), académie de Strasbourg, zone B "
        "(jours fériés d'Alsace-Moselle)"
    )
    assert "  le ven. 03/04/2026                     Vendredi saint\n" in result.stdout


def test_weekdays_option() -> None:
    data = json_of(*DEP_77, "--weekdays", "wed")
    assert data["weekdays"] == ["wed"]
    assert all(date.fromisoformat(day).weekday() == 2 for day in data["service_days"])
    assert "2024-05-08" not in data["service_days"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "D", "--school-year", "2023-2024"], "zone inconnue « D »"),
        (["--department", "99", "--school-year", "2023-2024"], "département inconnu « 99 »"),
        (["--department", "2B", "--school-year", "2023-2024"], "académie de Corse"),
        (["--zone", "A", "--school-year", "2023-2025"], "année scolaire invalide : « 2023-2025 »"),
        (["--zone", "A", "--school-year", "vingt"], "année scolaire invalide : « vingt »"),
        (
            ["--zone", "A", "--school-year", "2031-2032"],
            "pas de calendrier scolaire pour 2031-2032",
        ),
        (
            ["--zone", "C", "--department", "77", "--school-year", "2023-2024"],
            "--zone ou --department, pas les deux",
        ),
        (["--school-year", "2023-2024"], "--zone (A, B ou C) ou --department"),
        (["--zone", "A"], "option obligatoire manquante : --school-year"),
        (
            ["--zone", "A", "--school-year", "2023-2024", "--weekdays", "sat"],
            "ni le samedi ni le dimanche",
        ),
        (
            ["--zone", "A", "--school-year", "2023-2024", "--weekdays", "xyz"],
            "jour de la semaine inconnu « xyz »",
        ),
        (["--zone", "A", "--school-year", "2023-2024", "--bogus"], "option inconnue : --bogus"),
    ],
)
def test_bad_arguments_exit_with_one_line(args: list[str], message: str) -> None:
    result = run("calendar", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Erreur : ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_unknown_command_is_one_line() -> None:
    result = run("calendrier")
    assert result.exit_code == 2
    assert result.stderr == (
        "Erreur : commande inconnue : calendrier (vouliez-vous dire calendar ?) "
        "(voir « canteen --help »)\n"
    )


def test_help_lists_the_calendar_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "calendar" in result.stdout
    assert run("calendar", "--help").exit_code == 0


def test_group_turns_library_errors_into_one_line() -> None:
    """Later commands get the same treatment just by being registered on a CanteenGroup."""

    @click.group(cls=CanteenGroup)
    def group() -> None:
        """Test group."""

    @group.command()
    def missing() -> None:
        raise NotFoundError("no invoice 'FAC-2024-0001'")

    @group.command()
    def refused() -> None:
        fail("déjà facturé")

    result = CliRunner().invoke(group, ["missing"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Erreur : facture introuvable : FAC-2024-0001\n",
    )
    result = CliRunner().invoke(group, ["refused"])
    assert (result.exit_code, result.stderr) == (1, "Erreur : déjà facturé\n")
    assert main.commands["calendar"] in COMMANDS


def installed_script() -> Path:
    """The ``canteen`` console script of the environment running the tests."""
    candidate = Path(sys.executable).parent / "canteen"
    if candidate.exists():
        return candidate
    found = shutil.which("canteen")
    assert found, "the canteen console script is not installed (pip install -e .)"
    return Path(found)


def test_installed_script_runs_for_real() -> None:
    script = installed_script()
    completed = subprocess.run(
        [str(script), *DEP_77, "--json"], capture_output=True, text=True, check=False, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert len(data["service_days"]) == 140
    text = subprocess.run(
        [str(script), *DEP_77], capture_output=True, text=True, check=False, timeout=60
    )
    assert text.stdout.startswith(EXPECTED_HEAD)
    bad = subprocess.run(
        [str(script), "calendar", "--zone", "A", "--school-year", "2031-2032"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == (
        "Erreur : --school-year : pas de calendrier scolaire pour 2031-2032 ; "
        "disponibles : 2023-2024, 2024-2025, 2025-2026, 2026-2027, 2027-2028\n"
    )
