"""``canteen retention run``: apply the deployment's retention settings (dry run by default)."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import Operator, operator_command

__all__ = ["command"]


@click.group("retention")
def command() -> None:
    """How long personal data is kept ([retention] in canteen.toml)."""


@command.command("run")
@operator_command
@click.option(
    "--apply", "apply", is_flag=True, default=False, help="Remove what is due (default: report)."
)
def run_command(operator: Operator, apply: bool) -> None:
    """Report what is kept beyond the retention settings; remove it with --apply.

    \b
        canteen retention run              # what would go, nothing changed
        canteen retention run --apply      # remove it (one audit entry)
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
