"""A family quotient recorded during a quotient campaign answers it.

Kept apart from :mod:`canteen_core.services.campaigns` (it needs only the domain and the
runner) so that the use cases recording quotients (accepting an attestation CAF, staff
setting a quotient) call it without importing the campaigns' services.
"""

from __future__ import annotations

from canteen_core.domain.campaigns import (
    AnswerState,
    Campaign,
    CampaignKind,
    answer_quotient,
)
from canteen_core.domain.families import FamilyQuotient, Household
from canteen_core.services.runner import Transaction

__all__ = ["answers_campaign", "record_quotient_answer"]


def answers_campaign(quotient: FamilyQuotient, campaign: Campaign) -> bool:
    """Whether ``quotient`` is a new one for the campaign: it applies on its ``valid_from``
    or starts later."""
    assert campaign.valid_from is not None
    return quotient.valid_until is None or quotient.valid_until >= campaign.valid_from


def record_quotient_answer(tx: Transaction, household: Household, quotient: FamilyQuotient) -> None:
    """A quotient was just recorded for ``household``: it answers each open quotient campaign
    still awaiting it whose ``valid_from`` it covers (or precedes). Runs in the caller's
    transaction, audited with it."""
    for answer in tx.uow.campaign_answers.list(
        household_id=household.id, state=AnswerState.AWAITING.value
    ):
        campaign = tx.uow.campaigns.get(answer.campaign_id)
        if campaign.kind is not CampaignKind.QUOTIENT or not campaign.is_open:
            continue
        if not answers_campaign(quotient, campaign):
            continue
        assert tx.actor is not None
        answered = answer_quotient(
            answer, quotient.value, by=tx.actor.user_id, at=tx.now, since=quotient.valid_from
        )
        tx.uow.campaign_answers.save(answered)
        tx.audit.change(
            f"campaign_answer:{answer.id}",
            "state",
            answer.state.value,
            answered.state.value,
            household_id=household.id,
        )
