"""``canteen invoices``: the invoices of a household ("MES FACTURES") or of the commune."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._output import echo_json, euros, plural, progress
from canteen_core.domain.families import Household
from canteen_core.domain.ledger import InvoiceState
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

__all__ = ["command", "payer_label"]


def payer_label(household: Household) -> str:
    """``Madame CONCERTO Maman``, as the portal writes the payer."""
    payer = household.payer
    parts = [payer.civility or "", payer.last_name.upper(), payer.first_name]
    return " ".join(part for part in parts if part)


def _row(state: InvoiceState, household: Household) -> dict[str, Any]:
    invoice = state.invoice
    return {
        "id": invoice.id,
        "number": invoice.number,
        "household_id": household.id,
        "payer": payer_label(household),
        "label": invoice.label,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "total": f"{invoice.total.amount:.2f}",
        "paid": f"{state.paid.amount:.2f}",
        "balance_due": f"{state.balance_due.amount:.2f}",
        "status": state.status.value,
        "status_label": state.status_label_fr,
    }


def _write_pdfs(
    canteen: Canteen, states: list[tuple[InvoiceState, Household]], folder: Path
) -> int:
    try:
        from canteen_adapters.documents.pdf import PaymentOptions, render_invoice_pdf
    except ImportError:  # pragma: no cover - fpdf2 ships with the documents extra
        fail("les PDF demandent l'extra documents : pip install 'canteen[documents]'")
    issuer = canteen.deployment.issuer
    options = PaymentOptions.for_deployment(canteen.deployment)
    with progress(states, label="PDF") as bar:
        for state, household in bar:
            data = render_invoice_pdf(
                state.invoice, household=household, issuer=issuer, state=state, payment=options
            )
            (folder / f"facture-{state.invoice.number}.pdf").write_bytes(data)
    return len(states)


@click.command("invoices")
@operator_command
@click.option("--household", help="Un seul foyer : sa page « MES FACTURES ».")
@click.option("--unpaid", is_flag=True, help="Seulement les factures avec un reste à payer.")
@click.option(
    "--pdf",
    "pdf_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Écrire aussi chaque facture en PDF (facture-<numéro>.pdf) dans ce dossier existant.",
)
def command(operator: Operator, household: str | None, unpaid: bool, pdf_dir: Path | None) -> None:
    """Lister les factures : date, échéance, reste à payer, total (format français).

    \b
        canteen invoices                         # tous les foyers, avec les totaux
        canteen invoices --household CONCERTO    # « MES FACTURES » d'une famille
        canteen invoices --unpaid --json
        canteen invoices --pdf factures/
    """
    actor = operator.actor
    if pdf_dir is not None and not pdf_dir.is_dir():
        fail(f"--pdf : le dossier {pdf_dir} n'existe pas", exit_code=2)
    with operator.open() as canteen:
        if household is not None:
            households = [canteen.families.get(actor, household)]
        else:
            households = sorted(canteen.families.list_households(actor), key=lambda h: h.id)
        # One bulk read (a few queries per 500 households), not one use case per household.
        statements = canteen.billing.statements(actor, [item.id for item in households])
        states: list[tuple[InvoiceState, Household]] = [
            (state, item) for item in households for state in statements[item.id].invoices
        ]
        if unpaid:
            states = [(s, h) for s, h in states if s.balance_due.is_positive]
        states.sort(key=lambda pair: (pair[0].invoice.issue_date, pair[0].invoice.number))
        written = _write_pdfs(canteen, states, pdf_dir) if pdf_dir is not None else 0
    total = Money.sum(s.invoice.total for s, _ in states)
    due = Money.sum(s.balance_due for s, _ in states)
    open_count = sum(1 for s, _ in states if s.balance_due.is_positive)
    # Money received beyond the invoices: the régie refunds it (canteen refund) or the next
    # invoices use it.
    credit = Money.sum(statements[item.id].available_credit for item in households)
    if operator.as_json:
        echo_json(
            {
                "invoices": [_row(state, item) for state, item in states],
                "total": f"{total.amount:.2f}",
                "balance_due": f"{due.amount:.2f}",
                "unpaid": open_count,
                "available_credit": f"{credit.amount:.2f}",
            }
        )
        return
    if household is not None:
        click.echo(f"Payeur : {payer_label(households[0])}")
        if open_count == 0:
            click.echo("Vous n'avez aucune facture non réglée")
        else:
            s = "s" if open_count > 1 else ""
            click.echo(f"Vous avez {open_count} facture{s} non réglée{s}")
    headers = ("N°", "Libellé", "Facture du", "À régler avant le", "Reste à payer", "Total")
    rows = [
        (
            state.invoice.number,
            state.invoice.label if household is not None else f"{item.id} {payer_label(item)}",
            f"{state.invoice.issue_date:%d/%m/%Y}",
            f"{state.invoice.due_date:%d/%m/%Y}",
            euros(state.balance_due),
            euros(state.invoice.total),
        )
        for state, item in states
    ]
    if rows:
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [
                cell.rjust(width) if index >= 4 else cell.ljust(width)
                for index, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            click.echo("  ".join(cells).rstrip())
    click.echo(
        f"{plural(len(states), 'facture')}, total {euros(total)}, reste à payer {euros(due)}"
        f" ({plural(open_count, 'facture non réglée', 'factures non réglées')})"
    )
    if credit.is_positive:
        whose = "du foyer" if household is not None else "des foyers"
        click.echo(
            f"Avoir disponible {whose} : {euros(credit)} (canteen refund pour le rembourser)"
        )
    if pdf_dir is not None:
        click.echo(f"{plural(written, 'PDF écrit', 'PDF écrits')} dans {pdf_dir}")
