"""``canteen demo``: a fresh run, a second run adding nothing, consistent JSON, the script."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from canteen_adapters.cli import main

HOUSEHOLDS = "8"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="canteen")


#: Tables a run may grow while changing nothing: the audit trail records its reads of a
#: household's health data and its runs that found nothing to do.
AUDIT_TABLES = ("audit_log", "audit_households")


def table_counts(db: Path) -> dict[str, int]:
    """Rows per table (the audit trail aside): what a second run must not change."""
    with sqlite3.connect(db) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for name in names
            if name not in AUDIT_TABLES
        }


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    db = tmp_path_factory.mktemp("demo") / "canteen.db"
    result = run("demo", "--db", str(db), "--households", HOUSEHOLDS)
    assert result.exit_code == 0, result.output
    return db, result


def test_first_run_shows_mes_factures_of_the_concerto_family(
    demo_db: tuple[Path, Result],
) -> None:
    db, result = demo_db
    out = result.stdout
    assert (db.parent / "canteen.toml").is_file()
    assert "9 foyers créés (dont la famille CONCERTO)" in out
    assert "« Restauration Scolaire - Ecole Élémentaire RONDE », du 04/09/2023 au 05/07/2024" in out
    assert "MES FACTURES" in out
    assert "SEPTEMBRE 2023" in out
    assert "Payeur : Madame CONCERTO Maman" in out
    assert "Facture du   À régler avant le   Reste à payer   Montant total   État" in out
    assert "02/10/2023   01/11/2023          0,00 €          13,40 €         Facture réglée" in out
    assert "Alban CONCERTO : Restauration Scolaire" in out
    assert "4 x 3,35 € = 13,40 €" in out
    assert "Vous n'avez aucune facture non réglée" in out
    assert (
        "notification signée créditée, renvoyée par PayZen : reconnue comme doublon, "
        "copie falsifiée refusée" in out
    )
    assert "03/10/2023  Règlement (carte bancaire) : 13,40 €" in out
    assert "Total facturé" in out
    assert "Reste à encaisser" in out


def test_second_run_adds_nothing_and_prints_the_same_result(
    demo_db: tuple[Path, Result],
) -> None:
    db, first = demo_db
    before = table_counts(db)
    again = run("demo", "--db", str(db), "--households", HOUSEHOLDS)
    assert again.exit_code == 0, again.output
    assert table_counts(db) == before
    assert "9 foyers déjà enregistrés" in again.stdout
    assert "septembre déjà facturé (9 foyers)" in again.stdout
    assert "Paiement en ligne    déjà reçu" in again.stdout
    # Everything after the steps (MES FACTURES, commune totals) is identical.
    # Up to the portal's lines: each run's temporary password is random.
    tail = "Portail (API HTTP)"
    assert (
        again.stdout.split("MES FACTURES")[1].split(tail)[0]
        == (first.stdout.split("MES FACTURES")[1].split(tail)[0])
    )


def test_another_size_on_the_same_database_is_refused(demo_db: tuple[Path, Result]) -> None:
    db, _ = demo_db
    before = table_counts(db)
    result = run("demo", "--db", str(db), "--households", "3")
    assert result.exit_code == 1
    assert "--households 8" in result.stderr
    assert result.stderr.count("\n") == 1
    assert table_counts(db) == before


def test_json_is_internally_consistent(demo_db: tuple[Path, Result]) -> None:
    db, _ = demo_db
    result = run("demo", "--db", str(db), "--households", HOUSEHOLDS, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    invoices = data["invoices"]
    assert len({invoice["number"] for invoice in invoices}) == len(invoices)
    for invoice in invoices:
        lines = sum((Decimal(line["amount"]) for line in invoice["lines"]), Decimal(0))
        assert Decimal(invoice["total"]) == lines, invoice["number"]
        for line in invoice["lines"]:
            assert Decimal(line["unit_price"]) * line["quantity"] == Decimal(line["amount"])
        paid = Decimal(invoice["paid"]) + Decimal(invoice["balance_due"])
        assert paid == Decimal(invoice["total"])
    by_household: dict[str, Decimal] = {}
    for invoice in invoices:
        key = invoice["household_id"]
        by_household[key] = by_household.get(key, Decimal(0)) + Decimal(invoice["total"])
    for household in data["households"]:
        invoiced = Decimal(household["invoiced"])
        assert invoiced == by_household.get(household["household_id"], Decimal(0))
        expected = (
            invoiced
            - Decimal(household["credited"])
            - Decimal(household["paid"])
            + Decimal(household["refunded"])
        )
        assert Decimal(household["balance"]) == expected
    totals = data["totals"]
    assert Decimal(totals["invoiced"]) == sum(by_household.values())
    paid = sum(Decimal(h["paid"]) for h in data["households"])
    assert Decimal(totals["paid"]) == paid
    assert Decimal(totals["outstanding"]) == Decimal(totals["invoiced"]) - paid
    concerto = [i for i in invoices if i["household_id"] == "CONCERTO"]
    assert [(i["label"], i["total"], i["balance_due"]) for i in concerto] == [
        ("SEPTEMBRE 2023", "13.40", "0.00")
    ]
    assert data["concerto"]["payer"] == "Madame CONCERTO Maman"
    cash = [
        h for h in data["households"] if h["household_id"] != "CONCERTO" and h["paid"] != "0.00"
    ]
    assert len(cash) == 1
    assert cash[0]["balance"] == "0.00"


def test_bad_household_count_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    result = run("demo", "--db", str(tmp_path / "d" / "canteen.db"), "--households", "-3")
    assert result.exit_code == 2
    assert result.stderr.startswith("Erreur : ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "d").exists()


def test_a_database_where_nothing_can_be_written_is_one_french_line() -> None:
    # Issue 14, item 16: was a FileNotFoundError traceback.
    result = run("demo", "--db", "/proc/nope/x.db")
    assert result.exit_code == 1
    assert result.stderr == (
        "Erreur : impossible de créer la démo : /proc/nope : dossier ou fichier introuvable ; "
        "choisissez un autre --db\n"
    )
    assert "Traceback" not in result.output


def test_refuses_a_deployment_file_for_another_database(tmp_path: Path) -> None:
    (tmp_path / "canteen.toml").write_text(
        '[storage]\nurl = "sqlite:///other.db"\n[issuer]\nname = "X"\ncode = "X"\n',
        encoding="utf-8",
    )
    result = run("demo", "--db", str(tmp_path / "canteen.db"), "--households", "1")
    assert result.exit_code == 1
    assert "décrit une autre base" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canteen.toml"]


def test_installed_script_runs_the_demo(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("canteen")
    executable = str(script) if script.exists() else shutil.which("canteen")
    assert executable is not None, "the canteen console script is not installed"
    db = tmp_path / "canteen.db"
    done = subprocess.run(
        [executable, "demo", "--households", "30", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Payeur : Madame CONCERTO Maman" in done.stdout
    assert "31 foyers créés" in done.stdout


def test_an_interrupted_run_resumes_without_duplicates(
    demo_db: tuple[Path, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from canteen_core.domain.errors import StorageError
    from canteen_core.services.attendance import AttendanceService

    clean, first = demo_db
    original = AttendanceService.justify_many

    def flaky(self: AttendanceService, *args: Any, **kwargs: Any) -> Any:
        # The batch of certificates fails after September's roll calls were recorded.
        raise StorageError("disque plein (simulé)")

    monkeypatch.setattr(AttendanceService, "justify_many", flaky)
    resumed = tmp_path / "resumed" / "canteen.db"
    broken = run("demo", "--db", str(resumed), "--households", HOUSEHOLDS)
    assert broken.exit_code == 1
    assert broken.stderr == "Erreur : disque plein (simulé)\n"
    monkeypatch.setattr(AttendanceService, "justify_many", original)
    again = run("demo", "--db", str(resumed), "--households", HOUSEHOLDS)
    assert again.exit_code == 0, again.output
    assert table_counts(resumed) == table_counts(clean)
    # Up to the portal's lines: each run's temporary password is random.
    tail = "Portail (API HTTP)"
    assert (
        again.stdout.split("MES FACTURES")[1].split(tail)[0]
        == (first.stdout.split("MES FACTURES")[1].split(tail)[0])
    )
