"""``canteen sepa export``: the direct-debit collection file (pain.008.001.02); ``canteen sepa
returns``: the bank's return file (pain.002 or camt.054)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import out_option, parse_day
from canteen_adapters.cli._output import echo_json, euros, plural

__all__ = ["command"]


@click.group("sepa")
def command() -> None:
    """Gérer le prélèvement SEPA : fichier de prélèvement et retours de la banque."""


@command.command("export")
@operator_command
@click.option(
    "--collection-date", required=True, help="Jour où les banques prélèvent les familles."
)
@out_option("Fichier XML pain.008 à écrire (il ne doit pas exister).")
def export_command(operator: Operator, collection_date: str, out: Path) -> None:
    """Prélever les factures impayées des foyers ayant un mandat : écrire le fichier pain.008.

    Enregistre un règlement par prélèvement pour chaque facture, fait passer les premiers
    prélèvements en récurrents et met en file d'envoi les e-mails de pré-notification, le tout en
    une transaction ; le fichier est vérifié par rapport au XSD. Une date de prélèvement au
    préavis trop court, ou un seul prélèvement invalide, n'écrit rien et ne change rien.
    Nécessite une table [payment.sepa] (creditor_name, creditor_iban, creditor_id).

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


@command.command("returns")
@operator_command
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
def returns_command(operator: Operator, file: Path) -> None:
    """Charger un fichier de retour de la banque : rapport pain.002 ou avis de débit camt.054.

    Chaque prélèvement rejeté ou retourné rouvre sa facture (le prélèvement est conservé, marqué
    retourné), garde le code motif de la banque et prévient la famille par e-mail, le tout en une
    transaction. Le fichier est vérifié par rapport à son XSD ; un fichier incorrect, ou un
    identifiant de bout en bout qu'aucun fichier de prélèvement n'a envoyé, ne change rien.
    Recharger le même fichier ne change rien (et le signale).

    \b
        canteen sepa returns retours-2023-10.xml
    """
    actor = operator.actor
    data = file.read_bytes()
    with operator.open() as canteen:
        report = canteen.payments.load_debit_returns(actor, data)
    if operator.as_json:
        echo_json(
            {
                "kind": report.kind,
                "message_id": report.message_id,
                "already_loaded": report.already_loaded,
                "returns": [
                    {
                        "household_id": entry.household_id,
                        "end_to_end_id": entry.end_to_end_id,
                        "amount": f"{entry.amount.amount:.2f}",
                        "returned_on": entry.returned_on,
                        "reason_code": entry.reason_code,
                        "reason_label": entry.reason_label,
                    }
                    for entry in report.returns
                ],
                "already_returned": list(report.already_returned),
                "message": report.summary,
            }
        )
        return
    click.echo(report.summary)
    for entry in report.returns:
        click.echo(
            f"  {entry.end_to_end_id} : {euros(entry.amount)}, le {entry.returned_on:%d/%m/%Y}, "
            f"motif {entry.reason_code} ({entry.reason_label})"
        )
