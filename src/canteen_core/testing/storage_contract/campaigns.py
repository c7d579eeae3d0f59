"""The storage contract for yearly campaigns and their answers.

A campaign and each household's answer are documents like the others: stored whole (dates,
aware datetimes, decimals and weekday tuples kept), found by campaign, household, state and
child, changed as families answer, and kept or dropped with their unit of work.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from canteen_core.domain.campaigns import (
    Campaign,
    CampaignAnswer,
    CampaignKind,
    answer_quotient,
    close_campaign,
    confirm_enrollment,
)
from canteen_core.domain.errors import ConflictError, NotFoundError
from canteen_core.ports.storage import Storage
from canteen_core.testing.samples import NOW

__all__ = [
    "test_campaign_answers_are_dropped_with_their_unit_of_work",
    "test_campaigns_and_answers_round_trip_and_filter",
]


def _campaign(campaign_id: str, kind: CampaignKind) -> Campaign:
    return Campaign(
        id=campaign_id,
        kind=kind,
        title="Quotient familial 2024" if kind is CampaignKind.QUOTIENT else "Réinscription",
        deadline=date(2023, 12, 15),
        opened_by="agent",
        opened_at=NOW,
        valid_from=date(2024, 1, 1) if kind is CampaignKind.QUOTIENT else None,
        school_year=2024 if kind is CampaignKind.REENROLLMENT else None,
    )


def test_campaigns_and_answers_round_trip_and_filter(storage: Storage) -> None:
    quotient = _campaign("c1", CampaignKind.QUOTIENT)
    rollover = _campaign("c2", CampaignKind.REENROLLMENT)
    first = CampaignAnswer(id="a1", campaign_id="c1", household_id="h1")
    second = CampaignAnswer(id="a2", campaign_id="c1", household_id="h2")
    child = CampaignAnswer(
        id="a3", campaign_id="c2", household_id="h1", child_id="h1-c1", enrollment_id="e1"
    )
    with storage.unit_of_work() as uow:
        uow.campaigns.add_many([quotient, rollover])
        uow.campaign_answers.add_many([first, second, child])
        uow.commit()
    later = datetime(2023, 12, 2, 9, 30, tzinfo=UTC)
    answered = answer_quotient(
        first, Decimal("812.50"), by="agent", at=later, since=date(2024, 1, 1)
    )
    confirmed = confirm_enrollment(child, weekdays=(3, 0, 1), by="parent", at=later)
    closed = close_campaign(rollover, by="agent", at=later)
    with storage.unit_of_work() as uow:
        assert uow.campaigns.get("c1") == quotient
        assert list(uow.campaigns.list(kind="reenrollment")) == [rollover]
        assert list(uow.campaign_answers.list(campaign_id="c1")) == [first, second]
        with pytest.raises(ConflictError):
            uow.campaign_answers.add(first)
        uow.campaign_answers.save(answered)
        uow.campaign_answers.save(confirmed)
        uow.campaigns.save(closed)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.campaign_answers.get("a1") == answered
        assert uow.campaign_answers.get("a1").quotient == Decimal("812.50")
        assert uow.campaign_answers.get("a3").weekdays == (0, 1, 3)
        assert list(uow.campaign_answers.list(campaign_id="c1", state="awaiting")) == [second]
        assert list(uow.campaign_answers.list(child_id="h1-c1")) == [confirmed]
        assert list(uow.campaigns.list(status="closed")) == [closed]
        assert uow.campaigns.get("c2").closed_at == later
        with pytest.raises(NotFoundError):
            uow.campaign_answers.get("a9")


def test_campaign_answers_are_dropped_with_their_unit_of_work(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.campaigns.add(_campaign("c1", CampaignKind.QUOTIENT))
        uow.campaign_answers.add(CampaignAnswer(id="a1", campaign_id="c1", household_id="h1"))
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.campaigns.find("c1") is None
        assert uow.campaign_answers.find("a1") is None
