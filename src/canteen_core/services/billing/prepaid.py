"""Prepaid billing: invoicing validated baskets and crediting cancellations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.charging import DayFacts
from canteen_core.domain.charging.activities import is_lunch
from canteen_core.domain.clock import paris_date
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    CanteenError,
    ConfigurationError,
    ConflictError,
    RuleViolationError,
)
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs import invoice_prepaid_basket, prepaid_cancellation_credit
from canteen_core.domain.invoicing import (
    CREDIT_NOTE_PREFIX,
    BillingMode,
    CreditNote,
    Invoice,
    billing_key,
    month_label,
)
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage import Range, UnitOfWork
from canteen_core.services.billing._base import BillingBase, _chunks, _household_id, parse_period
from canteen_core.services.billing.facts import tariff_category_of
from canteen_core.services.billing.problems import (
    SkippedHousehold,
    category_problem,
    pricing_problem,
)
from canteen_core.services.billing.runs import BillingReport, IssuedInvoice
from canteen_core.services.runner import Transaction


@attrs.frozen(kw_only=True)
class _Basket:
    """What invoicing one household's basket of a month did: the new invoice (``None``:
    nothing new), the cancellation credits issued first, and whether the month had been
    invoiced for the household before."""

    invoice: Invoice | None
    credit_notes: tuple[CreditNote, ...]
    invoiced_before: bool


@attrs.frozen(kw_only=True)
class BasketInvoices:
    """What invoicing a family's validation did (:meth:`PrepaidBilling.invoice_validation`):
    the invoices issued, and for each month that could not be invoiced the reason, in French
    for the family (the reservations stay booked; the next validation or the staff's run
    invoices them once the cause is fixed)."""

    invoices: tuple[Invoice, ...] = ()
    problems: tuple[str, ...] = ()


class PrepaidBilling(BillingBase):
    """Prepaid invoices and their cancellation credits."""

    def invoice_validation(
        self, actor: Actor, enrollment_id: str, booked: Iterable[date]
    ) -> BasketInvoices:
        """After a validation of ``enrollment_id``'s reservations that booked the days
        ``booked``: invoice the household's basket of each month of those days (prepaid mode).

        Each month is :meth:`invoice_basket`, in its own transaction after the booking's: the
        booking is never undone by its invoice. A month whose basket cannot be invoiced (no
        grid covers a day...) is reported in :attr:`BasketInvoices.problems` and the other
        months are invoiced. Nothing is done on a post-paid deployment (invoices follow the
        service), nor for an activity (billed post-paid from attendance).
        """
        days = list(booked)  # dates: the facade's input guard checks ``Iterable[date]``
        if self.mode is not BillingMode.PREPAID or not days:
            return BasketInvoices()
        action = self._family_or(actor, Action.RUN_BILLING, Action.BOOK_MEALS)
        with self._ctx.use_case(actor, action, read_only=True) as tx:
            enrollment = tx.uow.enrollments.get(enrollment_id)
            tx.authorize(enrollment.household_id)
        if not is_lunch(enrollment.service):
            return BasketInvoices()
        invoices: list[Invoice] = []
        problems: list[str] = []
        for year, month in sorted({(day.year, day.month) for day in days}):
            try:
                invoice = self.invoice_basket(
                    actor, enrollment.household_id, f"{year:04d}-{month:02d}"
                )
            except (RuleViolationError, ConflictError) as error:
                label = month_label(date(year, month, 1))
                problems.append(
                    f"la facture {label} n'a pas pu être émise : {error} "
                    "(vos réservations sont bien enregistrées)"
                )
                continue
            if invoice is not None:
                invoices.append(invoice)
        return BasketInvoices(invoices=tuple(invoices), problems=tuple(problems))

    def invoice_basket(self, actor: Actor, household_id: str, month: str) -> Invoice | None:
        """Invoice the household's validated reservation basket for ``month`` (prepaid mode).

        A family validates its own basket (``book_meals``); finance may do it for any
        household (``run_billing``). Only booked days not invoiced yet (or invoiced and since
        credited) are billed, on a new invoice named after the month ("SEPTEMBRE 2023"); with
        nothing new, nothing is issued and ``None`` is returned. Days of the month invoiced
        earlier and cancelled in time since are credited first, in the same transaction (as
        :meth:`credit_cancellations` does): the run issues its own cancellation credits.
        A basket that cannot be priced (no grid covers a day, a category the grid does not
        price) raises :class:`RuleViolationError` saying why, and nothing is stored.
        """
        start, end = parse_period(month)
        self._ensure_prepaid()
        action = self._family_or(actor, Action.RUN_BILLING, Action.BOOK_MEALS)
        with self._ctx.use_case(actor, action, household_id=_household_id(household_id)) as tx:
            household = tx.uow.households.get(household_id)
            return self._invoice_basket(tx, household, start, end).invoice

    def run_prepaid(
        self, actor: Actor, period: str, *, household_ids: Iterable[str] | None = None
    ) -> BillingReport:
        """Invoice the basket of ``period`` (``"2023-09"``) of every household, or of a subset
        (prepaid mode): the staff's billing run of a prepaid deployment.

        ``run_billing`` (finance, admin, system). For each household enrolled in a lunch-like
        service during the month, exactly what :meth:`invoice_basket` does, in the household's
        own transaction: the days cancelled in time since an earlier invoice are credited
        (``credit_notes``), then the days booked and not invoiced yet are invoiced
        (``issued``). A household with nothing new is listed in ``already_billed`` when the
        month was invoiced for it before, in ``without_charges`` otherwise; running the month
        again issues nothing new. A household whose basket cannot be priced is listed in
        ``skipped`` with the reason in French, and the others are invoiced. Unlike a post-paid
        run, a month not over (or not started) is invoiced: prepaid bills in advance. Raises
        before writing anything for a bad period, an unknown household or a post-paid
        deployment.
        """
        start, end = parse_period(period)
        self._ensure_prepaid()
        window = {"first_day": Range(None, end), "last_day": Range(start, None)}
        with self._ctx.use_case(actor, Action.RUN_BILLING, read_only=True) as tx:
            ids = self._run_households(tx.uow, household_ids)
            enrolled: set[str] = set()
            for batch in _chunks(ids, self.options.batch_size):
                enrolled.update(
                    enrollment.household_id
                    for enrollment in tx.uow.enrollments.list(household_id=tuple(batch), **window)
                    if is_lunch(enrollment.service)
                )
        issued: list[IssuedInvoice] = []
        already: list[str] = []
        conflicts: list[str] = []
        empty = [household_id for household_id in ids if household_id not in enrolled]
        skipped: list[SkippedHousehold] = []
        notes: list[CreditNote] = []
        for household_id in ids:
            if household_id not in enrolled:
                continue
            try:
                with self._ctx.use_case(actor, Action.RUN_BILLING, household_id=household_id) as tx:
                    household = tx.uow.households.find(household_id)
                    if household is None:
                        continue  # removed since the run started: left out
                    basket = self._invoice_basket(tx, household, start, end)
            except ConflictError:
                conflicts.append(household_id)  # another run invoiced it meanwhile
                continue
            except RuleViolationError as error:
                skipped.append(SkippedHousehold(household_id=household_id, reason=str(error)))
                continue
            notes.extend(basket.credit_notes)
            if basket.invoice is not None:
                invoice = basket.invoice
                issued.append(
                    IssuedInvoice(
                        invoice_id=invoice.id,
                        number=invoice.number,
                        household_id=household_id,
                        total=invoice.total,
                    )
                )
            elif basket.invoiced_before:
                already.append(household_id)
            else:
                empty.append(household_id)
        return BillingReport(
            period_start=start,
            period_end=end,
            issued=tuple(issued),
            already_billed=tuple(already),
            conflicts=tuple(conflicts),
            without_charges=tuple(sorted(empty)),
            batches=len(enrolled),  # one transaction per household with a basket
            skipped=tuple(skipped),
            credit_notes=tuple(notes),
        )

    def _ensure_prepaid(self) -> None:
        if self.mode is not BillingMode.PREPAID:
            raise RuleViolationError(
                "ce déploiement facture après le service (post-paiement) : pas de panier à valider"
            )

    def _invoice_basket(
        self, tx: Transaction, household: Household, start: date, end: date
    ) -> _Basket:
        """In ``tx``: credit the household's days of ``start..end`` cancelled in time, then
        invoice its booked days not invoiced yet (see :meth:`invoice_basket`)."""
        uow = tx.uow
        household_id = household.id
        notes = self._credit_cancelled(tx, household_id, start, end)
        issue_date = paris_date(tx.now)
        sequence = uow.invoices.sequence(self.issuer_id, issue_date.year)
        previous = [
            invoice
            for invoice in uow.invoices.list(household_id=household_id)
            if invoice.mode is BillingMode.PREPAID and invoice.period_start == start
        ]
        covered = self._invoiced_days(uow, previous)
        bookings: list[DayFacts] = []
        services: dict[str, str] = {}
        for enrollment in uow.enrollments.list(household_id=household_id):
            if enrollment.start > end or enrollment.end < start:
                continue
            if not is_lunch(enrollment.service):
                # Activities are billed post-paid from attendance (their units need it):
                # a basket holds lunch-like services only (docs/rules/activities.md).
                continue
            enrollment = self._ctx.intern(enrollment)
            services[enrollment.service.id] = enrollment.service.name
            book = uow.reservations.load(enrollment.id)
            late = set(book.late_booked_days())
            try:
                category = tariff_category_of(enrollment, household)
            except ConfigurationError as error:  # a tariff category canteen does not know
                raise RuleViolationError(category_problem(enrollment)) from error
            for day in book.booked_days(start, end):
                key = (enrollment.child_id, enrollment.service.id, day)
                if key in covered or not enrollment.is_bookable(day):
                    continue
                bookings.append(
                    DayFacts(
                        child_id=enrollment.child_id,
                        household_id=household_id,
                        enrollment_id=enrollment.id,
                        service_id=enrollment.service.id,
                        category=category,
                        day=day,
                        booked=True,
                        late_booking=day in late,
                    )
                )
        basket = _Basket(invoice=None, credit_notes=tuple(notes), invoiced_before=bool(previous))
        if not bookings:
            return basket
        basket_id = f"b{len(previous) + 1}"
        tariffs = self._tariff_book(uow)
        try:
            result = invoice_prepaid_basket(
                issuer_id=self.issuer_id,
                basket_id=basket_id,
                household=household,
                bookings=bookings,
                tariffs=tariffs,
                sequence=sequence,
                issued_at=tx.now,
                terms=self.options.terms,
                already_billed=uow.invoices.billed_keys(
                    [
                        billing_key(
                            BillingMode.PREPAID,
                            issuer_id=self.issuer_id,
                            household_id=household_id,
                            first_day=start,
                            last_day=end,
                            basket_id=basket_id,
                        )
                    ]
                ),
                service_names=services,
            )
        except CanteenError as error:
            # A day no grid covers, a category the grid does not price: said for the staff.
            raise RuleViolationError(pricing_problem(error, bookings, tariffs, services)) from error
        if result.invoice is None:
            return basket
        uow.invoices.add(result.invoice)
        uow.invoices.save_sequence(result.sequence)
        self._announce(tx, result.invoice, household)
        return attrs.evolve(basket, invoice=result.invoice)

    def _invoiced_days(
        self, uow: UnitOfWork, invoices: Iterable[Invoice]
    ) -> set[tuple[str | None, str, date]]:
        """(child, service, day) billed by ``invoices`` and not credited since."""
        days: set[tuple[str | None, str, date]] = set()
        for invoice in invoices:
            for line in invoice.lines:
                days |= {(line.child_id, line.service_id, day) for day in line.days}
            for note in uow.credit_notes.list(invoice_id=invoice.id):
                days -= note.credited_days()
        return days

    def credit_cancellations(self, actor: Actor, household_id: str, month: str) -> list[CreditNote]:
        """Credit prepaid days of ``month`` cancelled before their deadline (prepaid mode).

        Compares what the household's prepaid invoices of the month bill with its current
        bookings: a billed day no longer booked, not marked as a late cancellation and not
        credited yet is credited at the price it was billed. One credit note per invoice.
        Families trigger it for their own household (``cancel_meals``), finance for any
        (``issue_credit_note``). :meth:`invoice_basket` issues these credits itself, before
        invoicing new days: this method is for a cancellation not followed by a new basket.
        """
        start, end = parse_period(month)
        action = self._family_or(actor, Action.ISSUE_CREDIT_NOTE, Action.CANCEL_MEALS)
        with self._ctx.use_case(actor, action, household_id=_household_id(household_id)) as tx:
            tx.uow.households.get(household_id)
            return self._credit_cancelled(tx, household_id, start, end)

    def _credit_cancelled(
        self, tx: Transaction, household_id: str, start: date, end: date
    ) -> list[CreditNote]:
        """Credit, in ``tx``, the household's prepaid days of ``start..end`` cancelled in time."""
        uow = tx.uow
        invoices = [
            invoice
            for invoice in uow.invoices.list(household_id=household_id)
            if invoice.mode is BillingMode.PREPAID and invoice.period_start == start
        ]
        if not invoices:
            return []
        books: dict[tuple[str, str], list[tuple[Enrollment, ReservationBook]]] = defaultdict(list)
        for enrollment in uow.enrollments.list(household_id=household_id):
            if enrollment.start <= end and enrollment.end >= start:
                books[(enrollment.child_id, enrollment.service.id)].append(
                    (enrollment, uow.reservations.load(enrollment.id))
                )
        issue_date = paris_date(tx.now)
        sequence = uow.invoices.sequence(
            self.issuer_id, issue_date.year, kind="credit_note", prefix=CREDIT_NOTE_PREFIX
        )
        notes: list[CreditNote] = []
        for invoice in invoices:
            previous = list(uow.credit_notes.list(invoice_id=invoice.id))
            credited: set[tuple[str | None, str, date]] = set()
            for note in previous:
                credited |= note.credited_days()
            cancelled: list[tuple[str, str, date]] = []
            for line in invoice.lines:
                if line.child_id is None:
                    continue
                for day in line.days:
                    if (line.child_id, line.service_id, day) in credited:
                        continue
                    if _cancelled_in_time(books[(line.child_id, line.service_id)], day):
                        cancelled.append((line.child_id, line.service_id, day))
            if not cancelled:
                continue
            note, sequence = prepaid_cancellation_credit(
                invoice,
                cancelled=cancelled,
                sequence=sequence,
                issue_date=issue_date,
                previous=previous,
            )
            uow.credit_notes.add(note)
            notes.append(note)
        if notes:
            uow.invoices.save_sequence(sequence, kind="credit_note")
            household = uow.households.get(household_id)
            self._announce_credit_notes(
                tx, notes, {i.id: i for i in invoices}, {household_id: household}
            )
        return notes


def _cancelled_in_time(entries: Sequence[tuple[Enrollment, ReservationBook]], day: date) -> bool:
    """Whether ``day`` is no longer booked in any matching enrollment, and was not cancelled
    after its deadline (a late cancellation stays billed)."""
    relevant = [(e, b) for e, b in entries if e.covers(day)]
    if not relevant:
        return False
    for _, book in relevant:
        if book.is_booked(day) or day in set(book.late_cancelled_days()):
            return False
    return True
