"""``canteen refund``: pay a household's credit (avoir) back to the family."""

from __future__ import annotations

import click

from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import choice_option, parse_day
from canteen_adapters.cli._output import euros
from canteen_core.domain.ledger import PaymentMethod
from canteen_core.domain.money import parse_amount
from canteen_core.services.payments import REFUND_METHODS

__all__ = ["command"]


@click.command("refund")
@operator_command
@click.option("--household", required=True, help="Identifiant du foyer.")
@click.option(
    "--amount",
    required=True,
    help="Montant remboursé en euros : 9.95, 9,95 (au plus l'avoir disponible du foyer).",
)
@choice_option("--method", REFUND_METHODS, PaymentMethod.TRANSFER, help="Mode de remboursement.")
@click.option("--reference", help="Référence du virement ou numéro du chèque.")
@click.option(
    "--date",
    "refunded_on",
    help="Jour du remboursement (par défaut : aujourd'hui ; pas dans le futur).",
)
def command(
    operator: Operator,
    household: str,
    amount: str,
    method: str,
    reference: str | None,
    refunded_on: str | None,
) -> None:
    """Rembourser à la famille tout ou partie de l'avoir de son foyer (un trop-perçu).

    Le remboursement figure sur le relevé du foyer et dans le journal d'audit. Refusé au-delà
    de l'avoir disponible, ou daté d'un jour où le foyer n'avait pas encore cet avoir.

    \b
        canteen refund --household CONCERTO --amount 9,95
        canteen refund --household H000001 --amount 20 --method cheque --reference 0004521
    """
    actor = operator.actor
    day = parse_day(refunded_on, "--date") if refunded_on else None
    money = parse_amount(amount, path="--amount", ceiling=None)
    with operator.open() as canteen:
        refund = canteen.payments.refund(
            actor, household, money, method=method, refunded_on=day, reference=reference
        )
        page = canteen.billing.invoices_page(actor, household)
    operator.show(
        {
            "id": refund.id,
            "household_id": refund.household_id,
            "amount": f"{refund.amount.amount:.2f}",
            "method": refund.method.value,
            "refunded_on": refund.refunded_on,
            "reference": refund.reference,
            "credit": f"{page.available_credit.amount:.2f}",
        },
        f"Remboursement enregistré : {euros(refund.amount)} ({refund.method.label_fr}) au foyer "
        f"{household} le {refund.refunded_on:%d/%m/%Y}. Avoir restant : "
        f"{euros(page.available_credit)}",
    )
