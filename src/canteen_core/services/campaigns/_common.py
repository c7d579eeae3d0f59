"""What both kinds of campaign share: reading a campaign and its answers, the e-mails, the
checks of dates and of who may act."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from canteen_core.domain.campaigns import AnswerState, Campaign, CampaignAnswer, CampaignKind
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.families import Household
from canteen_core.domain.policy import Action
from canteen_core.services.billing._base import household_recipients
from canteen_core.services.runner import Transaction

__all__ = [
    "MANAGING",
    "CampaignProgress",
    "HouseholdCampaign",
    "answers_of",
    "campaign_of",
    "check_closable",
    "check_deadline",
    "mail_household",
    "may_answer",
    "state_filter",
]

#: The action that opens, reminds and closes each kind of campaign (and sees its answers).
MANAGING: Mapping[CampaignKind, Action] = {
    CampaignKind.QUOTIENT: Action.MANAGE_FAMILY_QUOTIENT,
    CampaignKind.REENROLLMENT: Action.MANAGE_ENROLLMENTS,
}

_NOT_FOUND = "campagne introuvable"


@attrs.frozen(kw_only=True)
class CampaignProgress:
    """Where a campaign stands: its answers (by household) and how many are in each state."""

    campaign: Campaign
    answers: tuple[CampaignAnswer, ...]

    @property
    def counts(self) -> dict[AnswerState, int]:
        """How many answers are in each state (states with none left out)."""
        counts: dict[AnswerState, int] = {}
        for answer in self.answers:
            counts[answer.state] = counts.get(answer.state, 0) + 1
        return counts

    @property
    def summary_fr(self) -> str:
        """``"12 en attente de réponse, 30 nouveau quotient enregistré"``."""
        counts = self.counts
        if not counts:
            return "aucune famille concernée"
        return ", ".join(f"{count} {state.label_fr}" for state, count in sorted(counts.items()))


@attrs.frozen(kw_only=True)
class HouseholdCampaign:
    """An open campaign as one household sees it: what it is asked."""

    campaign: Campaign
    answers: tuple[CampaignAnswer, ...]


def campaign_of(tx: Transaction, campaign_id: str, kind: CampaignKind | None = None) -> Campaign:
    """The campaign ``campaign_id`` (of ``kind`` when given); "introuvable" otherwise, and
    the actor must be allowed to manage that kind."""
    campaign = tx.uow.campaigns.find(campaign_id)
    if campaign is None or (kind is not None and campaign.kind is not kind):
        raise NotFoundError(_NOT_FOUND)
    tx.authorize(action=MANAGING[campaign.kind])
    return campaign


def answers_of(
    tx: Transaction, campaign_id: str, state: AnswerState | None = None
) -> list[CampaignAnswer]:
    """The campaign's answers (in ``state`` when given), by household then child."""
    where: dict[str, object] = {"campaign_id": campaign_id}
    if state is not None:
        where["state"] = state.value
    found = tx.uow.campaign_answers.list(**where)
    return sorted(found, key=lambda a: (a.household_id, a.child_id or "", a.id))


def state_filter(state: AnswerState | str | None) -> AnswerState | None:
    """``state`` parsed (French error listing the states)."""
    if state is None:
        return None
    try:
        return AnswerState(state)
    except ValueError:
        known = ", ".join(item.value for item in AnswerState)
        raise InvalidInputError(f"état inconnu « {state} » ({known})", path="state") from None


def check_deadline(today: date, deadline: date, first: date | None = None) -> None:
    """Refuse a deadline already past (or on or after ``first``, the day the campaign's
    outcome applies)."""
    if deadline < today:
        raise InvalidInputError(
            f"la date limite ({deadline:%d/%m/%Y}) est déjà passée", path="deadline"
        )
    if first is not None and deadline >= first:
        raise InvalidInputError(
            f"la date limite doit précéder le {first:%d/%m/%Y}", path="deadline"
        )


def check_closable(campaign: Campaign, today: date) -> None:
    """A campaign closes once its deadline has passed (families answer until that day)."""
    if today <= campaign.deadline:
        raise RuleViolationError(
            f"la campagne « {campaign.title} » reste ouverte aux familles jusqu'au "
            f"{campaign.deadline:%d/%m/%Y} inclus : elle se clôt après"
        )


def mail_household(
    tx: Transaction,
    household: Household,
    kind: str,
    context: Mapping[str, Any],
    *,
    key: str,
) -> int:
    """E-mail ``household``'s guardians (each address once) through the outbox; how many
    messages were queued."""
    notifier = tx.context.notifier
    seen: set[str] = set()
    for recipient in household_recipients(household):
        if recipient.address in seen:
            continue
        seen.add(recipient.address)
        variables = {"portal_url": notifier.settings.portal_url, **context}
        tx.send(notifier.render(kind, recipient, variables, key=key, household_id=household.id))
    return len(seen)


def may_answer(tx: Transaction, answer_id: str) -> CampaignAnswer:
    """The answer ``answer_id`` if the actor may act on its household ("introuvable"
    otherwise: another household's answer is not told apart from a missing one)."""
    answer = tx.uow.campaign_answers.find(answer_id)
    if answer is None or not tx.may(answer.household_id):
        raise NotFoundError("réponse de campagne introuvable")
    return answer
