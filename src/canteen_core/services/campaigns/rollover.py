"""The school-year rollover: this year's enrollments offered again for the next school year.

* :func:`proposals` lists what opening a re-enrollment asks: each child enrolled until the end
  of this school year in a service (its latest enrollment there), unless the child leaves the
  primary school (``[campaigns] leaving_age``) or is already enrolled in that service next
  year; with the child's level next year and, when the campaign carries periodicities, the
  weekly pattern the family booked this year (a weekday booked on at least half of its open
  days);
* :func:`enroll_confirmed` turns confirmed answers into enrollments of the new school year,
  with this year's service, site, policies and tariff category and every check of the
  enrollment use case (the catalog's site and service, a calendar and a tariff grid for the
  new year); a child already enrolled next year keeps that enrollment (never two);
* answers left waiting are ``not_renewed``; declined ones stay declined.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import attrs

from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.campaigns import (
    AnswerState,
    Campaign,
    CampaignAnswer,
    mark_enrolled,
    mark_not_renewed,
    school_level,
)
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import CanteenError, RuleViolationError
from canteen_core.domain.families import Household
from canteen_core.services.enrollments import EnrollmentRequest, EnrollmentService
from canteen_core.services.runner import ServiceContext, Transaction, school_year_of

__all__ = ["OPENED_MAIL", "Proposal", "enroll_confirmed", "proposals", "weekly_pattern"]

#: The e-mail inviting a household to confirm (and reminding it).
OPENED_MAIL = "reenrollment-opened"


@attrs.frozen(kw_only=True)
class Proposal:
    """One child's enrollment offered again: this year's ``enrollment``, the ``level`` next
    year, the ``weekdays`` booked this year (``None``: none carried)."""

    enrollment: Enrollment
    level: str | None
    weekdays: tuple[int, ...] | None


def weekly_pattern(enrollment: Enrollment, booked: Sequence[date]) -> tuple[int, ...] | None:
    """The weekdays booked on at least half of their open days of ``enrollment`` (``None``
    when none is)."""
    booked_set = set(booked)
    days: list[int] = []
    for weekday in range(7):
        open_days = [d for d in enrollment.open_days() if d.weekday() == weekday]
        hits = sum(1 for d in open_days if d in booked_set)
        if open_days and hits and hits * 2 >= len(open_days):
            days.append(weekday)
    return tuple(days) or None


def _check_new_year(ctx: ServiceContext, enrollment: Enrollment, school_year: int) -> None:
    """The new school year's calendar must be known for the enrollment's site and service."""
    try:
        ctx.calendar(enrollment.site, enrollment.service, school_year)
    except CanteenError:
        raise RuleViolationError(
            f"le calendrier de l'année scolaire {school_year_label(school_year)} n'est pas "
            f"connu pour {enrollment.site.name} : impossible d'y préparer les réinscriptions"
        ) from None


def proposals(
    ctx: ServiceContext, tx: Transaction, campaign: Campaign, *, leaving_age: int
) -> Iterator[tuple[Household, list[Proposal]]]:
    """What the re-enrollment ``campaign`` asks each household (households with nothing to
    renew left out), by household id."""
    assert campaign.school_year is not None
    year = campaign.school_year
    by_household: dict[str, list[Enrollment]] = {}
    for e in tx.uow.enrollments.list():
        by_household.setdefault(e.household_id, []).append(e)
    checked: set[tuple[str, str]] = set()
    for household_id in sorted(by_household):
        enrollments = by_household[household_id]
        household = tx.uow.households.get(household_id)
        latest: dict[tuple[str, str], Enrollment] = {}
        next_year: set[tuple[str, str]] = set()
        for e in enrollments:
            key = (e.child_id, e.service.id)
            if school_year_of(e.start) >= year:
                next_year.add(key)
            elif (
                school_year_of(e.start) == year - 1
                and e.end >= e.calendar.last_day
                and (key not in latest or latest[key].start < e.start)
            ):
                latest[key] = e
        found: list[Proposal] = []
        for key, e in sorted(latest.items()):
            if key in next_year or not household.has_child(e.child_id):
                continue
            child = household.child(e.child_id)
            if year - child.birth_date.year >= leaving_age:
                continue  # gone to the collège
            if (e.site.id, e.service.id) not in checked:
                _check_new_year(ctx, e, year)
                checked.add((e.site.id, e.service.id))
            weekdays = None
            if campaign.keep_periodicities:
                weekdays = weekly_pattern(e, tx.uow.reservations.load(e.id).booked_days())
            found.append(Proposal(enrollment=e, level=school_level(child, year), weekdays=weekdays))
        if found:
            yield household, found


def enroll_confirmed(
    ctx: ServiceContext, tx: Transaction, campaign: Campaign, answers: Sequence[CampaignAnswer]
) -> list[CampaignAnswer]:
    """Settle every answer of a closing re-enrollment: confirmed ones enrolled (one batch,
    all or nothing), waiting ones not renewed. The settled answers (declined ones unchanged)."""
    assert campaign.school_year is not None
    assert tx.actor is not None
    by = tx.actor.user_id
    year = campaign.school_year
    settled: list[CampaignAnswer] = []
    requests: list[tuple[CampaignAnswer, EnrollmentRequest]] = []
    for answer in answers:
        if answer.state is AnswerState.AWAITING:
            settled.append(mark_not_renewed(answer, by=by, at=tx.now))
            continue
        if answer.state is not AnswerState.CONFIRMED:
            settled.append(answer)
            continue
        assert answer.enrollment_id is not None
        old = tx.uow.enrollments.get(answer.enrollment_id)
        existing = next(
            (
                e
                for e in tx.uow.enrollments.list(
                    household_id=answer.household_id,
                    child_id=answer.child_id,
                    service_id=old.service.id,
                )
                if school_year_of(e.start) == year
            ),
            None,
        )
        if existing is not None:  # enrolled meanwhile (an accepted request): never twice
            settled.append(
                mark_enrolled(
                    answer, existing.id, by=by, at=tx.now, note="déjà inscrit(e) pour l'année"
                )
            )
            continue
        requests.append(
            (
                answer,
                EnrollmentRequest(
                    household_id=old.household_id,
                    child_id=old.child_id,
                    service=old.service.id,
                    site=old.site.id,
                    booking_policy=old.booking_policy,
                    cancellation_policy=old.cancellation_policy,
                    late_change=old.late_change,
                    tariff_category=old.tariff_category,
                    school_year=year,
                ),
            )
        )
    if requests:
        made = EnrollmentService(ctx)._enroll_in(tx, [request for _, request in requests])
        for (answer, _), enrollment in zip(requests, made, strict=True):
            settled.append(mark_enrolled(answer, enrollment.id, by=by, at=tx.now))
    for answer in settled:
        tx.uow.campaign_answers.save(answer)
    return settled
