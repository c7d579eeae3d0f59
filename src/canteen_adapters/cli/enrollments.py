"""``canteen enrollments``: list, edit and end the enrollments made with ``canteen enroll``."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import (
    Operator,
    choice_option,
    operator_command,
    parse_day,
    plural,
)
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
    """Enrollments (inscriptions): list, edit, end."""


@command.command("list")
@operator_command
@click.option("--household", help="Only this household's enrollments.")
@click.option("--site", "site_id", help="Only the enrollments at this site.")
@click.option("--service", "service_id", help="Only the enrollments of this service.")
def list_command(
    operator: Operator, household: str | None, site_id: str | None, service_id: str | None
) -> None:
    """List enrollments (by household, site or service), with their ids.

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
@click.option("--category", help="New tariff category: resident, non_resident, adult, pai...")
@click.option("--deadline", help="New booking and cancelling deadline (as for canteen enroll).")
@choice_option("--late", LateChangeMode, help="What a family's change after the deadline becomes.")
def edit_command(
    operator: Operator,
    enrollment_id: str,
    category: str | None,
    deadline: str | None,
    late: str | None,
) -> None:
    """Change an enrollment's tariff category, deadline or late-change mode.

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
@click.option("--on", "last_day", required=True, help="New last day (AAAA-MM-JJ or JJ/MM/AAAA).")
def end_command(operator: Operator, enrollment_id: str, last_day: str) -> None:
    """Move an enrollment's last day (a child leaving); booked days after it are cancelled.

    \b
        canteen enrollments end e-123 --on 2023-12-22
    """
    actor = operator.actor
    day = parse_day(last_day, "--on")
    with operator.open() as canteen:
        changed = canteen.enrollments.end_on(actor, enrollment_id, day)
    operator.show(enrollment_json(changed), f"Inscription modifiée : {_line(changed)}")
