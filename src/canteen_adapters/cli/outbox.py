"""``canteen outbox send``: send the queued emails through the deployment's mailer."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import Operator, echo_json, operator_command, plural

__all__ = ["command"]


@click.group("outbox")
def command() -> None:
    """Queued emails (invoices, receipts, invitations, reminders)."""


@command.command("send")
@operator_command
@click.option(
    "--max-batches",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Stop after this many batches (the rest waits for the next run).",
)
def send_command(operator: Operator, max_batches: int) -> None:
    """Send what the outbox holds; failures are retried later, nothing is lost.

    Run it from cron (every few minutes) or after a billing run:

    \b
        canteen outbox send --config /srv/ronde/canteen.toml
    """
    actor = operator.actor
    with operator.open() as canteen:
        report = canteen.accounts.send_outbox(actor, max_batches=max_batches)
        waiting = len(canteen.accounts.outbox(actor, "pending"))
    if operator.as_json:
        echo_json(
            {
                "sent": len(report.sent),
                "already_sent": len(report.already_sent),
                "retrying": len(report.retrying),
                "dead": len(report.dead),
                "pending": waiting,
            }
        )
        return
    click.echo(
        f"{plural(len(report.sent), 'message envoyé', 'messages envoyés')}, "
        f"{len(report.retrying)} à réessayer, {len(report.dead)} en échec définitif, "
        f"{waiting} en attente"
    )
