"""``canteen sites``: the sites (schools, restaurants) and services enrollments use."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import (
    WEEKDAY_NAMES_FR,
    Operator,
    echo_json,
    join_fr,
    operator_command,
    plural,
)

__all__ = ["command"]


@click.group("sites")
def command() -> None:
    """Sites and services (the ids canteen enroll and canteen book take)."""


@command.command("list")
@operator_command
def list_command(operator: Operator) -> None:
    """List the sites and services used by enrollments, with their ids.

    \b
        canteen sites list
    """
    actor = operator.actor
    with operator.open() as canteen:
        sites = canteen.enrollments.sites(actor)
        services = canteen.enrollments.services(actor)
    if operator.as_json:
        echo_json(
            {
                "sites": [
                    {"id": s.id, "name": s.name, "zone": str(s.zone), "department": s.department}
                    for s in sites
                ],
                "services": [
                    {"id": s.id, "name": s.name, "weekdays": sorted(s.open_weekdays)}
                    for s in services
                ],
            }
        )
        return
    click.echo(plural(len(sites), "site"))
    for site in sites:
        click.echo(f"  {site.id}  {site.name} (zone {site.zone}, département {site.department})")
    click.echo(plural(len(services), "prestation"))
    for service in services:
        days = join_fr([WEEKDAY_NAMES_FR[day] for day in sorted(service.open_weekdays)])
        click.echo(f"  {service.id}  {service.name} ({days})")
