"""The JSON bodies of the campaign routes (attrs classes, like
:mod:`canteen_adapters.web.schemas`), and how they are built from the domain values.

Texts meant for display are French and ready to show (``state_label``...).
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from canteen_adapters.web.convert import body
from canteen_core.domain.campaigns import Campaign, CampaignAnswer
from canteen_core.domain.school_years import YearClosing
from canteen_core.services.campaigns import CampaignProgress, HouseholdCampaign

__all__ = [
    "CampaignAnswerOut",
    "CampaignOut",
    "CampaignProgressOut",
    "ConfirmationBody",
    "HouseholdCampaignOut",
    "QuotientCampaignBody",
    "ReenrollmentBody",
    "YearClosingOut",
    "answer_out",
    "campaign_out",
    "household_campaign_out",
    "progress_out",
    "year_closing_out",
]


@attrs.frozen(kw_only=True)
class QuotientCampaignBody:
    """A family-quotient campaign: the day the new quotients apply, the last day families
    answer (before it), optionally its title."""

    valid_from: date
    deadline: date
    title: str | None = None


@attrs.frozen(kw_only=True)
class ReenrollmentBody:
    """The re-enrollment for the next school year (its start year: 2024 for 2024-2025), the
    last day families answer, whether this year's weekly patterns are offered again."""

    school_year: int
    deadline: date
    keep_periodicities: bool = True
    title: str | None = None


@attrs.frozen(kw_only=True)
class ConfirmationBody:
    """A family confirms a child's re-enrollment: with ``book``, the weekdays to book each week
    (Monday = 0; default: those proposed from this year); without, none."""

    weekdays: list[int] | None = None
    book: bool = True


@attrs.frozen(kw_only=True)
class CampaignOut:
    """A campaign (``kind``: ``quotient`` or ``reenrollment``; ``status``: ``open``,
    ``closed``)."""

    id: str
    kind: str
    title: str
    status: str
    deadline: date
    valid_from: date | None
    school_year: int | None
    opened_at: datetime
    closed_at: datetime | None


@attrs.frozen(kw_only=True)
class CampaignAnswerOut:
    """A household's answer: its state (``state_label`` in French, with why), the child and
    its level next year, the weekdays to book, the enrollment made, the quotient applying."""

    id: str
    campaign_id: str
    household_id: str
    child_id: str | None
    level: str | None
    state: str
    state_label: str
    weekdays: list[int] | None
    new_enrollment_id: str | None
    quotient: str | None
    reminders: int
    decided_at: datetime | None


@attrs.frozen(kw_only=True)
class CampaignProgressOut:
    """A campaign with its answers and how many are in each state."""

    campaign: CampaignOut
    counts: dict[str, int]
    summary: str
    answers: list[CampaignAnswerOut]


@attrs.frozen(kw_only=True)
class HouseholdCampaignOut:
    """An open campaign as the household sees it, with its answers."""

    campaign: CampaignOut
    answers: list[CampaignAnswerOut]


def campaign_out(campaign: Campaign) -> CampaignOut:
    """The JSON of a campaign."""
    return body(CampaignOut, campaign)


def answer_out(answer: CampaignAnswer) -> CampaignAnswerOut:
    """The JSON of an answer."""
    return body(
        CampaignAnswerOut,
        answer,
        state_label=answer.state_fr,
        quotient=None if answer.quotient is None else str(answer.quotient),
    )


def progress_out(progress: CampaignProgress) -> CampaignProgressOut:
    """The JSON of a campaign's progress."""
    return CampaignProgressOut(
        campaign=campaign_out(progress.campaign),
        counts={state.value: count for state, count in progress.counts.items()},
        summary=progress.summary_fr,
        answers=[answer_out(a) for a in progress.answers],
    )


def household_campaign_out(found: HouseholdCampaign) -> HouseholdCampaignOut:
    """The JSON of a campaign as one household sees it."""
    return HouseholdCampaignOut(
        campaign=campaign_out(found.campaign), answers=[answer_out(a) for a in found.answers]
    )


@attrs.frozen(kw_only=True)
class YearClosingOut:
    """A closed school year (``school_year``: ``2023-2024``) and what its households carried
    into the next one: unpaid invoices, the amount due and the credit held (``summary`` in
    French)."""

    school_year: str
    closed_at: datetime
    closed_by: str
    open_invoices: int
    amount_due: str
    credit_held: str
    summary: str


def year_closing_out(closing: YearClosing) -> YearClosingOut:
    """The JSON of a year's closing."""
    return body(YearClosingOut, closing, school_year=closing.id, summary=closing.summary_fr())
