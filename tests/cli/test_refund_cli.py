"""``canteen refund``: staff pay a household's credit back from the command line; a household
holding credit cannot be erased until then (``canteen household erase`` names the command)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import Result

from ._demo_site import run

#: A day CONCERTO's September invoice (13,40 €) is paid.
NOV = "2023-11-02T09:00:00+01:00"


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {n: connection.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


def _refused(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Erreur : "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr, result.stderr


def test_credit_is_refunded_before_the_household_can_be_erased(site: Path) -> None:
    config = ("--config", str(site))
    paid = run("pay", *config, "--household", "CONCERTO", "--amount", "20", now=NOV)
    assert "avoir disponible : 20,00 €" in paid.stdout, paid.output
    db = site.parent / "canteen.db"
    before = _counts(db)
    erase = run("household", "erase", *config, "--household", "CONCERTO", now=NOV)
    _refused(erase, 1, "effacement refusé : le foyer CONCERTO détient un avoir de 20,00 €")
    assert "(canteen refund --household CONCERTO --amount 20,00)" in erase.stderr
    assert _counts(db) == before
    refund = run("refund", *config, "--household", "CONCERTO", "--amount", "12,50",
                 "--reference", "VIR-2023-118", now=NOV)  # fmt: skip
    assert refund.exit_code == 0, refund.output
    assert refund.stdout == (
        "Remboursement enregistré : 12,50 € (virement) au foyer CONCERTO le 02/11/2023. "
        "Avoir restant : 7,50 €\n"
    )
    rest = run("refund", *config, "--household", "CONCERTO", "--amount", "7.50", "--method",
               "cheque", "--date", "02/11/2023", "--json", now=NOV)  # fmt: skip
    assert rest.exit_code == 0, rest.output
    document = json.loads(rest.stdout)
    assert (document["method"], document["refunded_on"], document["credit"]) == (
        "cheque",
        "2023-11-02",
        "0.00",
    )
    audit = run("audit", *config, "--household", "CONCERTO", "--action", "record_payment",
                now=NOV)  # fmt: skip
    assert "Remboursement de 12,50 € (virement) au foyer CONCERTO" in audit.stdout
    erased = run("household", "erase", *config, "--household", "CONCERTO", "--json", now=NOV)
    assert erased.exit_code == 0, erased.output
    kept = {item["what"]: item["count"] for item in json.loads(erased.stdout)["kept"]}
    assert kept["remboursements"] == 2


def test_refund_bad_input_changes_nothing(site: Path) -> None:
    config = ("--config", str(site))
    assert run("pay", *config, "--household", "CONCERTO", "--amount", "20", now=NOV).exit_code == 0
    db = site.parent / "canteen.db"
    before = _counts(db)

    def refund(*args: str) -> Result:
        return run("refund", *config, "--household", "CONCERTO", *args, now=NOV)

    _refused(refund("--amount", "20,01"), 1,
             "20,01 € demandés, mais le foyer CONCERTO n'a que 20,00 €")  # fmt: skip
    _refused(refund("--amount", "0"), 2, "--amount : le montant doit être positif")
    _refused(refund("--amount", "-5"), 2, "--amount")
    _refused(refund("--amount", "dix"), 2, "--amount")
    _refused(refund("--amount", "5", "--method", "card"), 2, "card")
    _refused(refund("--amount", "5", "--date", "2023-11-03"), 2,
             "--date : la date du remboursement ne peut pas être dans le futur")  # fmt: skip
    # Before the 20,00 € it pays back was received.
    _refused(refund("--amount", "5", "--date", "2023-10-31"), 1,
             "au 31/10/2023, le foyer CONCERTO n'avait pas l'avoir de 5,00 €")  # fmt: skip
    _refused(refund("--amount", "5", "--date", "31/02/2023"), 2, "--date : date invalide")
    _refused(run("refund", *config, "--household", "PERSONNE", "--amount", "5", now=NOV), 1,
             "PERSONNE")  # fmt: skip
    assert _counts(db) == before


def test_pay_refuses_a_day_years_before_the_household_used_the_service(site: Path) -> None:
    db = site.parent / "canteen.db"
    before = _counts(db)
    _refused(run("pay", "--config", str(site), "--household", "CONCERTO", "--amount", "20",
                 "--date", "2020-01-01", now=NOV), 2,
             "--date : la date de réception (01/01/2020) est trop ancienne")  # fmt: skip
    assert _counts(db) == before
