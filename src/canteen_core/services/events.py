"""The events use cases emit about reservations, built from what the use case has at hand."""

from __future__ import annotations

from datetime import date

from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.events import ReservationsChanged
from canteen_core.services.runner import Transaction

__all__ = ["days_changed"]


def days_changed(
    tx: Transaction,
    enrollment: Enrollment,
    actor_id: str,
    *,
    booked: tuple[date, ...] = (),
    cancelled: tuple[date, ...] = (),
) -> ReservationsChanged:
    """The event of ``enrollment``'s days booked or cancelled by ``actor_id`` at ``tx``'s
    instant (the household and child are the enrollment's)."""
    return ReservationsChanged(
        occurred_at=tx.now,
        household_id=enrollment.household_id,
        child_id=enrollment.child_id,
        enrollment_id=enrollment.id,
        actor_id=actor_id,
        booked=booked,
        cancelled=cancelled,
    )
