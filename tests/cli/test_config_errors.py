"""A configuration the command cannot run with is not a usage error: one French line saying what
to put in which file, exit status 1 (as a refused operation); only what the operator typed on the
command line gets click's usage status 2 (a copy of the small demo site)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._demo_site import run
from .test_operator import GRID, POPULATION, one_line_error


@pytest.fixture(scope="module")
def demo_households() -> int:
    """Three households: the commands here stop before they read any."""
    return 3


def test_sepa_export_without_payment_sepa_is_a_configuration_error(
    site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "prelevements.xml"
    result = run("sepa", "export", "--config", str(site), "--collection-date", "2023-10-25",
                 "--out", str(out))  # fmt: skip
    one_line_error(result, 1, "prélèvement SEPA non configuré")
    assert "creditor_name, creditor_iban, creditor_id" in result.stderr
    assert "section [payment.sepa] du fichier de déploiement" in result.stderr
    assert "--help" not in result.stderr
    assert not out.exists()


def test_an_incomplete_payment_sepa_names_the_keys_to_add(site: Path, tmp_path: Path) -> None:
    text = site.read_text(encoding="utf-8")
    site.write_text(text + '\n[payment.sepa]\ncreditor_name = "Régie"\n', encoding="utf-8")
    result = run("sepa", "export", "--config", str(site), "--collection-date", "2023-10-25",
                 "--out", str(tmp_path / "p.xml"))  # fmt: skip
    one_line_error(result, 1, "renseignez creditor_iban, creditor_id dans la section")


def test_a_wrong_deployment_file_is_a_configuration_error(site: Path) -> None:
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace('zone = "C"', 'zone = "Q"'), encoding="utf-8")
    for args in (("invoices",), ("households", "list"), ("bill", "--period", "2023-09")):
        result = run(*args, "--config", str(site))
        one_line_error(result, 1, "calendar.zone : valeur inconnue « Q »")


def test_a_wrong_grid_file_is_a_configuration_error(site: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grille.toml"
    grid.write_text("[prices.resident_child]\nprice = 3\n", encoding="utf-8")
    one_line_error(run("tariffs", "set", "--config", str(site), str(grid)), 1, "valid_from")
    (tmp_path / "foyers.csv").write_text(POPULATION, encoding="utf-8")
    simulated = run("simulate", "--grid", str(grid), "--population", str(tmp_path / "foyers.csv"))
    one_line_error(simulated, 1, "valid_from")
    grid.write_text(GRID, encoding="utf-8")
    assert run("simulate", "--grid", str(grid), "--population",
               str(tmp_path / "foyers.csv")).exit_code == 0  # fmt: skip


def test_init_names_the_option_whose_value_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "canteen.toml"
    common = ("init", "--config", str(config), "--issuer-name", "Régie")
    one_line_error(run(*common, "--issuer-code", "R#1", "--zone", "C"), 2,
                   "--issuer-code : 1 à 32 lettres")  # fmt: skip
    one_line_error(run(*common, "--issuer-code", "R1", "--department", "999"), 2,
                   "--department : un code de département")  # fmt: skip
    blank = run("init", "--config", str(config), "--issuer-name", " ", "--issuer-code", "R1",
                "--zone", "C")  # fmt: skip
    one_line_error(blank, 2, "--issuer-name : le nom de la régie est vide")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("price = 3.355", "prices.resident_child.price"),
        ('thresholds = [450]\nprices = ["1.00", "1.234"]', "prices.resident_child.prices"),
        ('thresholds = [450]\nprices = [1, 2]\nno_qf_price = "2.001"', "no_qf_price"),
        ('effort_rate = "0.355"\nmin = "1.005"\nmax = 4', "prices.resident_child.min"),
        ('effort_rate = "0.355"\nmin = 1\nmax = "4.499"', "prices.resident_child.max"),
    ],
)
def test_a_grid_price_with_more_than_cents_is_refused(
    site: Path, tmp_path: Path, table: str, key: str
) -> None:
    grid = tmp_path / "grille.toml"
    grid.write_text(f"valid_from = 2024-09-01\n[prices.resident_child]\n{table}\n", "utf-8")
    result = run("tariffs", "set", "--config", str(site), str(grid))
    one_line_error(result, 1, "au plus deux décimales (les centimes)")
    assert key in result.stderr
    listed = json.loads(run("tariffs", "list", "--config", str(site), "--json").stdout)
    assert all(g["valid_from"] != "2024-09-01" for g in listed)
