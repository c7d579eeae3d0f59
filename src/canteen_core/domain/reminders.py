"""Reminders (relances) for overdue invoices, and the arrears rule blocking new bookings.

A :class:`DunningSchedule` lists reminder levels by days overdue (default: level 1 at due date +
15 days, level 2 at + 30). :func:`due_reminders` looks at a household account on a given day and
returns the :class:`~canteen_core.domain.events.InvoiceOverdue` events to send, each (invoice,
level)
at most once: the caller passes the levels already sent (storage keeps them). When an invoice
has passed several levels since the last check, only the highest is sent: families get one
letter, not a burst.

:class:`ArrearsRule` is a pure predicate the reservation layer can call before accepting new
bookings: arrears above a threshold block them.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta

import attrs

from canteen_core.domain._validators import (
    non_empty_str,
    non_negative_int,
    non_negative_money,
    positive_int,
)
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.events import InvoiceOverdue
from canteen_core.domain.ledger import HouseholdAccount, InvoiceState
from canteen_core.domain.money import Money

__all__ = [
    "ArrearsRule",
    "DunningLevel",
    "DunningSchedule",
    "arrears",
    "due_reminders",
    "reminder_level",
]


@attrs.frozen(kw_only=True)
class DunningLevel:
    """Reminder ``level`` (1 = first) sent ``days_overdue`` days after the due date."""

    level: int = attrs.field(validator=positive_int)
    days_overdue: int = attrs.field(validator=non_negative_int)
    label: str = attrs.field(default="Relance", validator=non_empty_str)


def _levels(items: Iterable[DunningLevel]) -> tuple[DunningLevel, ...]:
    return tuple(sorted(items, key=lambda item: item.level))


def _default_levels() -> tuple[DunningLevel, ...]:
    return (
        DunningLevel(level=1, days_overdue=15, label="Premier rappel"),
        DunningLevel(level=2, days_overdue=30, label="Second rappel"),
    )


@attrs.frozen(kw_only=True)
class DunningSchedule:
    """Reminder levels by days overdue; levels are 1..n and their delays strictly increase."""

    levels: tuple[DunningLevel, ...] = attrs.field(factory=_default_levels, converter=_levels)

    def __attrs_post_init__(self) -> None:
        if not self.levels:
            raise InvalidInputError("a dunning schedule needs at least one level", path="levels")
        for index, item in enumerate(self.levels, start=1):
            if item.level != index:
                raise InvalidInputError(
                    f"levels must be numbered 1..{len(self.levels)}", path="levels"
                )
        delays = [item.days_overdue for item in self.levels]
        if any(b <= a for a, b in itertools.pairwise(delays)):
            raise InvalidInputError(
                "each level must come strictly later than the previous one", path="levels"
            )

    @classmethod
    def of(cls, *days_overdue: int) -> DunningSchedule:
        """``DunningSchedule.of(15, 30, 60)``: levels 1, 2, 3 at those delays."""
        return cls(
            levels=tuple(
                DunningLevel(level=i, days_overdue=d) for i, d in enumerate(days_overdue, start=1)
            )
        )


def reminder_level(state: InvoiceState, today: date, schedule: DunningSchedule) -> int:
    """The highest level reached by ``state`` on ``today`` (0: no reminder due; an invoice a
    scheduled direct debit covers is not reminded)."""
    if not state.uncovered.is_positive:
        return 0
    reached = 0
    for item in schedule.levels:
        if today >= state.invoice.due_date + timedelta(days=item.days_overdue):
            reached = item.level
    return reached


def due_reminders(
    account: HouseholdAccount,
    *,
    today: date,
    occurred_at: datetime,
    schedule: DunningSchedule | None = None,
    already_sent: Collection[tuple[str, int]] = frozenset(),
) -> tuple[InvoiceOverdue, ...]:
    """The reminders to send for ``account`` on ``today``.

    ``already_sent`` holds ``(invoice_id, level)`` pairs sent before. For each unpaid invoice,
    the highest level reached is returned if no reminder of that level or above was sent.
    Paid and cancelled invoices never get a reminder.
    """
    if not isinstance(account, HouseholdAccount):
        raise InvalidInputError("expected a HouseholdAccount", path="account")
    if not isinstance(today, date):
        raise InvalidInputError("today must be a date", path="today")
    rules = schedule or DunningSchedule()
    sent: dict[str, int] = {}
    for invoice_id, level in already_sent:
        sent[invoice_id] = max(level, sent.get(invoice_id, 0))
    events: list[InvoiceOverdue] = []
    for state in account.invoice_states():
        level = reminder_level(state, today, rules)
        if level == 0 or sent.get(state.invoice.id, 0) >= level:
            continue
        events.append(
            InvoiceOverdue(
                occurred_at=occurred_at,
                invoice_id=state.invoice.id,
                number=state.invoice.number,
                household_id=account.household_id,
                balance_due=state.uncovered,
                due_date=state.invoice.due_date,
                level=level,
            )
        )
    return tuple(events)


def arrears(account: HouseholdAccount, *, today: date, grace_days: int = 0) -> Money:
    """What is still due on invoices more than ``grace_days`` past their due date (a scheduled
    direct debit's part is not arrears: the family has paid by mandate)."""
    limit = today - timedelta(days=grace_days)
    return Money.sum(
        (
            state.uncovered
            for state in account.invoice_states()
            if state.uncovered.is_positive and state.invoice.due_date < limit
        ),
        account.currency,
    )


@attrs.frozen(kw_only=True)
class ArrearsRule:
    """Block new bookings when overdue arrears exceed ``threshold`` (strictly).

    Only invoices more than ``grace_days`` past their due date count. Household credit is not
    netted: it is already applied to open invoices by the ledger.
    """

    threshold: Money = attrs.field(validator=non_negative_money)
    grace_days: int = attrs.field(default=0, validator=non_negative_int)
    enabled: bool = True

    def blocks_bookings(self, account: HouseholdAccount, *, today: date) -> bool:
        """Whether the household may not book new days on ``today``."""
        if not self.enabled:
            return False
        return arrears(account, today=today, grace_days=self.grace_days) > self.threshold
