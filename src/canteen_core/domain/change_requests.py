"""Change requests: late changes awaiting instruction by staff ("en attente d'instruction").

When an enrollment's late-change mode is ``pending``, a family's change after the deadline does
not touch the reservations; the reservation engine returns a :class:`ChangeRequest` instead.
Staff then :func:`approve` it (the change is applied to the :class:`ReservationBook`) or
:func:`reject` it with a reason; the family may :func:`withdraw` it while pending (unticking a
pending tick does that automatically). Requests are plain records with string ids, easy to
store; every decision returns a new record plus the event to publish after commit.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

import attrs

from canteen_core.domain._access import ensure_allowed, ensure_may_act_for
from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import (
    a_date,
    aware_datetime,
    enum_member,
    non_empty_str,
    optional_aware_datetime,
)
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import Clock, ensure_aware
from canteen_core.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from canteen_core.domain.events import ChangeRequestDecided
from canteen_core.domain.policy import Action

if TYPE_CHECKING:
    from canteen_core.domain.enrollments import Enrollment

__all__ = [
    "ChangeAction",
    "ChangeRequest",
    "RequestStatus",
    "approve",
    "reject",
    "withdraw",
]


class ChangeAction(enum.StrEnum):
    """What the family asked for."""

    BOOK = "book"
    CANCEL = "cancel"


class RequestStatus(LabelledEnum):
    """Where a request stands; ``label`` is what the family reads."""

    PENDING = "pending", "En attente d'instruction"
    APPROVED = "approved", "Acceptée"
    REJECTED = "rejected", "Refusée"
    WITHDRAWN = "withdrawn", "Retirée"  # by the family, while it was pending


def _action(value: ChangeAction | str) -> ChangeAction:
    return enum_member(ChangeAction, value, path="action", what="l'action")


def _status(value: RequestStatus | str) -> RequestStatus:
    return enum_member(RequestStatus, value, path="status", what="le statut")


@attrs.frozen(kw_only=True)
class ChangeRequest:
    """A late change to one day of one enrollment, pending or decided.

    ``deadline`` is the instant the change missed; ``reason`` is the staff's reason for a
    rejection (required) or an optional note for an approval.
    """

    id: str = attrs.field(validator=non_empty_str)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    child_id: str = attrs.field(validator=non_empty_str)
    day: date = attrs.field(validator=a_date)
    action: ChangeAction = attrs.field(converter=_action)
    requested_by: str = attrs.field(validator=non_empty_str)
    requested_at: datetime = attrs.field(validator=aware_datetime)
    deadline: datetime = attrs.field(validator=aware_datetime)
    status: RequestStatus = attrs.field(default=RequestStatus.PENDING, converter=_status)
    decided_by: str | None = None
    decided_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    reason: str | None = None

    @property
    def is_pending(self) -> bool:
        """Still awaiting a decision."""
        return self.status is RequestStatus.PENDING

    @property
    def wants_booked(self) -> bool:
        """Whether the day would be booked once approved."""
        return self.action is ChangeAction.BOOK

    @property
    def status_fr(self) -> str:
        """What the family sees: ``"En attente d'instruction"``, ``"Refusée : <motif>"``..."""
        label = self.status.label
        return f"{label} : {self.reason}" if self.reason else label


def _ensure_pending(request: ChangeRequest) -> None:
    if not isinstance(request, ChangeRequest):
        raise InvalidInputError(f"expected a ChangeRequest, got {type(request).__name__}")
    if not request.is_pending:
        raise ConflictError(
            f"la demande {request.id} n'est plus en attente ({request.status.value})"
        )


def _decided(
    request: ChangeRequest, status: RequestStatus, actor: Actor, now: datetime, reason: str | None
) -> tuple[ChangeRequest, ChangeRequestDecided]:
    decided = attrs.evolve(
        request, status=status, decided_by=actor.user_id, decided_at=now, reason=reason
    )
    event = ChangeRequestDecided(
        occurred_at=now,
        request_id=request.id,
        household_id=request.household_id,
        child_id=request.child_id,
        day=request.day,
        approved=status is RequestStatus.APPROVED,
        reason=reason,
        decided_by=actor.user_id,
    )
    return decided, event


class _DayBook(Protocol):
    """What :func:`approve` needs of a reservation book (a
    :class:`~canteen_core.domain.reservations.ReservationBook`), named here so that this module
    does not import the reservation engine that imports it."""

    @property
    def enrollment_id(self) -> str: ...

    def with_day(self, day: date, *, booked: bool) -> Self: ...


_Book = TypeVar("_Book", bound=_DayBook)


def approve(
    request: ChangeRequest,
    book: _Book,
    *,
    enrollment: Enrollment,
    actor: Actor,
    clock: Clock,
    note: str | None = None,
) -> tuple[ChangeRequest, _Book, ChangeRequestDecided]:
    """Staff approve a pending request: the change is applied to ``book``.

    Returns the decided request, the new book (its version bumped if the day changed) and the
    event. Errors leave everything unchanged: :class:`NotAuthorizedError` for a non-staff actor,
    :class:`ConflictError` for a request already decided, :class:`InvalidInputError` when the
    book or enrollment is not the request's, :class:`RuleViolationError` when the day can no
    longer be booked (the service closed meanwhile).
    """
    ensure_allowed(actor, Action.DECIDE_CHANGE_REQUEST)
    _ensure_pending(request)
    if book.enrollment_id != request.enrollment_id or enrollment.id != request.enrollment_id:
        raise InvalidInputError(
            f"request {request.id!r} is for enrollment {request.enrollment_id!r}", path="book"
        )
    if request.wants_booked and not enrollment.is_bookable(request.day):
        closure = enrollment.closure(request.day)
        why = closure.reason if closure is not None else "hors inscription"
        raise RuleViolationError(
            f"cannot book {request.day:%d/%m/%Y}: {why}; reject the request instead"
        )
    now = ensure_aware(clock.now(), "clock.now()")
    new_book = book.with_day(request.day, booked=request.wants_booked)
    decided, event = _decided(request, RequestStatus.APPROVED, actor, now, note)
    return decided, new_book, event


def reject(
    request: ChangeRequest, *, reason: str, actor: Actor, clock: Clock
) -> tuple[ChangeRequest, ChangeRequestDecided]:
    """Staff reject a pending request with a ``reason`` the family will read (required)."""
    ensure_allowed(actor, Action.DECIDE_CHANGE_REQUEST)
    _ensure_pending(request)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError(
            "indiquez le motif du refus : il est communiqué à la famille", path="reason"
        )
    now = ensure_aware(clock.now(), "clock.now()")
    return _decided(request, RequestStatus.REJECTED, actor, now, reason.strip())


def withdraw(request: ChangeRequest, *, actor: Actor, clock: Clock) -> ChangeRequest:
    """The family (or staff) withdraws a pending request; no reservation changes."""
    ensure_may_act_for(actor, request.household_id)
    _ensure_pending(request)
    now = ensure_aware(clock.now(), "clock.now()")
    return attrs.evolve(
        request, status=RequestStatus.WITHDRAWN, decided_by=actor.user_id, decided_at=now
    )
