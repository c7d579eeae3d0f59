"""``canteen demo`` (activities by default): the commune's evening care, Wednesday service and
ALSH week are enrolled, booked, attended and billed with September, each on lines of its own;
running it again adds nothing; ``--no-activities`` runs lunch alone."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner, Result

from canteen_adapters.cli import main


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="canteen")


def test_the_demo_bills_its_activities(tmp_path: Path) -> None:
    db = tmp_path / "ronde" / "canteen.db"
    result = _run("demo", "--activities", "--db", str(db), "--households", "12", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    lines = [line for invoice in data["invoices"] for line in invoice["lines"]]
    evening = [line for line in lines if line["description"].startswith("Accueil du soir : ")]
    wednesday = [line for line in lines if line["description"].startswith("Accueil du mercredi")]
    assert evening
    assert any(" demi-journée" in line["description"] for line in wednesday)
    assert any(" repas – " in line["description"] for line in wednesday)
    for invoice in data["invoices"]:  # totals are still the sum of their lines
        assert Decimal(invoice["total"]) == sum(
            Decimal(line["amount"]) for line in invoice["lines"]
        )
    # The lunch of the CONCERTO family is unchanged.
    concerto = [i for i in data["invoices"] if i["household_id"] == "CONCERTO"]
    assert [(i["label"], i["total"]) for i in concerto] == [("SEPTEMBRE 2023", "13.40")]
    again = _run("demo", "--activities", "--db", str(db), "--households", "12")
    assert again.exit_code == 0, again.output
    assert "inscriptions déjà enregistrées" in again.output


def test_no_activities_runs_lunch_alone(tmp_path: Path) -> None:
    # Activities are part of the demo by default; --no-activities leaves them out.
    db = tmp_path / "lunch" / "canteen.db"
    result = _run("demo", "--no-activities", "--db", str(db), "--households", "12", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    descriptions = [line["description"] for i in data["invoices"] for line in i["lines"]]
    assert descriptions
    assert all(d.startswith("Restauration Scolaire") for d in descriptions), descriptions
