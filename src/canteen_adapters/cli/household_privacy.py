"""``canteen household export`` and ``canteen household erase``: a household's RGPD rights."""

from __future__ import annotations

import json
from pathlib import Path

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import out_option
from canteen_core.domain.errors import CreditHeldError

__all__ = ["command"]


@click.group("household")
def command() -> None:
    """Exporter ou effacer les données personnelles d'un foyer (RGPD)."""


@command.command("export")
@operator_command
@click.option(
    "--household", "household_id", required=True, metavar="ID", help="Identifiant du foyer."
)
@out_option("Fichier JSON à écrire ; le résumé PDF en français est écrit à côté (.pdf).")
def export_command(operator: Operator, household_id: str, out: Path) -> None:
    """Écrire toutes les données d'un foyer (JSON) et un résumé PDF en français.

    \b
        canteen household export --household CONCERTO --out concerto.json
    """
    from canteen_adapters.documents.privacy import render_export_summary_pdf

    with operator.open() as canteen:
        export = canteen.privacy.export_household(operator.actor, household_id)
        pdf = render_export_summary_pdf(export, canteen.deployment.issuer)
    summary = out.with_suffix(".pdf")
    try:
        out.write_text(
            json.dumps(export.as_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        summary.write_bytes(pdf)
    except OSError as error:
        fail(f"impossible d'écrire {out} : {error.strerror or error}")
    records = sum(count for _, count in export.categories)
    operator.show(
        {
            "household_id": household_id,
            "file": str(out),
            "summary": str(summary),
            "records": records,
        },
        f"Données du foyer {household_id} écrites dans {out} ({records} éléments)",
        f"Résumé en français : {summary}",
    )


@command.command("erase")
@operator_command
@click.option(
    "--household", "household_id", required=True, metavar="ID", help="Identifiant du foyer."
)
def erase_command(operator: Operator, household_id: str) -> None:
    """Effacer un foyer ; ses factures et règlements sont conservés (conservation légale).

    Refusé tant qu'une de ses factures est impayée ou que le foyer détient un avoir (à lui
    rembourser d'abord avec « canteen refund »). Affiche ce qui a été supprimé, ce qui a été
    conservé, et pourquoi.
    """
    with operator.open() as canteen:
        try:
            report = canteen.privacy.erase_household(operator.actor, household_id)
        except CreditHeldError as error:
            amount = f"{error.credit:.2f}".replace(".", ",")
            fail(f"{error} (canteen refund --household {household_id} --amount {amount})")
    operator.show(
        {
            "household_id": report.household_id,
            "removed": dict(report.removed),
            "kept": [
                {"what": label, "count": count, "why": why} for label, count, why in report.kept
            ],
        },
        *report.lines(),
    )
