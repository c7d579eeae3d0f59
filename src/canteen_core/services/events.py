"""The events use cases emit about reservations, built from what the use case has at hand."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from canteen_core.domain.events import ReservationsChanged
from canteen_core.services.runner import Transaction

__all__ = ["days_changed"]


class _OfChild(Protocol):
    """What names the child: an enrollment, a waiting-list entry, a change request..."""

    @property
    def household_id(self) -> str: ...

    @property
    def child_id(self) -> str: ...


def days_changed(
    tx: Transaction,
    of: _OfChild,
    enrollment_id: str,
    actor_id: str,
    *,
    booked: tuple[date, ...] = (),
    cancelled: tuple[date, ...] = (),
) -> ReservationsChanged:
    """The event of the days of ``of``'s child in ``enrollment_id`` booked or cancelled by
    ``actor_id`` at ``tx``'s instant."""
    return ReservationsChanged(
        occurred_at=tx.now,
        household_id=of.household_id,
        child_id=of.child_id,
        enrollment_id=enrollment_id,
        actor_id=actor_id,
        booked=booked,
        cancelled=cancelled,
    )
