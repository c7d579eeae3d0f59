"""``canteen sites``: the catalog's sites (schools, restaurants) with their closures, and
services; ``canteen sites close`` closes a site over a period (strike, works)."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import (
    WEEKDAY_NAMES_FR,
    billed_json,
    echo_json,
    french_day_span,
    join_fr,
    plural,
)
from canteen_core.domain.calendar import Period
from canteen_core.services.catalog import BilledClosureError

__all__ = ["command"]


@click.group("sites")
def command() -> None:
    """Consulter et fermer les sites et prestations (les identifiants que prennent canteen enroll
    et canteen book)."""


@command.command("list")
@operator_command
def list_command(operator: Operator) -> None:
    """Lister les sites du catalogue (avec leurs fermetures) et les prestations, avec leurs
    identifiants.

    \b
        canteen sites list
    """
    actor = operator.actor
    with operator.open() as canteen:
        entries = canteen.catalog.sites(actor)
        services = [entry.service for entry in canteen.catalog.services(actor)]
    if operator.as_json:
        echo_json(
            {
                "sites": [
                    {
                        "id": e.id,
                        "name": e.site.name,
                        "zone": str(e.site.zone),
                        "department": e.site.department,
                        "version": e.version,
                        "closures": [
                            {"name": p.name, "first_day": p.first_day, "last_day": p.last_day}
                            for p in e.closures
                        ],
                    }
                    for e in entries
                ],
                "services": [
                    {"id": s.id, "name": s.name, "weekdays": sorted(s.open_weekdays)}
                    for s in services
                ],
            }
        )
        return
    click.echo(plural(len(entries), "site"))
    for entry in entries:
        site = entry.site
        click.echo(f"  {site.id}  {site.name} (zone {site.zone}, département {site.department})")
        for period in entry.closures:
            click.echo(
                f"      fermé {french_day_span(period.first_day, period.last_day)} : {period.name}"
            )
    click.echo(plural(len(services), "prestation"))
    for service in services:
        days = join_fr([WEEKDAY_NAMES_FR[day] for day in sorted(service.open_weekdays)])
        click.echo(f"  {service.id}  {service.name} ({days})")


@command.command("close")
@operator_command
@click.option(
    "--site", "site_id", required=True, help="Identifiant du site (voir canteen sites list)."
)
@click.option("--from", "first", required=True, help="Premier jour de fermeture (2023-10-02).")
@click.option("--to", "last", help="Dernier jour de fermeture (par défaut : le premier).")
@click.option("--reason", required=True, help='Motif, affiché aux familles : "Grève", "Travaux".')
@click.option(
    "--credit-billed",
    is_flag=True,
    help="Confirmer une fermeture sur des jours déjà facturés : la prochaine facturation "
    "les crédite (avoirs sur les factures concernées).",
)
def close_command(
    operator: Operator,
    site_id: str,
    first: str,
    last: str | None,
    reason: str,
    credit_billed: bool,
) -> None:
    """Fermer un site sur une période : les jours réservés sont annulés (non facturés) pour
    toutes les inscriptions sur le site, actuelles et futures, et les familles concernées sont
    prévenues par e-mail.

    Une fermeture ne s'annule pas : sur des jours déjà facturés, elle est refusée sans
    --credit-billed, en disant combien de repas la prochaine facturation créditerait.

    \b
        canteen sites close --site ronde --from 2023-10-02 --to 2023-10-03 --reason Grève
    """
    first_day = parse_day(first, "--from")
    last_day = first_day if last is None else parse_day(last, "--to")
    period = Period(name=reason, first_day=first_day, last_day=last_day)
    with operator.open() as canteen:
        try:
            closure = canteen.catalog.add_closure(
                operator.actor, site_id, period, credit_billed=credit_billed
            )
        except BilledClosureError as error:
            fail(f"{error} (--credit-billed)")
    billed = closure.billed
    if operator.as_json:
        echo_json(
            {
                "site": site_id,
                "cancelled": dict(closure.cancelled),
                "billed": billed_json(billed),
            }
        )
        return
    days = closure.cancelled_count
    click.echo(
        f"{site_id} fermé {french_day_span(first_day, last_day)} "
        f"({reason}) : {plural(days, 'réservation')} annulée{'s' if days > 1 else ''} "
        f"({plural(len(closure.cancelled), 'inscription')})"
    )
    if billed.count:
        click.echo(billed.summary_fr)
