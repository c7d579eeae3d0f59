"""``canteen book``: book or cancel days of an enrollment, or apply a weekly periodicity."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import choice_option, parse_day
from canteen_adapters.cli._output import echo_json, plural
from canteen_core.domain.periodicity import Periodicity, Recurrence
from canteen_core.domain.reservations import BulkResult

__all__ = ["command", "result_json"]


def result_json(result: BulkResult) -> dict[str, Any]:
    """What ``--json`` prints: the days changed, unchanged and skipped (with the reason)."""
    return {
        "enrollment_id": result.enrollment_id,
        "booked": list(result.booked),
        "cancelled": list(result.cancelled),
        "unchanged": list(result.unchanged),
        "skipped": [
            {"date": item.day, "reason": str(item.reason), "message": item.message}
            for item in result.skipped
        ],
        "pending_requests": [request.id for request in result.pending],
    }


@click.command("book")
@operator_command
@click.option("--enrollment", required=True, help="Identifiant de l'inscription.")
@click.option(
    "--day",
    "days",
    multiple=True,
    help="Jour à réserver, ou à annuler avec --cancel (option répétable).",
)
@click.option("--from", "start", help="Premier jour d'une plage (avec --to).")
@click.option("--to", "end", help="Dernier jour d'une plage (avec --from).")
@click.option(
    "--weekdays",
    help="Appliquer une périodicité sur la plage --from..--to : par exemple mon,tue,thu.",
)
@choice_option(
    "--recurrence",
    Recurrence,
    Recurrence.EVERY_WEEK,
    help="Rythme de la périodicité (every_other_week compte les semaines à partir de --from).",
)
@click.option(
    "--keep-others",
    is_flag=True,
    help="Avec --weekdays : garder les autres jours réservés (par défaut, ils sont annulés).",
)
@click.option("--cancel", is_flag=True, help="Annuler les jours au lieu de les réserver.")
def command(
    operator: Operator,
    enrollment: str,
    days: tuple[str, ...],
    start: str | None,
    end: str | None,
    weekdays: str | None,
    recurrence: str,
    keep_others: bool,
    cancel: bool,
) -> None:
    """Réserver (ou annuler, --cancel) des jours d'une inscription : jours, plage ou périodicité.

    \b
        canteen book --enrollment E1 --day 2023-09-04 --day 2023-09-05
        canteen book --enrollment E1 --from 2023-09-04 --to 2023-09-29 --cancel
        canteen book --enrollment E1 --from 2023-09-04 --to 2024-07-05 --weekdays mon,thu

    Les jours de fermeture (vacances, mercredis...) et les jours hors de l'inscription ne sont
    jamais réservés : ils sont listés comme ignorés, avec la raison.
    """
    actor = operator.actor
    if days and (start or end or weekdays):
        fail("donnez des --day ou une plage --from/--to, pas les deux", exit_code=2)
    if not days and not (start and end):
        fail("donnez au moins un --day, ou --from et --to", exit_code=2)
    if weekdays and cancel:
        fail("--cancel ne s'applique pas à une périodicité (--weekdays)", exit_code=2)
    if days:
        wanted: dict[date, bool] = {parse_day(text, "--day"): not cancel for text in days}
    else:
        first = parse_day(start or "", "--from")
        last = parse_day(end or "", "--to")
        if last < first:
            fail("--to est avant --from", exit_code=2)
    with operator.open() as canteen:
        reservations = canteen.reservations
        if days:
            result = reservations.set_days(actor, enrollment, wanted)
        elif weekdays:
            pattern = Periodicity(
                weekdays=weekdays,
                start=first,
                end=last,
                recurrence=recurrence,
                anchor=first if recurrence == Recurrence.EVERY_OTHER_WEEK.value else None,
            )
            result = reservations.apply_periodicity(
                actor, enrollment, pattern, replace=not keep_others
            )
        elif cancel:
            result = reservations.untick_range(actor, enrollment, first, last)
        else:
            result = reservations.tick_range(actor, enrollment, first, last)
    if operator.as_json:
        echo_json(result_json(result))
        return
    parts = [
        plural(len(result.booked), "jour réservé", "jours réservés"),
        plural(len(result.cancelled), "jour annulé", "jours annulés"),
        plural(len(result.unchanged), "jour inchangé", "jours inchangés"),
    ]
    if result.skipped:
        parts.append(plural(len(result.skipped), "jour ignoré", "jours ignorés"))
    click.echo(f"Inscription {enrollment} : " + ", ".join(parts))
    for item in result.skipped[:10]:
        click.echo(f"  {item.day:%d/%m/%Y} : {item.message}")
    if len(result.skipped) > 10:
        click.echo(f"  ... et {len(result.skipped) - 10} autres")
