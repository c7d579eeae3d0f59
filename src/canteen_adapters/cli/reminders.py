"""``canteen reminders send``: the payment reminders (relances) due on a day, as
``POST /api/v1/staff/reminders`` sends them."""

from __future__ import annotations

from typing import Any

import click

from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import echo_json, euros, plural
from canteen_adapters.cli.invoices import payer_label
from canteen_core.domain.clock import paris_today
from canteen_core.domain.families import Household
from canteen_core.domain.ledger import InvoiceState
from canteen_core.services import Canteen
from canteen_core.services.billing import household_recipients

__all__ = ["command"]


@click.group("reminders")
def command() -> None:
    """Relancer les familles dont les factures sont échues et restent à payer."""


def _outcome(
    state: InvoiceState, level: int, label: str, household: Household | None
) -> dict[str, Any]:
    invoice = state.invoice
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "household_id": invoice.household_id,
        "payer": None if household is None else payer_label(household),
        "level": level,
        "label": label,
        "due_date": invoice.due_date,
        "balance_due": f"{state.uncovered.amount:.2f}",
        "emailed": household is not None and bool(household_recipients(household)),
    }


def _line(item: dict[str, Any], state: InvoiceState) -> str:
    payer = f" ({item['payer']})" if item["payer"] else ""
    line = (
        f"Facture {item['number']}, foyer {item['household_id']}{payer} : {item['label']} "
        f"(niveau {item['level']}), reste à payer {euros(state.uncovered)}, "
        f"échue le {item['due_date']:%d/%m/%Y}"
    )
    if not item["emailed"]:
        line += " ; aucune adresse e-mail : relance à envoyer par courrier"
    return line


def _outcomes(
    canteen: Canteen, operator: Operator, sent: tuple[tuple[str, int], ...]
) -> list[tuple[dict[str, Any], InvoiceState]]:
    """Each reminder sent, with its invoice as it stands after the run."""
    actor = operator.actor
    labels = {item.level: item.label for item in canteen.billing.options.dunning.levels}
    households = {item.id: item for item in canteen.families.list_households(actor)}
    found = []
    for invoice_id, level in sent:
        state = canteen.billing.invoice(actor, invoice_id)
        household = households.get(state.invoice.household_id)
        label = labels.get(level, "Relance")
        found.append((_outcome(state, level, label, household), state))
    found.sort(key=lambda pair: (pair[0]["household_id"], pair[0]["number"]))
    return found


@command.command("send")
@operator_command
@click.option(
    "--date",
    "today",  # the service's name: its refusals name --date
    default=None,
    metavar="DATE",
    help="Jour de la relance : les factures échues depuis le délai de chaque niveau à cette "
    "date (par défaut : aujourd'hui, heure de Paris).",
)
def send_command(operator: Operator, today: str | None) -> None:
    """Envoyer les relances de paiement dues : un e-mail aux responsables du foyer par facture
    échue non réglée, au niveau de relance atteint (premier rappel, second rappel...).

    Chaque facture reçoit chaque niveau une seule fois : relancer la commande le même jour
    n'envoie rien de plus. Une facture couverte par un prélèvement programmé n'est pas relancée.
    Les e-mails passent par la file d'envoi (canteen outbox send). Un foyer sans adresse e-mail
    est signalé : sa relance est à envoyer par courrier.

    \b
        canteen reminders send
        canteen reminders send --date 2023-11-20 --json
    """
    actor = operator.actor
    asked = None if today is None else parse_day(today, "--date")
    with operator.open() as canteen:
        # A date after today is the service's refusal (nothing sent), named after --date.
        as_of = asked or paris_today(canteen.context.clock)
        report = canteen.billing.run_reminders(actor, today=as_of)
        outcomes = _outcomes(canteen, operator, report.sent)
    reminded = len({item["household_id"] for item, _ in outcomes})
    if operator.as_json:
        echo_json(
            {
                "date": as_of,
                "reminders": [item for item, _ in outcomes],
                "reminded_households": reminded,
                "households": report.households,
                "messages": report.messages,
            }
        )
        return
    for item, state in outcomes:
        click.echo(_line(item, state))
    if not outcomes:
        click.echo(
            f"Aucune relance due le {as_of:%d/%m/%Y} : rien n'a été envoyé "
            f"({plural(report.households, 'foyer')} dans la commune)."
        )
        return
    by_post = len({item["household_id"] for item, _ in outcomes if not item["emailed"]})
    post = f", {plural(by_post, 'foyer')} sans e-mail à relancer par courrier" if by_post else ""
    click.echo(
        f"Relances du {as_of:%d/%m/%Y} : "
        f"{plural(len(outcomes), 'relance envoyée', 'relances envoyées')} à "
        f"{plural(reminded, 'foyer')} sur {report.households}, "
        f"{plural(report.messages, 'e-mail mis', 'e-mails mis')} en file d'envoi "
        f"(canteen outbox send){post}."
    )
