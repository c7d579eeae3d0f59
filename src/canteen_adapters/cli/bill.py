"""``canteen bill``: the billing run of a month, in the deployment's mode (``run_month``:
post-paid, or prepaid, the baskets of the month)."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import FILE
from canteen_adapters.cli._output import echo_json, euros, french_month, plural, progress
from canteen_adapters.heap import startup_heap_frozen
from canteen_core.domain.invoicing import BillingMode, CreditNote
from canteen_core.domain.money import Money
from canteen_core.services.billing import IssuedInvoice, parse_period
from canteen_core.services.billing.problems import SkippedHousehold

__all__ = ["BATCH", "command"]

#: Households per call of the billing run (each call bills its batches in their own
#: transactions); the progress bar advances once per call.
BATCH = 200


@click.command("bill")
@operator_command
@click.option("--period", required=True, metavar="YYYY-MM", help="Mois à facturer.")
@click.option(
    "--allow-unfinished",
    is_flag=True,
    help="Facturer un mois qui n'est pas terminé (les jours à venir sont facturés en l'état).",
)
@click.option(
    "--print-batch",
    "print_batch",
    type=FILE,
    default=None,
    help="Distribuer les nouvelles factures : leur PDF par e-mail aux foyers en facture "
    "dématérialisée, celles des autres dans ce PDF pour le courrier (triées par adresse postale).",
)
def command(
    operator: Operator, period: str, allow_unfinished: bool, print_batch: Path | None
) -> None:
    """Facturer un mois à terme échu : présences, réservations et tarifs deviennent des factures.

    \b
        canteen bill --period 2023-09

    Peut être relancé sans risque (même après une interruption) : les foyers déjà facturés pour
    le mois sont ignorés et les numéros de facture restent sans trou. Un foyer dont la facture
    ne peut pas être calculée (par exemple une catégorie tarifaire qu'aucune grille ne tarife)
    est listé avec la raison et ignoré ; les autres sont facturés, et relancer le mois après
    correction ne facture que les foyers ignorés. Un mois non terminé est refusé sauf avec
    ``--allow-unfinished``. Affiche une barre de progression sur un terminal.

    Avec ``--print-batch courrier-2023-09.pdf``, les nouvelles factures sont aussi distribuées :
    les foyers en facture dématérialisée reçoivent la leur par e-mail, PDF joint (via la file
    d'envoi), celles des autres sont imprimées l'une après l'autre dans ce seul PDF, triées par
    adresse postale.

    En prépaiement (``[billing] mode = "prepaid"``), la commande facture le panier du mois de
    chaque foyer : les jours réservés et pas encore facturés, après avoir remboursé par avoir
    les jours annulés dans les délais. Le mois peut être à venir ou en cours
    (``--allow-unfinished`` est alors sans effet) ; relancer la commande n'émet rien de nouveau.
    """
    actor = operator.actor
    if print_batch is not None and print_batch.exists():
        fail(f"--print-batch : {print_batch} existe déjà (rien n'a été modifié)", exit_code=2)
    start, _ = parse_period(period)  # a bad period is refused before anything is opened
    issued: list[IssuedInvoice] = []
    skipped: list[SkippedHousehold] = []
    credit_notes: list[CreditNote] = []
    already = 0
    empty = 0
    with operator.open() as canteen:
        prepaid = canteen.billing.mode is BillingMode.PREPAID
        ids = sorted(household.id for household in canteen.families.list_households(actor))
        batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        with (
            startup_heap_frozen(),
            progress(batches, label=f"Facturation {period}", length=len(batches)) as bar,
        ):
            for batch in bar:
                report = canteen.billing.run_month(
                    actor, period, household_ids=batch, allow_unfinished=allow_unfinished
                )
                issued.extend(report.issued)
                skipped.extend(report.skipped)
                credit_notes.extend(report.credit_notes)
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
    credited = Money.sum(note.total for note in credit_notes)
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
                "credit_notes": [
                    {
                        "id": note.id,
                        "number": note.number,
                        "household_id": note.household_id,
                        "invoice_id": note.invoice_id,
                        "total": f"{note.total.amount:.2f}",
                    }
                    for note in credit_notes
                ],
                "credited": f"{credited.amount:.2f}",
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
    if credit_notes:
        # Days billed earlier and no longer due (a closure, a cancellation in time): money
        # given back, which staff must see as they see what was billed.
        click.echo(
            f"{'Annulations dans les délais' if prepaid else 'Régularisation'} : "
            f"{plural(len(credit_notes), 'avoir émis', 'avoirs émis')} "
            f"({euros(credited)}) sur des factures précédentes"
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
