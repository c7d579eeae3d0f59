"""Change requests: the late changes a family asks for and staff instruct.

A change made after the cut-off in ``pending`` mode becomes a
:class:`~canteen_core.domain.change_requests.ChangeRequest`; these use cases list, withdraw,
approve and reject them. They are methods of ``canteen.reservations`` on the facade
(:class:`~canteen_core.services.reservations.ReservationService` inherits them); the pure rules
live in :mod:`canteen_core.domain.change_requests`.
"""

from __future__ import annotations

from datetime import datetime

from canteen_core.domain._french import format_datetime_fr
from canteen_core.domain._validators import enum_member
from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import ChangeRequest, RequestStatus
from canteen_core.domain.change_requests import approve as approve_request
from canteen_core.domain.change_requests import reject as reject_request
from canteen_core.domain.change_requests import withdraw as withdraw_request
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import AlreadyDecidedError, InvalidInputError, RuleViolationError
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import BulkResult, ReservationBook
from canteen_core.services.billing._base import household_recipients
from canteen_core.services.billing.billed_days import ensure_days_not_billed
from canteen_core.services.capacity_engine import Books, apply_capacity
from canteen_core.services.events import days_changed
from canteen_core.services.runner import ServiceBase, Transaction
from canteen_core.services.school_years import ensure_years_open

__all__ = ["ChangeRequestUseCases", "already_decided"]

#: How a decided request was decided, as the sentence says it (``acceptée le ...``).
_DECIDED_FR = {
    RequestStatus.APPROVED: "acceptée",
    RequestStatus.REJECTED: "refusée",
    RequestStatus.WITHDRAWN: "retirée",
}


def already_decided(
    status: RequestStatus, decided_at: datetime | None, *, what: str = "Cette demande"
) -> AlreadyDecidedError:
    """The error for deciding (or withdrawing) a request no longer pending, in French:
    ``Cette demande a déjà été traitée (acceptée le 12 octobre 2023 à 10 h 15) : rien n'a été
    modifié.`` (``what`` names the request: ``Cette demande d'inscription``)."""
    how = _DECIDED_FR.get(status, status.label.lower())
    when = f" le {format_datetime_fr(decided_at)}" if decided_at is not None else ""
    return AlreadyDecidedError(f"{what} a déjà été traitée ({how}{when}) : rien n'a été modifié.")


