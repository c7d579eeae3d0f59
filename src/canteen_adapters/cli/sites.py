"""``canteen sites``: the sites (schools, restaurants) and services enrollments use."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import (
    WEEKDAY_NAMES_FR,
    config_option,
    echo_json,
    join_fr,
    json_option,
    open_canteen,
    operator_actor,
    operator_option,
    plural,
)

__all__ = ["command"]


@click.group("sites")
def command() -> None:
    """Sites and services (the ids canteen enroll and canteen book take)."""


@command.command("list")
@config_option
@operator_option
@json_option
def list_command(config: Path, operator: str | None, as_json: bool) -> None:
    """List the sites and services used by enrollments, with their ids.

    \b
        canteen sites list
    """
    actor = operator_actor(operator)
    with open_canteen(config) as canteen:
        sites = canteen.enrollments.sites(actor)
        services = canteen.enrollments.services(actor)
    if as_json:
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
