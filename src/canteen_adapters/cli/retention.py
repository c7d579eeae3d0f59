"""``canteen retention run``: apply the deployment's retention settings (dry run by default)."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import (
    config_option,
    echo_json,
    json_option,
    open_canteen,
    operator_actor,
    operator_option,
)

__all__ = ["command"]


@click.group("retention")
def command() -> None:
    """How long personal data is kept ([retention] in canteen.toml)."""


@command.command("run")
@config_option
@operator_option
@click.option(
    "--apply", "apply", is_flag=True, default=False, help="Remove what is due (default: report)."
)
@json_option
def run_command(config: Path, operator: str | None, apply: bool, as_json: bool) -> None:
    """Report what is kept beyond the retention settings; remove it with --apply.

    \b
        canteen retention run              # what would go, nothing changed
        canteen retention run --apply      # remove it (one audit entry)
    """
    actor = operator_actor(operator)
    with open_canteen(config) as canteen:
        report = canteen.retention.run(actor, apply=apply)
    if as_json:
        echo_json(
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
            }
        )
        return
    for line in report.lines():
        click.echo(line)
