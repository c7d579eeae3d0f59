"""``canteen enrollments``: list, edit and end the enrollments made with ``canteen enroll``."""

from __future__ import annotations

import click

from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import choice_option, parse_day
from canteen_adapters.cli._output import billed_json, plural
from canteen_adapters.cli.enroll import enrollment_json, parse_deadline
from canteen_core.domain.enrollments import Enrollment, LateChangeMode

__all__ = ["command", "enrollment_json"]


def _line(enrollment: Enrollment) -> str:
    return (
        f"{enrollment.id}  {enrollment.household_id} / {enrollment.child_id}  "
        f"{enrollment.service.name} - {enrollment.site.name}  du {enrollment.start:%d/%m/%Y} au "
        f"{enrollment.end:%d/%m/%Y}  catégorie {enrollment.tariff_category}"
    )


@click.group("enrollments")
def command() -> None:
    """Gérer les inscriptions : les lister, les modifier, y mettre fin."""


@command.command("list")
@operator_command
@click.option("--household", help="Seulement les inscriptions de ce foyer.")
@click.option("--site", "site_id", help="Seulement les inscriptions sur ce site.")
@click.option("--service", "service_id", help="Seulement les inscriptions à cette prestation.")
def list_command(
    operator: Operator, household: str | None, site_id: str | None, service_id: str | None
) -> None:
    """Lister les inscriptions (par foyer, site ou prestation), avec leurs identifiants.

    \b
        canteen enrollments list --household CONCERTO
        canteen enrollments list --site ronde --json
    """
    actor = operator.actor
    with operator.open() as canteen:
        if household is not None:
            found = [
                e
                for e in canteen.enrollments.of_household(actor, household)
                if site_id in (None, e.site.id) and service_id in (None, e.service.id)
            ]
        else:
            found = list(
                canteen.enrollments.list_enrollments(actor, site_id=site_id, service_id=service_id)
            )
    found.sort(key=lambda e: (e.household_id, e.child_id, e.start, e.id))
    operator.show(
        {"count": len(found), "enrollments": [enrollment_json(e) for e in found]},
        plural(len(found), "inscription"),
        *(f"  {_line(enrollment)}" for enrollment in found),
    )


@command.command("edit")
@operator_command
@click.argument("enrollment_id")
@click.option(
    "--category",
    help="Nouvelle catégorie tarifaire : resident, non_resident, adult, pai... Elle vaut pour "
    "les mois facturés ensuite ; les mois déjà facturés gardent la leur.",
)
@click.option(
    "--deadline", help="Nouveau délai de réservation et d'annulation (comme pour canteen enroll)."
)
@choice_option(
    "--late",
    LateChangeMode,
    help="Sort d'une modification faite par la famille après le délai : refusée (refuse), "
    "en attente de validation (pending) ou majorée (surcharge).",
)
def edit_command(
    operator: Operator,
    enrollment_id: str,
    category: str | None,
    deadline: str | None,
    late: str | None,
) -> None:
    """Modifier une inscription : catégorie tarifaire, délai ou changements tardifs (--late).

    \b
        canteen enrollments edit e-123 --category non_resident
    """
    actor = operator.actor
    policy = parse_deadline(deadline) if deadline is not None else None
    with operator.open() as canteen:
        changed = canteen.enrollments.amend(
            actor,
            enrollment_id,
            tariff_category=category,
            booking_policy=policy,
            cancellation_policy=policy,
            late_change=late,
        )
    operator.show(enrollment_json(changed), f"Inscription modifiée : {_line(changed)}")


@command.command("end")
@operator_command
@click.argument("enrollment_id")
@click.option(
    "--on", "last_day", required=True, help="Nouveau dernier jour (AAAA-MM-JJ ou JJ/MM/AAAA)."
)
def end_command(operator: Operator, enrollment_id: str, last_day: str) -> None:
    """Changer le dernier jour d'une inscription (départ d'un enfant) ; les jours réservés
    après ce jour sont annulés, et ceux déjà facturés seront crédités à la prochaine
    facturation (la commande dit combien).

    \b
        canteen enrollments end e-123 --on 2023-12-22
    """
    actor = operator.actor
    day = parse_day(last_day, "--on")
    with operator.open() as canteen:
        billed = canteen.enrollments.billed_after(actor, enrollment_id, day)
        changed = canteen.enrollments.end_on(actor, enrollment_id, day)
    lines = [f"Inscription modifiée : {_line(changed)}"]
    if billed.count:
        lines.append(billed.summary_fr)
    operator.show({**enrollment_json(changed), "billed": billed_json(billed)}, *lines)
