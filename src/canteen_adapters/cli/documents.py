"""``canteen documents``: the family's papers waiting for review, accept, reject, download."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import out_option
from canteen_adapters.cli._output import echo_json, short_french_date
from canteen_core.domain.family_papers import FamilyPaper

__all__ = ["command"]


@click.group("documents")
def command() -> None:
    """Examiner les justificatifs déposés par les familles (Espace de stockage)."""


def _period(paper: FamilyPaper) -> str:
    if paper.valid_from is None:
        return ""
    until = f" au {short_french_date(paper.valid_until)}" if paper.valid_until else ""
    return f" (du {short_french_date(paper.valid_from)}{until})"


@command.command("list")
@operator_command
@click.option(
    "--status",
    type=click.Choice(["pending", "accepted", "rejected", "all"]),
    default="pending",
    show_default=True,
    help="Quels justificatifs : à examiner (par défaut), acceptés, refusés ou tous.",
)
@click.option("--household", default=None, help="Seulement les justificatifs de ce foyer.")
def list_command(operator: Operator, status: str, household: str | None) -> None:
    """Lister les justificatifs, du plus ancien au plus récent (par défaut ceux à examiner).

    \b
        canteen documents list
        canteen documents list --status all --household concerto
    """
    with operator.open() as canteen:
        papers = canteen.papers.list_papers(
            operator.actor, status=None if status == "all" else status, household_id=household
        )
    if operator.as_json:
        echo_json(
            [
                {
                    "id": p.id,
                    "household_id": p.household_id,
                    "child_id": p.child_id,
                    "kind": p.kind.value,
                    "issued_on": p.issued_on,
                    "valid_from": p.valid_from,
                    "valid_until": p.valid_until,
                    "family_quotient": None
                    if p.family_quotient is None
                    else str(p.family_quotient),
                    "status": p.status.value,
                    "size": p.size,
                    "uploaded_at": p.uploaded_at,
                    "rejection_reason": p.rejection_reason,
                }
                for p in papers
            ]
        )
        return
    if not papers:
        click.echo("Aucun document.")
    for p in papers:
        child = f", enfant {p.child_id}" if p.child_id else ""
        click.echo(
            f"{p.id}  foyer {p.household_id}{child} : {p.kind.label} du "
            f"{short_french_date(p.issued_on)}{_period(p)} — {p.status.label}"
        )


@command.command("accept")
@operator_command
@click.argument("paper_id")
def accept_command(operator: Operator, paper_id: str) -> None:
    """Accepter un justificatif et l'appliquer (absences justifiées, quotient enregistré, PAI
    noté) ; la famille est prévenue par e-mail.

    \b
        canteen documents accept 3f2a...
    """
    with operator.open() as canteen:
        outcome = canteen.papers.accept(operator.actor, paper_id)
    operator.show(
        {"id": paper_id, "status": "accepted", "summary": outcome.summary_fr},
        f"{paper_id} : {outcome.summary_fr}",
    )


@command.command("reject")
@operator_command
@click.argument("paper_id")
@click.option("--reason", required=True, help="Motif du refus (envoyé à la famille).")
def reject_command(operator: Operator, paper_id: str, reason: str) -> None:
    """Refuser un justificatif en donnant le motif ; la famille est prévenue par e-mail.

    \b
        canteen documents reject 3f2a... --reason "Illisible"
    """
    with operator.open() as canteen:
        canteen.papers.reject(operator.actor, paper_id, reason)
    operator.show(
        {"id": paper_id, "status": "rejected", "reason": reason},
        f"{paper_id} : document refusé, la famille est prévenue",
    )


@command.command("download")
@operator_command
@click.argument("paper_id")
@out_option("Fichier à écrire (il ne doit pas exister).")
def download_command(operator: Operator, paper_id: str, out: Path) -> None:
    """Enregistrer le fichier d'un justificatif, pour le lire avant de décider.

    \b
        canteen documents download 3f2a... --out certificat.pdf
    """
    if out.exists():
        fail(f"--out : {out} existe déjà", exit_code=2)
    with operator.open() as canteen:
        found = canteen.papers.download(operator.actor, paper_id)
    out.write_bytes(found.content)
    click.echo(f"{out} : {found.paper.kind.label}, {found.paper.size} octets")