class ChangeRequestUseCases(ServiceBase):
    """List, withdraw and decide change requests (part of ``canteen.reservations``)."""

    def pending_requests(
        self,
        actor: Actor,
        *,
        household_id: str | None = None,
        site_id: str | None = None,
    ) -> tuple[ChangeRequest, ...]:
        """Requests awaiting instruction, oldest first: a family's own (``household_id``
        required for families), or every one for staff (optionally of one site)."""
        return tuple(
            request
            for request in self.requests(actor, household_id=household_id, site_id=site_id)
            if request.is_pending
        )

    def requests(
        self,
        actor: Actor,
        *,
        household_id: str | None = None,
        site_id: str | None = None,
        status: RequestStatus | str | None = None,
    ) -> tuple[ChangeRequest, ...]:
        """Change requests (pending and decided: the family sees "Refusée : motif"), oldest
        first, optionally of one household, site or status."""
        where: dict[str, object] = {}
        if household_id is not None:
            where["household_id"] = household_id
        if status is not None:
            where["status"] = enum_member(
                RequestStatus, status, path="status", what="le statut"
            ).value
        elif household_id is None and site_id is None:
            where["status"] = RequestStatus.PENDING.value  # a commune's whole history is large
        with self._viewing(actor, Action.VIEW_CHANGE_REQUESTS, household_id) as tx:
            found = list(tx.uow.change_requests.list(**where))
            if site_id is not None:
                at_site = {e.id for e in tx.uow.enrollments.list(site_id=site_id)}
                found = [request for request in found if request.enrollment_id in at_site]
            # A family sees its own households' requests only (the filter goes through policy).
            found = [request for request in found if tx.may(request.household_id)]
            tx.filtered()
        return tuple(sorted(found, key=lambda r: (r.requested_at, r.day, r.id)))

    def withdraw(self, actor: Actor, request_id: str) -> ChangeRequest:
        """The family withdraws its pending request (nothing else changes)."""
        with self._ctx.use_case(actor, Action.BOOK_MEALS) as tx:
            request = tx.uow.change_requests.get(request_id)
            tx.authorize(request.household_id)
            if not request.is_pending:
                raise already_decided(request.status, request.decided_at)
            withdrawn = withdraw_request(request, actor=actor, clock=FixedClock(tx.now))
            tx.uow.change_requests.save(withdrawn)
        return withdrawn

    def decide(
        self, actor: Actor, request_id: str, *, approve: bool, reason: str | None = None
    ) -> ChangeRequest:
        """Staff approve (the change is applied) or reject (``reason`` required) a pending
        request. The family is emailed (outbox, same transaction) and
        ``ChangeRequestDecided`` fires after commit. With ``[billing] billed_days =
        "refuse"``, approving a change to a day of a month already invoiced is refused
        (the request stays pending: reject it instead). A request no longer pending raises
        :class:`~canteen_core.domain.errors.AlreadyDecidedError` saying how and when it was
        decided; nothing changes."""
        if not isinstance(approve, bool):
            raise InvalidInputError("approve must be True or False", path="approve")
        if reason is not None and not isinstance(reason, str):
            raise InvalidInputError("reason must be a string", path="reason")
        with self._ctx.use_case(actor, Action.DECIDE_CHANGE_REQUEST) as tx:
            request = tx.uow.change_requests.get(request_id)
            tx.authorize(request.household_id)
            if not request.is_pending:  # decided by another agent meanwhile, or withdrawn
                raise already_decided(request.status, request.decided_at)
            enrollment = self._ctx.intern(tx.uow.enrollments.get(request.enrollment_id))
            clock = FixedClock(tx.now)
            if approve:
                ensure_years_open(tx, [enrollment])
                book = tx.uow.reservations.load(enrollment.id)
                decided, new_book, event = approve_request(
                    request, book, enrollment=enrollment, actor=actor, clock=clock, note=reason
                )
                if new_book.version != book.version:
                    # [billing] billed_days = "refuse": staff may not change a billed day either
                    ensure_days_not_billed(
                        tx.uow, self._ctx.deployment, {request.household_id: [request.day]}
                    )
                    self._within_capacity(tx, enrollment, book, new_book, request)
                    day = (request.day,)
                    booked, cancelled = (day, ()) if request.wants_booked else ((), day)
                    tx.emit(
                        days_changed(
                            tx,
                            request,
                            enrollment.id,
                            actor.user_id,
                            booked=booked,
                            cancelled=cancelled,
                        )
                    )
            else:
                decided, event = reject_request(
                    request, reason=reason or "", actor=actor, clock=clock
                )
            tx.uow.change_requests.save(decided)
            tx.emit(event)
            household = tx.uow.households.get(request.household_id)
            recipients = household_recipients(household)
            if recipients:
                tx.send(
                    *self._ctx.notifier.change_request_decided(
                        event,
                        recipients,
                        child_name=household.child(request.child_id).display_name,
                        service_name=enrollment.service.name,
                    )
                )
        return decided

    def approve(self, actor: Actor, request_id: str, *, note: str | None = None) -> ChangeRequest:
        """:meth:`decide` with ``approve=True``."""
        return self.decide(actor, request_id, approve=True, reason=note)

    def reject(self, actor: Actor, request_id: str, *, reason: str) -> ChangeRequest:
        """:meth:`decide` with ``approve=False`` (a reason the family will read)."""
        return self.decide(actor, request_id, approve=False, reason=reason)

    def _within_capacity(
        self,
        tx: Transaction,
        enrollment: Enrollment,
        book: ReservationBook,
        new_book: ReservationBook,
        request: ChangeRequest,
    ) -> None:
        """Save the approved change under the site's capacity rule: a booking of a full day
        is refused (``RuleViolationError``: nothing changes), a cancellation gives its place
        to the first child waiting (see :mod:`canteen_core.services.capacity_engine`)."""
        day = request.day
        outcome = {
            enrollment.id: BulkResult(
                enrollment_id=enrollment.id,
                booked=(day,) if request.wants_booked else (),
                cancelled=() if request.wants_booked else (day,),
            )
        }
        books = Books({enrollment.id: (new_book, book.version)})
        apply_capacity(tx, {enrollment.id: enrollment}, {enrollment.id: book}, outcome, books)
        if outcome[enrollment.id].skipped:
            raise RuleViolationError(
                f"le {day:%d/%m/%Y} est complet : refusez la demande ou augmentez la capacité"
            )
        tx.uow.reservations.save_many(books.saves())
