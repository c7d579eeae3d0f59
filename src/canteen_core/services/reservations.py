"""Reservations: book, cancel, tick, periodicities, grids and late-change requests.

``canteen.reservations`` on the facade. Each method is one use case (one transaction). The
pure rules live in :mod:`canteen_core.domain.reservations`, :mod:`canteen_core.domain.grids` and
:mod:`canteen_core.domain.change_requests`; this module loads what they need in few queries, saves
the changed books in one batch (optimistic versions: a concurrent change is a
:class:`~canteen_core.domain.errors.ConflictError`, never lost) and publishes the events after
commit.

Bulk variants (``*_many``) take many enrollments in **one** transaction: the rentrée applies a
periodicity to every child of a city, a portal submits a family's month for all its children.
They are all or nothing: an unauthorized or unknown enrollment refuses the whole call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain._validators import check_date
from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import ChangeRequest
from canteen_core.domain.clock import FixedClock, paris_date
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import (
    BulkResult,
    ReservationBook,
    apply_periodicity,
    book_day,
    cancel_day,
    month_days,
    range_in_enrollment,
    week_days,
)
from canteen_core.domain.reservations.days import _check_range, _month_range
from canteen_core.domain.reservations.operations import (
    _fill_service_days,
    _periodicity_on_service_days,
)
from canteen_core.domain.reservations.rules import _check_context_household_checked, _set_days
from canteen_core.services.billing.billed_days import ensure_days_not_billed
from canteen_core.services.billing.dunning import ensure_bookings_allowed
from canteen_core.services.capacity_engine import Books, apply_capacity
from canteen_core.services.change_requests import ChangeRequestUseCases
from canteen_core.services.loading import (
    load_child_ids,
    load_enrollments,
    load_households,
    pending_by_enrollment,
)
from canteen_core.services.reservation_reads import ReservationReads
from canteen_core.services.runner import Transaction
from canteen_core.services.school_years import ensure_years_open

__all__ = ["ReservationService", "load_enrollments", "load_households"]

Operation = Callable[..., tuple[ReservationBook, BulkResult]]


def _ids(values: Iterable[str], path: str) -> list[str]:
    if isinstance(values, str):
        raise InvalidInputError("expected a collection of ids, not a string", path=path)
    result = []
    for value in values:
        if not isinstance(value, str) or not value:
            raise InvalidInputError(
                f"identifiant invalide « {value} » : un texte non vide est attendu", path=path
            )
        result.append(value)
    return list(dict.fromkeys(result))


def _check_date(value: object, path: str) -> date:
    return check_date(value, path)


def _periodicity(value: object) -> Periodicity:
    if not isinstance(value, Periodicity):
        raise InvalidInputError(
            f"expected a Periodicity, got {type(value).__name__}", path="periodicity"
        )
    return value


class ReservationService(ReservationReads, ChangeRequestUseCases):
    """Families book and cancel; staff see, instruct and book for them (the reads are
    :class:`~canteen_core.services.reservation_reads.ReservationReads`, the change requests'
    use cases :class:`~canteen_core.services.change_requests.ChangeRequestUseCases`)."""

    # -- the engine room ----------------------------------------------------------------------

    def _run(
        self,
        actor: Actor,
        action: Action,
        operations: Mapping[str, Operation],
        *,
        extra_action: Action | None = None,
        household: bool = True,
        expected_versions: Mapping[str, int] | None = None,
    ) -> dict[str, BulkResult]:
        """Apply ``operations`` (enrollment id -> operation) in one use case.

        ``expected_versions`` (enrollment id -> book version, an HTTP ``If-Match``): a book
        at another version is a :class:`ConflictError`, checked in the write's transaction.

        A call that changes nothing (every day already in the asked state, or skipped with
        its reason; no request made or withdrawn) saves no book, keeps its version and
        leaves no audit entry; its results are the same.

        With ``household=False`` the operations are the engine's cores, not given the
        household: only the households' child ids are read, and each enrollment's context is
        checked here as the engine's operations would (its child, then
        :func:`~canteen_core.domain.reservations.rules._check_context_household_checked`)."""
        ids = list(operations)
        with self._ctx.use_case(actor, action) as tx:
            if not ids:
                tx.filtered()  # nothing asked: the actor's role was checked, nothing to do
                tx.changed_nothing()
                return {}
            enrollments = load_enrollments(tx, ids)
            ensure_years_open(tx, enrollments.values())
            household_ids = {e.household_id for e in enrollments.values()}
            tx.authorize_many(household_ids)
            if extra_action is not None:
                for household_id in household_ids:
                    tx.authorize(household_id, action=extra_action)
            households: dict[str, Household] = {}
            children: dict[str, frozenset[str]] = {}
            if household:
                households = load_households(tx, household_ids)
            else:
                children = load_child_ids(tx, household_ids)
            books = tx.uow.reservations.load_many(ids)
            for enrollment_id, expected in (expected_versions or {}).items():
                if books[enrollment_id].version != expected:
                    raise ConflictError(
                        f"les réservations ont changé (version {books[enrollment_id].version}, "
                        f"attendue {expected})"
                    )
            pending = pending_by_enrollment(tx, enrollments)
            clock = FixedClock(tx.now)  # one instant for the whole use case
            results: dict[str, BulkResult] = {}
            saves: list[tuple[ReservationBook, int]] = []
            new_requests: list[ChangeRequest] = []
            for enrollment_id, operation in operations.items():
                enrollment = enrollments[enrollment_id]
                book = books[enrollment_id]
                context: dict[str, object] = {}
                if household:
                    context["household"] = households[enrollment.household_id]
                else:
                    if enrollment.child_id not in children[enrollment.household_id]:
                        raise NotFoundError(
                            f"no child {enrollment.child_id!r} "
                            f"in household {enrollment.household_id!r}"
                        )
                    _check_context_household_checked(book, enrollment, actor)
                new_book, result = operation(
                    book,
                    enrollment=enrollment,
                    actor=actor,
                    clock=clock,
                    pending=pending[enrollment_id],
                    new_id=tx.new_id,
                    **context,
                )
                results[enrollment_id] = attrs.evolve(result, book_version=new_book.version)
                if new_book.version != book.version:
                    saves.append((new_book, book.version))
                new_requests.extend(result.pending)
                for withdrawn in result.withdrawn:
                    tx.uow.change_requests.save(withdrawn)
            if not (saves or new_requests or any(r.withdrawn for r in results.values())):
                # Every day was already so (or skipped): no audit entry, no version, no event.
                tx.changed_nothing()
            changed_books = Books({book.enrollment_id: (book, v) for book, v in saves})
            apply_capacity(tx, enrollments, books, results, changed_books)  # waiting lists
            saves = changed_books.saves()
            tx.emit(*(result.event for result in results.values()))
            self._check_arrears(tx, actor, enrollments, results)
            changed: dict[str, list[date]] = {}  # [billing] billed_days = "refuse"
            for enrollment_id, outcome in results.items():
                household_days = changed.setdefault(enrollments[enrollment_id].household_id, [])
                household_days.extend(outcome.changed)
            ensure_days_not_billed(tx.uow, self._ctx.deployment, changed)
            if saves:
                tx.uow.reservations.save_many(saves)
            if new_requests:
                tx.uow.change_requests.add_many(new_requests)
        return results

    def _check_arrears(
        self,
        tx: Transaction,
        actor: Actor,
        enrollments: Mapping[str, Enrollment],
        results: Mapping[str, BulkResult],
    ) -> None:
        """The deployment's arrears rule (``[billing] arrears_threshold``): a family whose
        overdue balance is above it books no new day (staff booking for it still may)."""
        rule = self._ctx.deployment.billing.arrears_rule
        if rule is None or not actor.is_family:
            return
        booking = {enrollments[i].household_id for i, r in results.items() if r.booked}
        today = paris_date(tx.now)
        for household_id in sorted(booking):
            ensure_bookings_allowed(tx.uow, household_id, today=today, rule=rule)

    def _one(
        self,
        actor: Actor,
        action: Action,
        enrollment_id: str,
        operation: Operation,
        expected_version: int | None = None,
    ) -> BulkResult:
        if not isinstance(enrollment_id, str) or not enrollment_id:
            raise InvalidInputError("expected an enrollment id", path="enrollment_id")
        expected = _expected(enrollment_id, expected_version)
        return self._run(actor, action, {enrollment_id: operation}, expected_versions=expected)[
            enrollment_id
        ]

    # -- one enrollment -------------------------------------------------------------------------

    def book(self, actor: Actor, enrollment_id: str, day: date) -> BulkResult:
        """Book one day. Raises for a closed, past or late day (refuse mode); a late day in
        pending mode returns with the request in ``result.pending``."""
        day = _check_date(day, "day")
        return self._one(
            actor, Action.BOOK_MEALS, enrollment_id, lambda book, **kw: book_day(book, day, **kw)
        )

    def cancel(self, actor: Actor, enrollment_id: str, day: date) -> BulkResult:
        """Cancel one day (same rules as :meth:`book`)."""
        day = _check_date(day, "day")
        return self._one(
            actor,
            Action.CANCEL_MEALS,
            enrollment_id,
            lambda book, **kw: cancel_day(book, day, **kw),
        )

    def set_days(
        self,
        actor: Actor,
        enrollment_id: str,
        wanted: Mapping[date, bool],
        *,
        expected_version: int | None = None,
    ) -> BulkResult:
        """Submit a grid: each day to its wanted state (True booked). Closed, past or late
        days are skipped with a reason in the result. With ``expected_version`` (the grid's
        version), a book changed since is a :class:`ConflictError` and nothing is written."""
        expected = _expected(enrollment_id, expected_version)
        return self.set_days_many(actor, {enrollment_id: wanted}, expected_versions=expected)[
            enrollment_id
        ]

    def tick_week(self, actor: Actor, enrollment_id: str, week: date) -> BulkResult:
        """ "Tout cocher" for the ISO week containing ``week``."""
        days = week_days(_check_date(week, "week"))
        return self._fill(actor, [enrollment_id], days, True)[enrollment_id]

    def untick_week(self, actor: Actor, enrollment_id: str, week: date) -> BulkResult:
        """ "Tout décocher" for the ISO week containing ``week``."""
        days = week_days(_check_date(week, "week"))
        return self._fill(actor, [enrollment_id], days, False)[enrollment_id]

    def tick_month(self, actor: Actor, enrollment_id: str, year: int, month: int) -> BulkResult:
        """ "Tout cocher" for a month."""
        return self._fill(actor, [enrollment_id], month_days(year, month), True)[enrollment_id]

    def untick_month(self, actor: Actor, enrollment_id: str, year: int, month: int) -> BulkResult:
        """ "Tout décocher" for a month."""
        return self._fill(actor, [enrollment_id], month_days(year, month), False)[enrollment_id]

    def tick_range(
        self,
        actor: Actor,
        enrollment_id: str,
        start: date,
        end: date,
        *,
        expected_version: int | None = None,
    ) -> BulkResult:
        """Book every open day from ``start`` to ``end``, clamped to the enrollment's period
        (the days outside it are not listed, so the work is bounded by the enrollment).
        ``expected_version``: as in :meth:`set_days`."""
        return self._fill_range(actor, enrollment_id, start, end, True, expected_version)

    def untick_range(
        self,
        actor: Actor,
        enrollment_id: str,
        start: date,
        end: date,
        *,
        expected_version: int | None = None,
    ) -> BulkResult:
        """Cancel every booked day from ``start`` to ``end``, clamped to the enrollment's
        period (see :meth:`tick_range`)."""
        return self._fill_range(actor, enrollment_id, start, end, False, expected_version)

    def _fill_range(
        self,
        actor: Actor,
        enrollment_id: str,
        start: date,
        end: date,
        booked: bool,
        expected_version: int | None,
    ) -> BulkResult:
        expected = _expected(enrollment_id, expected_version)
        span = _check_range(start, end)
        return self._fill(actor, [enrollment_id], span, booked, span=True, expected=expected)[
            enrollment_id
        ]

    def apply_periodicity(
        self,
        actor: Actor,
        enrollment_id: str,
        periodicity: Periodicity,
        *,
        replace: bool = True,
        expected_version: int | None = None,
    ) -> BulkResult:
        """Apply a weekly pattern over its range ("Appliquer une périodicité"); with
        ``replace`` the other open days of the range are cancelled. Pattern days that are
        closed are listed as skipped, with the reason. ``expected_version``: as in
        :meth:`set_days`."""
        pattern = _periodicity(periodicity)
        if not isinstance(replace, bool):
            raise InvalidInputError("replace must be True or False", path="replace")

        def operation(book: ReservationBook, **kw: object) -> tuple[ReservationBook, BulkResult]:
            return apply_periodicity(book, pattern, replace=replace, **kw)  # type: ignore[arg-type]

        return self._one(
            actor, Action.APPLY_PERIODICITY, enrollment_id, operation, expected_version
        )

    # -- many enrollments, one transaction -------------------------------------------------------

    def _fill(
        self,
        actor: Actor,
        enrollment_ids: Iterable[str],
        days: tuple[date, ...] | tuple[date, date],
        booked: bool,
        *,
        span: bool = False,
        expected: Mapping[str, int] | None = None,
    ) -> dict[str, BulkResult]:
        """Bring each of ``days`` to ``booked`` (closed days are listed as skipped); with
        ``span``, ``days`` is a (first, last) range clamped to each enrollment's period."""
        ids = _ids(enrollment_ids, "enrollment_ids")

        def operation(
            book: ReservationBook, *, enrollment: Enrollment, **kw: object
        ) -> tuple[ReservationBook, BulkResult]:
            wanted = range_in_enrollment(days[0], days[-1], enrollment) if span else days
            return _set_days(book, wanted, booked, enrollment=enrollment, **kw)  # type: ignore[arg-type]

        action = Action.BOOK_MEALS if booked else Action.CANCEL_MEALS
        return self._run(
            actor,
            action,
            dict.fromkeys(ids, operation),
            household=False,
            expected_versions=expected,
        )

    def _fill_open(
        self,
        actor: Actor,
        enrollment_ids: Iterable[str],
        span: tuple[date, date],
        booked: bool,
    ) -> dict[str, BulkResult]:
        """Bring every service day from ``span``'s first to its last day to ``booked``.

        Bulk calls only look at the enrollment's service days: closed days are not listed
        as skipped (a city-wide run would create millions of skip records). The engine
        works on masks, so only the bounds are passed, not the days."""
        ids = _ids(enrollment_ids, "enrollment_ids")
        first, last = span

        def operation(book: ReservationBook, **kw: object) -> tuple[ReservationBook, BulkResult]:
            return _fill_service_days(book, first, last, booked, **kw)  # type: ignore[arg-type]

        action = Action.BOOK_MEALS if booked else Action.CANCEL_MEALS
        return self._run(actor, action, dict.fromkeys(ids, operation), household=False)

    def set_days_many(
        self,
        actor: Actor,
        changes: Mapping[str, Mapping[date, bool]],
        *,
        expected_versions: Mapping[str, int] | None = None,
    ) -> dict[str, BulkResult]:
        """Submit grids for many enrollments (a family's month, all children) at once;
        ``expected_versions`` (enrollment id -> version): as in :meth:`set_days`."""
        if not isinstance(changes, Mapping):
            raise InvalidInputError("expected enrollment id -> {day: booked}", path="changes")
        operations: dict[str, Operation] = {}
        cancels = False
        for enrollment_id, wanted in changes.items():
            _ids([enrollment_id], "changes")
            if not isinstance(wanted, Mapping):
                raise InvalidInputError("expected {day: booked}", path=f"changes[{enrollment_id}]")
            frozen = dict(wanted)
            cancels = cancels or any(value is False for value in frozen.values())

            def operation(
                book: ReservationBook, *, _wanted: dict[date, bool] = frozen, **kw: object
            ) -> tuple[ReservationBook, BulkResult]:
                return _set_days(book, _wanted, **kw)  # type: ignore[arg-type]

            operations[enrollment_id] = operation
        return self._run(
            actor,
            Action.BOOK_MEALS,
            operations,
            extra_action=Action.CANCEL_MEALS if cancels else None,
            household=False,
            expected_versions=expected_versions,
        )

    def tick_month_many(
        self, actor: Actor, enrollment_ids: Iterable[str], year: int, month: int
    ) -> dict[str, BulkResult]:
        """Book every open day of a month for many enrollments, in one transaction.

        Only service days are considered: closed days are not listed as skipped.
        """
        return self._fill_open(actor, enrollment_ids, _month_range(year, month), True)

    def untick_month_many(
        self, actor: Actor, enrollment_ids: Iterable[str], year: int, month: int
    ) -> dict[str, BulkResult]:
        """Cancel a month for many enrollments, as :meth:`tick_month_many` books it."""
        return self._fill_open(actor, enrollment_ids, _month_range(year, month), False)

    def tick_range_many(
        self, actor: Actor, enrollment_ids: Iterable[str], start: date, end: date
    ) -> dict[str, BulkResult]:
        """Book every open day from ``start`` to ``end`` for many enrollments (service days
        only, as :meth:`tick_month_many`)."""
        return self._fill_open(actor, enrollment_ids, _check_range(start, end), True)

    def untick_range_many(
        self, actor: Actor, enrollment_ids: Iterable[str], start: date, end: date
    ) -> dict[str, BulkResult]:
        """Cancel every day from ``start`` to ``end`` for many enrollments (service days
        only, as :meth:`tick_month_many`)."""
        return self._fill_open(actor, enrollment_ids, _check_range(start, end), False)

    def apply_periodicity_many(
        self,
        actor: Actor,
        enrollment_ids: Iterable[str],
        periodicity: Periodicity,
        *,
        replace: bool = True,
    ) -> dict[str, BulkResult]:
        """Apply one periodicity to many enrollments in one transaction (the rentrée).

        Like :meth:`apply_periodicity`, except that closed days are not listed as skipped
        (a city-wide run would otherwise create a record per child and holiday)."""
        periodicity = _periodicity(periodicity)
        ids = _ids(enrollment_ids, "enrollment_ids")
        return self.apply_periodicities(actor, dict.fromkeys(ids, periodicity), replace=replace)

    def apply_periodicities(
        self, actor: Actor, periodicities: Mapping[str, Periodicity], *, replace: bool = True
    ) -> dict[str, BulkResult]:
        """Apply each enrollment its own periodicity, in one transaction (closed days are
        not listed as skipped, see :meth:`apply_periodicity_many`)."""
        if not isinstance(periodicities, Mapping):
            raise InvalidInputError("expected enrollment id -> Periodicity", path="periodicities")
        if not isinstance(replace, bool):
            raise InvalidInputError("replace must be True or False", path="replace")
        operations: dict[str, Operation] = {}
        for enrollment_id, periodicity in periodicities.items():
            _ids([enrollment_id], "periodicities")
            pattern = _periodicity(periodicity)

            def operation(
                book: ReservationBook, *, _pattern: Periodicity = pattern, **kw: object
            ) -> tuple[ReservationBook, BulkResult]:
                return _periodicity_on_service_days(book, _pattern, replace, **kw)  # type: ignore[arg-type]

            operations[enrollment_id] = operation
        # Replacing may cancel days: the actor must be allowed both.
        return self._run(
            actor,
            Action.APPLY_PERIODICITY,
            operations,
            extra_action=Action.CANCEL_MEALS if replace else None,
            household=False,
        )


def _expected(enrollment_id: str, version: int | None) -> dict[str, int] | None:
    """``{enrollment_id: version}`` for :meth:`ReservationService._run`, checked."""
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise InvalidInputError(
            f"la version attendue doit être un entier positif ou nul (reçu « {version} »)",
            path="expected_version",
        )
    return {enrollment_id: version}
