"""Closing a school year (see :mod:`canteen_core.domain.school_years`): the use case, and the
check every change of a day runs (bookings, roll calls, late changes decided)."""

from __future__ import annotations

from collections.abc import Iterable

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar_words import parse_school_year, school_year_label
from canteen_core.domain.clock import PARIS
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.policy import Action
from canteen_core.domain.school_years import YearClosing, check_year_open, close_year
from canteen_core.services.billing.statements import household_accounts
from canteen_core.services.runner import ServiceContext, Transaction

__all__ = ["close_school_year", "closed_years", "ensure_years_open"]


def _year(enrollment: Enrollment) -> int:
    return enrollment.calendar.school_year.start_year


def ensure_years_open(tx: Transaction, enrollments: Iterable[Enrollment]) -> None:
    """:class:`RuleViolationError` when one of ``enrollments`` belongs to a closed school year.

    A year closes only after its last day, so an enrollment still running today cannot be in
    a closed year: the closings are read only for enrollments already over (never on the
    rentrée's bookings)."""
    today = tx.now.astimezone(PARIS).date()
    years = sorted({_year(e) for e in enrollments if e.end < today})
    if not years:
        return
    closed = [c.school_year for c in tx.uow.year_closings.list(school_year=tuple(years))]
    for year in years:
        check_year_open(closed, year)


def close_school_year(ctx: ServiceContext, actor: Actor, school_year: int | str) -> YearClosing:
    """Close ``school_year`` (``2023``, ``"2023-2024"``) after its last day: its days are
    frozen from now on; the households' open invoices and credit are carried as they stand
    (counted in the closing). :class:`ConflictError` for a year already closed."""
    year = parse_school_year(school_year)
    with ctx.use_case(actor, Action.MANAGE_CALENDAR) as tx:
        assert tx.actor is not None
        enrollments = [e for e in tx.uow.enrollments.list() if _year(e) == year]
        if not enrollments:
            raise RuleViolationError(
                f"aucune inscription sur l'année scolaire {school_year_label(year)} : "
                "rien à clôturer"
            )
        last_day = max(e.end for e in enrollments)
        closed = {c.school_year: c for c in tx.uow.year_closings.list(school_year=year)}
        accounts = household_accounts(tx.uow, tx.uow.households.ids())
        closing = close_year(
            year,
            last_day,
            today=tx.now.astimezone(PARIS).date(),
            closed=closed,
            balances=(
                (len(a.open_invoices()), a.balance_due, a.available_credit)
                for a in accounts.values()
            ),
            by=tx.actor.user_id,
            at=tx.now,
        )
        tx.uow.year_closings.add(closing)
        tx.audit.change(f"school_year:{closing.id}", "status", "open", "closed")
        tx.audit.describe(closing.summary_fr())
    return closing


def closed_years(ctx: ServiceContext, actor: Actor) -> tuple[YearClosing, ...]:
    """The closed school years, oldest first."""
    with ctx.use_case(actor, Action.MANAGE_CALENDAR, read_only=True) as tx:
        tx.filtered()
        return tuple(sorted(tx.uow.year_closings.list(), key=lambda c: c.school_year))
