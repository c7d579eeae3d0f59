"""``canteen sepa export``: the direct-debit collection file (pain.008.001.02)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from canteen_adapters.cli._common import (
    Operator,
    echo_json,
    euros,
    fail,
    operator_command,
    parse_day,
    plural,
)

__all__ = ["command"]


@click.group("sepa")
def command() -> None:
    """SEPA direct debit."""


@command.command("export")
@operator_command
@click.option("--collection-date", required=True, help="Day the banks debit the families.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pain.008 XML file to write (must not exist).",
)
def export_command(operator: Operator, collection_date: str, out: Path) -> None:
    """Collect every unpaid invoice of households with a mandate: write the pain.008 file.

    Records a direct-debit payment per invoice, moves first debits to recurrent and queues the
    pre-notification emails, all in one transaction; the file is checked against the XSD. A
    collection date with too short a notice, or any invalid debit, writes nothing and changes
    nothing. Needs a [payment.sepa] table (creditor_name, creditor_iban, creditor_id).

    \b
        canteen sepa export --collection-date 2023-10-20 --out prelevements-2023-10.xml
    """
    actor = operator.actor
    day = parse_day(collection_date, "--collection-date")
    if out.exists():
        fail(f"--out : {out} existe déjà (rien n'a été modifié)", exit_code=2)
    folder = out.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        fail(f"--out : impossible d'écrire dans {folder}", exit_code=2)
    with operator.open() as canteen:
        report = canteen.payments.run_direct_debit(actor, day)
    if report.xml is not None:
        partial = out.with_name(out.name + ".partial")
        partial.write_bytes(report.xml)
        partial.replace(out)  # never a half-written file under the final name
    if operator.as_json:
        echo_json(
            {
                "message_id": report.message_id,
                "collection_date": report.collection_date,
                "file": str(out) if report.xml is not None else None,
                "count": report.count,
                "control_sum": f"{report.control_sum.amount:.2f}",
                "debits": [
                    {
                        "household_id": household,
                        "invoice": number,
                        "amount": f"{amount.amount:.2f}",
                        "sequence_type": sequence,
                    }
                    for household, number, amount, sequence in report.debits
                ],
                "skipped": [{"household_id": h, "reason": r} for h, r in report.skipped],
            }
        )
        return
    if report.xml is None:
        click.echo("Rien à prélever : aucun fichier écrit.")
    else:
        click.echo(
            f"{out} : {plural(report.count, 'prélèvement')}, {euros(report.control_sum)}, "
            f"le {report.collection_date:%d/%m/%Y} (message {report.message_id})"
        )
    for household, reason in report.skipped:
        click.echo(f"  foyer {household} non prélevé : {reason}")
