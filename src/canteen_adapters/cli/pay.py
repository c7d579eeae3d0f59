"""``canteen pay``: record a payment received at the counter (cash, cheque, CESU)."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import choice_option, parse_day
from canteen_adapters.cli._output import euros
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.ledger import PaymentMethod
from canteen_core.domain.money import parse_amount

__all__ = ["COUNTER_METHODS", "command"]

#: Methods the counter records (card and direct debit come from their providers).
COUNTER_METHODS = (PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.CESU)


@click.command("pay")
@operator_command
@click.option("--household", required=True, help="Identifiant du foyer.")
@click.option(
    "--amount", required=True, help="Montant en euros : 13.40, 13,40 ou 1 000,00 (deux décimales)."
)
@click.option(
    "--above-ceiling",
    is_flag=True,
    default=False,
    help="Confirmer un montant supérieur au plafond [money] max_payment du déploiement "
    "(par défaut 10 000 €).",
)
@choice_option("--method", COUNTER_METHODS, PaymentMethod.CASH, help="Mode de règlement.")
@click.option("--reference", help="Numéro de chèque, titres CESU ou numéro de quittance.")
@click.option("--invoice", "invoice_number", help="Numéro de la facture à régler en premier.")
@click.option(
    "--date",
    "received_on",
    help="Jour de réception (par défaut : aujourd'hui ; ni dans le futur, ni avant l'année "
    "scolaire précédant la première du foyer).",
)
def command(
    operator: Operator,
    household: str,
    amount: str,
    above_ceiling: bool,
    method: str,
    reference: str | None,
    invoice_number: str | None,
    received_on: str | None,
) -> None:
    """Enregistrer un règlement reçu au guichet de la régie.

    La facture indiquée est réglée en premier, puis les plus anciennes ; un trop-perçu devient
    un avoir du foyer, que « canteen refund » rembourse. La famille reçoit un reçu par e-mail
    (file d'envoi).

    \b
        canteen pay --household CONCERTO --amount 13,40
        canteen pay --household H000001 --amount 50 --method cheque --reference 0001234
    """
    actor = operator.actor
    day = parse_day(received_on, "--date") if received_on else None
    with operator.open() as canteen:
        try:
            money = parse_amount(
                amount,
                path="--amount",
                ceiling=canteen.deployment.money.max_payment,
                above_ceiling=above_ceiling,
            )
        except RuleViolationError as error:  # above the ceiling: name the option that confirms
            fail(f"{error} (--above-ceiling)")
        invoice_ids: tuple[str, ...] = ()
        if invoice_number is not None:
            page = canteen.billing.invoices_page(actor, household)
            found = [row.invoice_id for row in page.rows if row.number == invoice_number]
            if not found:
                fail(f"le foyer {household} n'a pas de facture n° {invoice_number}")
            invoice_ids = (found[0],)
        payment = canteen.payments.record_payment(
            actor,
            household,
            money,
            method,
            received_on=day,
            reference=reference,
            invoice_ids=invoice_ids,
        )
        page = canteen.billing.invoices_page(actor, household)
    operator.show(
        {
            "id": payment.id,
            "household_id": payment.household_id,
            "amount": f"{payment.amount.amount:.2f}",
            "method": payment.method.value,
            "received_on": payment.received_on,
            "balance_due": f"{page.balance_due.amount:.2f}",
            "credit": f"{page.available_credit.amount:.2f}",
        },
        f"Règlement enregistré : {euros(payment.amount)} ({payment.method.label_fr}) du foyer "
        f"{household} le {payment.received_on:%d/%m/%Y}. Reste à payer : "
        f"{euros(page.balance_due)}"
        + (f", avoir disponible : {euros(page.available_credit)}" if page.available_credit else ""),
    )
