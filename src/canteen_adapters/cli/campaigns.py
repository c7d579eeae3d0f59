"""``canteen campaign``: the yearly campaigns (family-quotient update, re-enrollment)."""

from __future__ import annotations

import click

from canteen_adapters.cli._common import (
    Operator,
    echo_json,
    operator_command,
    parse_day,
    short_french_date,
)
from canteen_core.domain.campaigns import AnswerState, Campaign, CampaignAnswer
from canteen_core.services.campaigns import CampaignProgress

__all__ = ["command", "rollover_group"]


@click.group("campaign")
def command() -> None:
    """Yearly campaigns: family quotients (qf) and re-enrollment (rollover)."""


def _campaign_json(campaign: Campaign) -> dict[str, object]:
    return {
        "id": campaign.id,
        "kind": campaign.kind.value,
        "title": campaign.title,
        "status": campaign.status.value,
        "deadline": campaign.deadline,
        "valid_from": campaign.valid_from,
        "school_year": campaign.school_year,
        "opened_at": campaign.opened_at,
        "closed_at": campaign.closed_at,
    }


def _answer_json(answer: CampaignAnswer) -> dict[str, object]:
    return {
        "id": answer.id,
        "household_id": answer.household_id,
        "child_id": answer.child_id,
        "state": answer.state.value,
        "level": answer.level,
        "weekdays": list(answer.weekdays or ()),
        "new_enrollment_id": answer.new_enrollment_id,
        "quotient": None if answer.quotient is None else str(answer.quotient),
        "reminders": answer.reminders,
        "decided_at": answer.decided_at,
        "note": answer.note,
    }


def _line(campaign: Campaign) -> str:
    status = "ouverte" if campaign.is_open else "close"
    return (
        f"{campaign.id}  {campaign.title} — {status}, "
        f"date limite {short_french_date(campaign.deadline)}"
    )


def _print(operator: Operator, progress: CampaignProgress, *, answers: bool = False) -> None:
    if operator.as_json:
        echo_json(
            {
                **_campaign_json(progress.campaign),
                "counts": {state.value: n for state, n in progress.counts.items()},
                "answers": [_answer_json(a) for a in progress.answers],
            }
        )
        return
    click.echo(_line(progress.campaign))
    click.echo(f"  {progress.summary_fr}")
    if answers:
        for a in progress.answers:
            child = f", enfant {a.child_id}" if a.child_id else ""
            click.echo(f"  {a.id}  foyer {a.household_id}{child} : {a.state_fr}")


@command.command("qf")
@operator_command
@click.option("--valid-from", required=True, help="Day the new quotients apply (2024-01-01).")
@click.option("--deadline", required=True, help="Last day families answer (2023-12-15).")
@click.option("--title", default=None, help="The campaign's name families read.")
def qf_command(operator: Operator, valid_from: str, deadline: str, title: str | None) -> None:
    """Open a family-quotient campaign: households are asked by e-mail for their
    attestation CAF.

    \b
        canteen campaign qf --valid-from 2024-01-01 --deadline 2023-12-15
    """
    start = parse_day(valid_from, "--valid-from")
    last = parse_day(deadline, "--deadline")
    with operator.open() as canteen:
        progress = canteen.campaigns.open_quotient(
            operator.actor, valid_from=start, deadline=last, title=title
        )
    _print(operator, progress)


@command.command("rollover")
@operator_command
@click.option("--school-year", required=True, type=int, help="Start year of the next one.")
@click.option("--deadline", required=True, help="Last day families answer (2024-06-15).")
@click.option(
    "--periodicities/--no-periodicities",
    default=True,
    show_default=True,
    help="Offer this year's weekly pattern for next year.",
)
@click.option("--title", default=None, help="The campaign's name families read.")
def rollover_command(
    operator: Operator, school_year: int, deadline: str, periodicities: bool, title: str | None
) -> None:
    """Open the re-enrollment for the next school year: families confirm each child.

    \b
        canteen campaign rollover --school-year 2024 --deadline 2024-06-15
    """
    last = parse_day(deadline, "--deadline")
    with operator.open() as canteen:
        progress = canteen.campaigns.open_reenrollment(
            operator.actor,
            school_year=school_year,
            deadline=last,
            keep_periodicities=periodicities,
            title=title,
        )
    _print(operator, progress)


@command.command("list")
@operator_command
def list_command(operator: Operator) -> None:
    """List the campaigns, newest first.

    \b
        canteen campaign list
    """
    with operator.open() as canteen:
        campaigns = canteen.campaigns.list_campaigns(operator.actor)
    if operator.as_json:
        echo_json([_campaign_json(c) for c in campaigns])
        return
    if not campaigns:
        click.echo("Aucune campagne.")
    for campaign in campaigns:
        click.echo(_line(campaign))


@command.command("show")
@operator_command
@click.argument("campaign_id")
@click.option(
    "--state",
    type=click.Choice([state.value for state in AnswerState]),
    default=None,
    help="Only the answers in this state (awaiting: who has not answered).",
)
def show_command(operator: Operator, campaign_id: str, state: str | None) -> None:
    """Show a campaign and its answers: who answered, who did not.

    \b
        canteen campaign show 3f2a... --state awaiting
    """
    with operator.open() as canteen:
        progress = canteen.campaigns.progress(operator.actor, campaign_id, state=state)
    _print(operator, progress, answers=True)


@command.command("remind")
@operator_command
@click.argument("campaign_id")
def remind_command(operator: Operator, campaign_id: str) -> None:
    """E-mail again the households that have not answered.

    \b
        canteen campaign remind 3f2a...
    """
    with operator.open() as canteen:
        reminded = canteen.campaigns.remind(operator.actor, campaign_id)
    households = sorted({a.household_id for a in reminded})
    operator.show(
        {"id": campaign_id, "reminded_households": households},
        f"{campaign_id} : {len(households)} foyer(s) relancé(s)",
    )


@command.command("close")
@operator_command
@click.argument("campaign_id")
def close_command(operator: Operator, campaign_id: str) -> None:
    """Close a campaign after its deadline: the commune's rule settles every answer left
    (quotients), confirmed children are enrolled for next year (re-enrollment). Running it
    again does nothing more.

    \b
        canteen campaign close 3f2a...
    """
    with operator.open() as canteen:
        progress = canteen.campaigns.close(operator.actor, campaign_id)
    _print(operator, progress)


@command.command("close-year")
@operator_command
@click.argument("school_year")
def close_year_command(operator: Operator, school_year: str) -> None:
    """Close a school year after its last day: no booking, roll call or enrollment change on
    its days any more; its unpaid invoices and credit are carried into the next year as they
    stand (counted here). Bill its last month first.

    \b
        canteen campaign close-year 2023-2024
    """
    with operator.open() as canteen:
        closing = canteen.campaigns.close_year(operator.actor, school_year)
    operator.show(
        {
            "school_year": closing.id,
            "closed_at": closing.closed_at.isoformat(),
            "closed_by": closing.closed_by,
            "open_invoices": closing.open_invoices,
            "amount_due": str(closing.amount_due.amount),
            "credit_held": str(closing.credit_held.amount),
        },
        closing.summary_fr(),
    )


@click.group("rollover")
def rollover_group() -> None:
    """The school-year rollover: open next year's re-enrollment (open, as canteen campaign
    rollover), follow and close it with canteen campaign show/remind/close, then close the
    old year (close-year)."""


rollover_group.add_command(rollover_command, "open")
rollover_group.add_command(close_year_command, "close-year")
