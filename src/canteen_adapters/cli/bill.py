"""``canteen bill``: the post-paid billing run of a month."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import (
    FILE,
    Operator,
    echo_json,
    euros,
    fail,
    french_month,
    operator_command,
    plural,
    progress,
)
from canteen_core.domain.money import Money
from canteen_core.services.billing import IssuedInvoice, parse_period
from canteen_core.services.billing.problems import SkippedHousehold

__all__ = ["BATCH", "command"]

#: Households per call of the billing run (each call bills its batches in their own
#: transactions); the progress bar advances once per call.
BATCH = 200


@click.command("bill")
@operator_command
@click.option("--period", required=True, metavar="YYYY-MM", help="The month to bill.")
@click.option(
    "--allow-unfinished",
    is_flag=True,
    help="Bill a month that is not over yet (days to come are billed as they stand).",
)
@click.option(
    "--print-batch",
    "print_batch",
    type=FILE,
    default=None,
    help="Deliver the new invoices: e-mail their PDF to paperless households, and write the "
    "others' invoices to this PDF for the mail room (sorted by postal address).",
)
def command(
    operator: Operator, period: str, allow_unfinished: bool, print_batch: Path | None
) -> None:
    """Bill a month post-paid: attendance, bookings and tariffs become invoices.

    \b
        canteen bill --period 2023-09

    Safe to run again (or after an interruption): households already billed for the month
    are skipped, invoice numbers stay gapless. A household whose invoice cannot be computed
    (e.g. a tariff category no grid prices) is listed with the reason and skipped; the others
    are billed, and running the month again after the fix bills only the skipped ones. A month
    that is not over is refused unless ``--allow-unfinished``. Shows a progress bar on a
    terminal.

    With ``--print-batch courrier-2023-09.pdf`` the new invoices are also delivered: paperless
    households get theirs by e-mail, PDF attached (through the outbox), the others' are
    printed one after the other into that single PDF, sorted by postal address.
    """
    actor = operator.actor
    if print_batch is not None and print_batch.exists():
        fail(f"--print-batch : {print_batch} existe déjà (rien n'a été modifié)", exit_code=2)
    start, _ = parse_period(period)  # a bad period is refused before anything is opened
    issued: list[IssuedInvoice] = []
    skipped: list[SkippedHousehold] = []
    already = 0
    empty = 0
    with operator.open() as canteen:
        ids = sorted(household.id for household in canteen.families.list_households(actor))
        batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        with progress(batches, label=f"Facturation {period}", length=len(batches)) as bar:
            for batch in bar:
                report = canteen.billing.run_postpaid(
                    actor, period, household_ids=batch, allow_unfinished=allow_unfinished
                )
                issued.extend(report.issued)
                skipped.extend(report.skipped)
                already += len(report.already_billed) + len(report.conflicts)
                empty += len(report.without_charges)
        delivery = None
        if print_batch is not None and issued:
            from canteen_adapters.documents.print_batch import deliver_invoices

            delivery = deliver_invoices(canteen, actor, [item.invoice_id for item in issued])
            if delivery.print_batch is not None:
                partial = print_batch.with_name(print_batch.name + ".partial")
                partial.write_bytes(delivery.print_batch)
                partial.replace(print_batch)
    total = Money.sum(item.total for item in issued)
    if operator.as_json:
        echo_json(
            {
                "period": period,
                "issued": [
                    {
                        "id": item.invoice_id,
                        "number": item.number,
                        "household_id": item.household_id,
                        "total": f"{item.total.amount:.2f}",
                    }
                    for item in issued
                ],
                "total": f"{total.amount:.2f}",
                "already_billed": already,
                "without_charges": empty,
                "skipped": [
                    {"household_id": item.household_id, "reason": item.reason} for item in skipped
                ],
                "emailed": [] if delivery is None else list(delivery.emailed),
                "printed": [] if delivery is None else list(delivery.printed),
            }
        )
        return
    month = french_month(start).capitalize()
    click.echo(
        f"{month} : {plural(len(issued), 'facture émise', 'factures émises')} "
        f"({euros(total)}), {plural(already, 'foyer déjà facturé', 'foyers déjà facturés')}, "
        f"{plural(empty, 'foyer sans consommation', 'foyers sans consommation')}"
    )
    for item in skipped:
        click.echo(f"Foyer {item.household_id} non facturé : {item.reason}")
    if delivery is not None:
        click.echo(
            f"{plural(len(delivery.emailed), 'facture envoyée', 'factures envoyées')} par e-mail, "
            f"{plural(len(delivery.printed), 'facture à imprimer', 'factures à imprimer')}"
            + (f" : {print_batch}" if delivery.print_batch is not None else "")
        )
        for household_id in delivery.without_address:
            click.echo(f"Foyer {household_id} sans adresse postale : à compléter avant l'envoi")
