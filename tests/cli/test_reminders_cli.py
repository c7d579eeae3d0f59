"""``canteen reminders send``: the payment reminders due on a day, as the staff API sends them;
one French line per reminder and a summary, each (invoice, level) once; a bad date is one line and
sends nothing (a copy of the small demo site, whose September invoices fall due on 01/11/2023)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from canteen_core.services import Canteen

from ._demo_site import run
from .test_operator import ADMIN, data, one_line_error


@pytest.fixture(scope="module")
def demo_households() -> int:
    """Five households, as the operator tests: four owe their September invoice."""
    return 5


#: A day the first reminder is due (01/11/2023 + 15 days), and one the second is.
NOVEMBER = "2023-11-16T09:00:00+01:00"
DECEMBER = "2023-12-02T09:00:00+01:00"


def reminder_mails(config: Path) -> list[str]:
    """The households the reminder e-mails in the outbox go to."""
    with Canteen.open(config) as canteen:
        return sorted(
            record.message.household_id or ""
            for record in canteen.billing.sent_reminders(ADMIN, limit=1000)
        )


def test_reminders_are_sent_once_per_invoice_and_level(site: Path) -> None:
    config = ("--config", str(site))
    early = run("reminders", "send", *config)
    assert early.exit_code == 0, early.output
    assert early.stdout == (
        "Aucune relance due le 06/10/2023 : rien n'a été envoyé (6 foyers dans la commune).\n"
    )
    assert reminder_mails(site) == []

    first = run("reminders", "send", *config, now=NOVEMBER)
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == (
        "Facture 2023-000003, foyer H000002 (Madame PETIT Léa) : Premier rappel (niveau 1), "
        "reste à payer 132,80 €, échue le 01/11/2023"
    )
    assert len(lines) == 5
    assert lines[-1] == (
        "Relances du 16/11/2023 : 4 relances envoyées à 4 foyers sur 6, 4 e-mails mis en file "
        "d'envoi (canteen outbox send)."
    )
    assert reminder_mails(site) == ["H000002", "H000003", "H000004", "H000005"]

    again = run("reminders", "send", *config, "--date", "2023-11-16", now=DECEMBER)
    assert again.stdout.startswith("Aucune relance due le 16/11/2023")
    assert len(reminder_mails(site)) == 4

    second = data(run("reminders", "send", *config, "--json", now=DECEMBER))
    assert second["date"] == "2023-12-02"
    assert [r["level"] for r in second["reminders"]] == [2, 2, 2, 2]
    assert second["reminders"][0] == {
        "invoice_id": "invoice:RONDE:2023-000003",
        "number": "2023-000003",
        "household_id": "H000002",
        "payer": "Madame PETIT Léa",
        "level": 2,
        "label": "Second rappel",
        "due_date": "2023-11-01",
        "balance_due": "132.80",
        "emailed": True,
    }
    assert (second["households"], second["messages"], second["reminded_households"]) == (6, 4, 4)
    assert len(reminder_mails(site)) == 8


def test_a_household_without_e_mail_is_reminded_by_post(site: Path) -> None:
    with Canteen.open(site) as canteen:
        household = canteen.families.get(ADMIN, "H000003")
        payer = attrs.evolve(household.payer, email=None)
        canteen.families.save_household(
            ADMIN, attrs.evolve(household, payer=payer, co_representative=None)
        )
    result = run("reminders", "send", "--config", str(site), now=NOVEMBER)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if "H000003" in line]
    assert line.endswith("; aucune adresse e-mail : relance à envoyer par courrier")
    assert result.stdout.splitlines()[-1].endswith(
        "3 e-mails mis en file d'envoi (canteen outbox send), 1 foyer sans e-mail à relancer "
        "par courrier."
    )
    assert "H000003" not in reminder_mails(site)


def test_a_bad_or_future_date_sends_nothing(site: Path, tmp_path: Path) -> None:
    config = ("--config", str(site))
    one_line_error(run("reminders", "send", *config, "--date", "2023-02-30"), 2,
                   "--date : date invalide")  # fmt: skip
    one_line_error(run("reminders", "send", *config, "--date", "2024-01-10"), 2,
                   "--date : les relances ne partent pas à une date future (10/01/2024 ; "
                   "aujourd'hui : 06/10/2023) : rien n'a été envoyé")  # fmt: skip
    assert reminder_mails(site) == []
    one_line_error(run("reminders", "send", "--config", str(tmp_path / "none.toml")), 1,
                   "fichier de déploiement introuvable")  # fmt: skip
