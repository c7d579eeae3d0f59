"""``canteen capacity``: places per site, service and day, waiting lists, offered places."""

from __future__ import annotations

from datetime import date

import click

from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import echo_json, plural, short_french_date

__all__ = ["command"]


@click.group("capacity")
def command() -> None:
    """Gérer la capacité d'une prestation sur un site et ses listes d'attente
    (docs/rules/capacity.md)."""


@command.command("set")
@operator_command
@click.option(
    "--site", "site_id", required=True, help="Identifiant du site (voir canteen sites list)."
)
@click.option(
    "--service", "service_id", required=True, help="Identifiant de la prestation (rs, alsh...)."
)
@click.option("--places", required=True, type=int, help="Nombre de places par jour.")
@click.option(
    "--day",
    "days",
    multiple=True,
    help="Un jour avec son propre nombre de places : 2024-02-12=20 (option répétable).",
)
def set_command(
    operator: Operator, site_id: str, service_id: str, places: int, days: tuple[str, ...]
) -> None:
    """Fixer les places par jour d'une prestation sur un site ; les places ajoutées vont aux
    enfants en attente.

    \b
        canteen capacity set --site centre --service alsh --places 40 --day 2024-02-12=24
    """
    overrides: dict[date, int] = {}
    for item in days:
        text, _, count = item.partition("=")
        if not count.strip().isdigit():
            raise click.BadParameter(f"« {item} » : écrivez 2024-02-12=20", param_hint="--day")
        overrides[parse_day(text, "--day")] = int(count)
    with operator.open() as canteen:
        rule = canteen.capacity.set(operator.actor, site_id, service_id, places, days=overrides)
    operator.show(
        {
            "site": rule.site_id,
            "service": rule.service_id,
            "places": rule.places,
            "days": dict(rule.days),
        },
        f"{service_id} à {site_id} : {plural(places, 'place')} par jour",
        *(
            f"  le {short_french_date(when)} : {plural(number, 'place')}"
            for when, number in rule.days
        ),
    )


@command.command("waiting")
@operator_command
@click.option("--site", "site_id", required=True, help="Identifiant du site.")
@click.option("--service", "service_id", required=True, help="Identifiant de la prestation.")
@click.option("--day", required=True, help="Le jour (2024-02-12).")
def waiting_command(operator: Operator, site_id: str, service_id: str, day: str) -> None:
    """Afficher la liste d'attente d'un jour, par ordre d'arrivée.

    \b
        canteen capacity waiting --site centre --service alsh --day 2024-02-12
    """
    when = parse_day(day, "--day")
    with operator.open() as canteen:
        entries = canteen.capacity.waiting_list(operator.actor, site_id, service_id, when)
    if operator.as_json:
        echo_json(
            [
                {
                    "id": e.id,
                    "position": e.position,
                    "enrollment": e.enrollment_id,
                    "status": e.status.value,
                }
                for e in entries
            ]
        )
        return
    click.echo(
        f"Liste d'attente du {short_french_date(when)} : {plural(len(entries), 'inscription')}"
    )
    for entry in entries:
        click.echo(f"  {entry.position}. {entry.enrollment_id} : {entry.status.label}")


@command.command("expire")
@operator_command
def expire_command(operator: Operator) -> None:
    """Faire expirer les places proposées dont le délai est dépassé ; elles vont aux enfants
    suivants en liste d'attente (à lancer par cron, par exemple toutes les heures).

    \b
        canteen capacity expire
    """
    with operator.open() as canteen:
        expired = canteen.capacity.expire_offers(operator.actor)
    operator.show({"expired": expired}, plural(expired, "offre expirée", "offres expirées"))
