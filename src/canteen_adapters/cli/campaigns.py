"""``canteen campaign``: the yearly campaigns (family-quotient update, re-enrollment)."""

from __future__ import annotations

import click

from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import echo_json, short_french_date
from canteen_core.domain.campaigns import AnswerState, Campaign, CampaignAnswer
from canteen_core.services.campaigns import CampaignProgress

__all__ = ["command", "rollover_group"]


@click.group("campaign")
def command() -> None:
    """Gérer les campagnes annuelles : quotients familiaux (qf) et réinscription (rollover)."""


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
@click.option(
    "--valid-from", required=True, help="Jour où les nouveaux quotients s'appliquent (2024-01-01)."
)
@click.option(
    "--deadline", required=True, help="Dernier jour de réponse des familles (2023-12-15)."
)
@click.option("--title", default=None, help="Nom de la campagne, tel que les familles le lisent.")
def qf_command(operator: Operator, valid_from: str, deadline: str, title: str | None) -> None:
    """Ouvrir une campagne de quotient familial : les foyers reçoivent un e-mail leur demandant
    leur attestation CAF.

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
@click.option(
    "--school-year",
    required=True,
    type=int,
    help="Année de début de la prochaine année scolaire (2024 pour 2024-2025).",
)
@click.option(
    "--deadline", required=True, help="Dernier jour de réponse des familles (2024-06-15)."
)
@click.option(
    "--periodicities/--no-periodicities",
    default=True,
    show_default=True,
    help="Reprendre pour l'année suivante la périodicité hebdomadaire de cette année.",
)
@click.option("--title", default=None, help="Nom de la campagne, tel que les familles le lisent.")
def rollover_command(
    operator: Operator, school_year: int, deadline: str, periodicities: bool, title: str | None
) -> None:
    """Ouvrir la réinscription à l'année scolaire suivante : les familles confirment chaque enfant.

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
    """Lister les campagnes, de la plus récente à la plus ancienne.

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
    help="Seulement les réponses dans cet état (awaiting : qui n'a pas répondu).",
)
def show_command(operator: Operator, campaign_id: str, state: str | None) -> None:
    """Afficher une campagne et ses réponses : qui a répondu, qui n'a pas répondu.

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
    """Relancer par e-mail les foyers qui n'ont pas répondu.

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
    """Clore une campagne après sa date limite : la règle de la commune tranche chaque réponse
    restante (quotients), les enfants confirmés sont inscrits pour l'année suivante
    (réinscription). La relancer ne fait rien de plus.

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
    """Clore une année scolaire après son dernier jour : plus aucune réservation, aucun appel ni
    changement d'inscription sur ses jours ; ses factures impayées et ses avoirs sont reportés
    en l'état sur l'année suivante (et comptés ici). Facturer d'abord son dernier mois.

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
    """Passer à l'année scolaire suivante : ouvrir la réinscription (open, comme canteen
    campaign rollover), la suivre et la clore avec canteen campaign show/remind/close, puis
    clore l'ancienne année (close-year)."""


rollover_group.add_command(rollover_command, "open")
rollover_group.add_command(close_year_command, "close-year")
