"""``canteen retention run``: apply the deployment's retention settings (dry run by default)."""

from __future__ import annotations

import click

from canteen_adapters.cli._operator import Operator, operator_command

__all__ = ["command"]


@click.group("retention")
def command() -> None:
    """Gérer la durée de conservation des données personnelles ([retention] dans canteen.toml)."""


@command.command("run")
@operator_command
@click.option(
    "--apply",
    "apply",
    is_flag=True,
    default=False,
    help="Supprimer ce qui a dépassé sa durée (par défaut : simple rapport).",
)
def run_command(operator: Operator, apply: bool) -> None:
    """Lister ce qui est conservé au-delà des durées de conservation ; le supprimer avec --apply.

    \b
        canteen retention run              # ce qui serait supprimé, sans rien changer
        canteen retention run --apply      # le supprimer (une entrée d'audit)
    """
    with operator.open() as canteen:
        report = canteen.retention.run(operator.actor, apply=apply)
    operator.show(
        {
            "applied": report.applied,
            "items": [
                {
                    "key": item.key,
                    "label": item.label,
                    "rule": item.rule,
                    "count": item.count,
                    "ids": list(item.ids),
                }
                for item in report.items
            ],
        },
        *report.lines(),
    )
