"""``canteen outbox send``: send the queued emails through the deployment's mailer."""

from __future__ import annotations

import click

from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._output import echo_json, plural

__all__ = ["command"]


@click.group("outbox")
def command() -> None:
    """Gérer la file d'envoi des e-mails (factures, reçus, invitations, relances)."""


@command.command("send")
@operator_command
@click.option(
    "--max-batches",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="S'arrêter après ce nombre de lots (le reste attend le prochain passage).",
)
def send_command(operator: Operator, max_batches: int) -> None:
    """Envoyer ce que contient la file d'envoi ; les échecs sont réessayés, rien n'est perdu.

    À lancer par cron (toutes les quelques minutes) ou après une facturation :

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
