"""The family-quotient update campaign: households send their attestation CAF; at the deadline
the commune's rule settles the others.

* opening asks every household with children and no quotient yet recorded for the campaign's
  ``valid_from`` (e-mail, French);
* a quotient recorded afterwards that applies on ``valid_from`` (or later), whether by an
  accepted attestation CAF or by staff, answers the household's request
  (:func:`~canteen_core.services.campaign_answers.record_quotient_answer`, called by those
  use cases in their own transaction);
* :func:`settle` applies the deployment's rule (``[campaigns] missing_quotient``) to a
  household still awaited: its previous quotient is carried over from ``valid_from``
  (``keep``), or ends the day before so the highest bracket applies (``top_bracket``). The
  quotient keeps a French note the tariff explanation shows.
"""

from __future__ import annotations

from datetime import date, timedelta

import attrs

from canteen_core.domain.campaigns import (
    AnswerState,
    Campaign,
    CampaignAnswer,
    MissingQuotientRule,
    settle_quotient,
)
from canteen_core.domain.families import FamilyQuotient, Household
from canteen_core.domain.family_papers import PaperKind, PaperStatus
from canteen_core.domain.money import format_number_fr
from canteen_core.services.billing.billed_days import quotient_repricing
from canteen_core.services.campaign_answers import answers_campaign
from canteen_core.services.campaigns._common import mail_household
from canteen_core.services.runner import Transaction

__all__ = ["ASK_MAIL", "OUTCOME_MAIL", "ask", "attestation_waiting", "needs_quotient", "settle"]

#: The e-mail asking for the attestation (and reminding).
ASK_MAIL = "quotient-campaign-request"
#: The e-mail saying what applies at the deadline.
OUTCOME_MAIL = "quotient-campaign-outcome"


def needs_quotient(household: Household, campaign: Campaign) -> bool:
    """Whether the campaign asks ``household``: it has children, and no quotient for the new
    period is on file (one starting on or after ``valid_from``, or recorded since the
    campaign opened and applying on ``valid_from``)."""
    if not household.children:
        return False
    assert campaign.valid_from is not None
    since = min(campaign.opened_at.date(), campaign.valid_from)
    return not any(
        q.valid_from >= since and answers_campaign(q, campaign) for q in household.quotients
    )


def attestation_waiting(tx: Transaction, household_id: str) -> bool:
    """Whether the household uploaded an attestation CAF that staff have not reviewed yet (it
    answered; staff have to accept it)."""
    pending = tx.uow.family_papers.list(
        household_id=household_id,
        kind=PaperKind.CAF_ATTESTATION.value,
        status=PaperStatus.PENDING.value,
    )
    return next(iter(pending), None) is not None


def ask(tx: Transaction, campaign: Campaign, household: Household, *, reminder: bool) -> None:
    """E-mail the household the campaign's request (or its reminder)."""
    mail_household(
        tx,
        household,
        ASK_MAIL,
        {
            "title": campaign.title,
            "valid_from": campaign.valid_from,
            "deadline": campaign.deadline,
            "reminder": reminder,
            "documents_url": tx.context.notifier.settings.link("{portal_url}/espace-de-stockage"),
        },
        key=f"{campaign.id}:{household.id}:{'reminder' if reminder else 'ask'}:"
        f"{tx.now.isoformat()}",
    )


def _previous(household: Household, valid_from: date) -> FamilyQuotient | None:
    """The quotient in force the day before ``valid_from`` (else the latest before it)."""
    before = [q for q in household.quotients if q.valid_from < valid_from]
    return max(before, key=lambda q: q.valid_from, default=None)


def _settled_quotients(
    household: Household,
    kept: FamilyQuotient | None,
    since: date,
    campaign_id: str,
    why: str,
) -> Household:
    """The household's quotients once the deadline's rule applies from ``since``: ``kept``
    carried over from then, or (``None``) the quotients in force ending the day before."""
    if kept is not None:
        return household.with_quotient(
            FamilyQuotient(
                value=kept.value,
                valid_from=since,
                source=f"reconduit (campagne {campaign_id})",
                note=f"quotient reconduit : {why}",
            )
        )
    last = since - timedelta(days=1)
    ended = tuple(
        (
            attrs.evolve(q, valid_until=last, note=why)
            if q.valid_until is None or q.valid_until > last
            else q
        )
        for q in household.quotients
        if q.valid_from < since
    )
    return attrs.evolve(household, quotients=ended)


def settle(
    tx: Transaction, campaign: Campaign, answer: CampaignAnswer, rule: MissingQuotientRule
) -> CampaignAnswer:
    """Apply the commune's ``rule`` to a household still awaited at the deadline: its
    quotients change (carried over, or ended the day before ``valid_from``), the answer is
    settled and dated, the family told which tariff applies, from when and why. A campaign
    closed late, once days from ``valid_from`` on were invoiced, changes only the days after
    them: days already invoiced keep the quotient they were billed with."""
    assert campaign.valid_from is not None
    assert tx.actor is not None
    household = tx.uow.households.get(answer.household_id)
    previous = _previous(household, campaign.valid_from)
    settled = settle_quotient(
        answer,
        rule,
        None if previous is None else previous.value,
        title=campaign.title,
        by=tx.actor.user_id,
        at=tx.now,
    )
    why = f"aucune attestation CAF reçue pour la campagne « {campaign.title} »"
    kept = settled.state is AnswerState.KEPT
    carried = previous if kept else None
    since = campaign.valid_from
    changed = _settled_quotients(household, carried, since, campaign.id, why)
    billed = quotient_repricing(tx.uow, household, changed)
    if billed is not None:
        # Closed late: days from ``valid_from`` on were invoiced meanwhile with the quotient
        # then on file. They keep it; the rule applies from the first day not invoiced.
        since = billed.free_from
        changed = _settled_quotients(household, carried, since, campaign.id, why)
    if changed != household:
        tx.uow.households.save(changed)
        tx.audit.changes_of(
            f"household:{household.id}",
            household,
            changed,
            ("quotients",),
            household_id=household.id,
        )
    tx.uow.campaign_answers.save(settled)
    tx.audit.change(
        f"campaign_answer:{answer.id}",
        "state",
        answer.state.value,
        settled.state.value,
        household_id=household.id,
    )
    mail_household(
        tx,
        changed,
        OUTCOME_MAIL,
        {
            "title": campaign.title,
            "valid_from": since,
            "kept": kept,
            "quotient": (
                None if settled.quotient is None else f"{format_number_fr(settled.quotient)} €"
            ),
            "tariffs_url": tx.context.notifier.settings.link(
                "{portal_url}/foyer/{household_id}/tarification", household_id=household.id
            ),
        },
        key=f"{campaign.id}:{household.id}:outcome",
    )
    return settled
