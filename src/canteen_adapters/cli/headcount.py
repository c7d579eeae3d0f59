"""``canteen headcount``: meals to cook per diet and PAI baskets, per site and day."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import echo_json, short_french_date
from canteen_core.domain.families import Diet

__all__ = ["DIET_LABELS_FR", "command"]

#: How the kitchen names the diets (each :class:`Diet`'s ``label``; kept for callers of this name).
DIET_LABELS_FR: Mapping[Diet, str] = MappingProxyType({diet: diet.label for diet in Diet})


@click.command("headcount")
@operator_command
@click.option("--site", "site_id", required=True, help="Identifiant du site.")
@click.option("--date", "day", required=True, help="Jour (ou premier jour avec --to).")
@click.option("--to", "end", help="Dernier jour d'une plage (quelques mois au plus).")
@click.option("--service", "service_id", help="Seulement cette prestation.")
def command(
    operator: Operator, site_id: str, day: str, end: str | None, service_id: str | None
) -> None:
    """Afficher les repas à préparer (par régime) et les paniers PAI d'un site, pour un jour ou
    une plage.

    \b
        canteen headcount --site ronde --date 2023-09-04
        canteen headcount --site ronde --date 2023-09-04 --to 2023-09-08 --json
    """
    actor = operator.actor
    first = parse_day(day, "--date")
    last = parse_day(end, "--to") if end else first
    if last < first:
        fail("--to est avant --date", exit_code=2)
    with operator.open() as canteen:
        known = {site.id for site in canteen.enrollments.sites(actor)}
        if site_id not in known:
            fail(f"site inconnu « {site_id} » (connus : {', '.join(sorted(known)) or 'aucun'})")
        counts = canteen.kitchen.headcounts(actor, site_id, first, last, service_id=service_id)
    if operator.as_json:
        echo_json(
            {
                "site": site_id,
                "days": [
                    {
                        "date": count.day,
                        "meals": {str(diet): count.meals.get(diet, 0) for diet in Diet},
                        "total_meals": count.total_meals,
                        "pai_baskets": count.pai_baskets,
                        "total": count.total,
                    }
                    for count in counts
                ],
            }
        )
        return
    for count in counts:
        diets = ", ".join(f"{diet.label} {count.meals.get(diet, 0)}" for diet in Diet)
        click.echo(
            f"{short_french_date(count.day)} : {count.total_meals} repas ({diets}), "
            f"{count.pai_baskets} panier(s) PAI"
        )
