"""Post-paid billing runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import attrs

from canteen_core.config.deployment import BilledDays
from canteen_core.domain._french import format_date_fr
from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import (
    AbsenceJustification,
    AttendanceRecord,
    Presence,
)
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.charging import PeriodFacts
from canteen_core.domain.charging.activities import activity_facts, is_lunch
from canteen_core.domain.clock import paris_date, paris_today
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    CanteenError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs import BillingRun
from canteen_core.domain.invoice_runs import run_postpaid_periods as _run_postpaid_periods
from canteen_core.domain.invoicing import (
    BillingMode,
    CreditNote,
    Invoice,
    NumberSequence,
    billing_key,
)
from canteen_core.domain.money import Money
from canteen_core.domain.policy import Action
from canteen_core.domain.regularisation import Regularisation
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import (
    TariffBook,
)
from canteen_core.ports.storage import Range, UnitOfWork
from canteen_core.services.billing._base import BillingBase, _chunks, parse_period
from canteen_core.services.billing.facts import _justified_run_before, period_facts, stays_of
from canteen_core.services.billing.problems import (
    SkippedHousehold,
    category_problem,
    pricing_problem,
)
from canteen_core.services.billing.regularise import regularisation_credits, regularise_batch
from canteen_core.services.runner import Transaction


@attrs.frozen(kw_only=True)
class IssuedInvoice:
    """A short record of an invoice a run issued (the invoice itself is in storage)."""

    invoice_id: str
    number: str
    household_id: str
    total: Money


@attrs.define
class _Batch:
    """What one batch did (gathered into the :class:`BillingReport`)."""

    issued: list[IssuedInvoice] = attrs.Factory(list)
    already: list[str] = attrs.Factory(list)
    conflicts: list[str] = attrs.Factory(list)
    empty: list[str] = attrs.Factory(list)
    skipped: list[SkippedHousehold] = attrs.Factory(list)
    credit_notes: list[CreditNote] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class BillingReport:
    """What a post-paid run did.

    ``issued``: new invoices; ``already_billed``: households skipped because the period was
    billed for them before; ``conflicts``: households skipped because another run billed them
    at the same time; ``without_charges``: households with nothing to bill (no number used);
    ``skipped``: households whose invoice could not be computed, with the reason in French
    (fix it and run the period again: only they are billed then); ``credit_notes``: the
    régularisation credit notes issued on earlier invoices (days no longer due).
    """

    period_start: date
    period_end: date
    issued: tuple[IssuedInvoice, ...]
    already_billed: tuple[str, ...]
    conflicts: tuple[str, ...]
    without_charges: tuple[str, ...]
    batches: int
    skipped: tuple[SkippedHousehold, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()

    @property
    def total(self) -> Money:
        """Sum of the new invoices."""
        return Money.sum(item.total for item in self.issued)

    @property
    def count(self) -> int:
        """How many invoices were issued."""
        return len(self.issued)

    @property
    def credited(self) -> Money:
        """Sum of the régularisation credit notes issued on earlier invoices."""
        return Money.sum(note.total for note in self.credit_notes)


def _check_period_over(
    period: str, start: date, end: date, today: date, allow_unfinished: bool
) -> None:
    """Refuse (in French, for the staff) a month that has not started, or is not over."""
    if start > today:
        raise RuleViolationError(
            f"la période {period} n'a pas commencé (nous sommes le {format_date_fr(today)}) : "
            "il n'y a rien à facturer"
        )
    if end >= today and not allow_unfinished:
        raise RuleViolationError(
            f"la période {period} n'est pas terminée (elle finit le {format_date_fr(end)}) : "
            "facturez-la à partir du lendemain, ou demandez explicitement une facturation "
            "anticipée"
        )


class PostpaidRuns(BillingBase):
    """Post-paid billing runs, batch by batch."""

    # -- post-paid -----------------------------------------------------------------------------

    def run_postpaid(
        self,
        actor: Actor,
        period: str,
        *,
        household_ids: Iterable[str] | None = None,
        allow_unfinished: bool = False,
    ) -> BillingReport:
        """Bill the month ``period`` (``"2023-09"``) post-paid, for all households or a subset.

        ``run_billing`` (finance, admin, system). One transaction per batch of households (see
        the package docstring); re-running never invoices twice. A household whose invoice
        cannot be computed is skipped and listed with the reason (:attr:`BillingReport.skipped`);
        the others are billed. Raises before writing anything for a bad period, an unknown
        household, a prepaid deployment, a month not over yet (today in Europe/Paris) unless
        ``allow_unfinished`` says so, and a month that has not started.
        """
        start, end = parse_period(period)
        if self.mode is not BillingMode.POSTPAID:
            raise RuleViolationError(
                "ce déploiement facture en prépaiement : les factures viennent des paniers validés"
            )
        if not isinstance(allow_unfinished, bool):
            raise InvalidInputError("must be True or False", path="allow_unfinished")
        _check_period_over(period, start, end, paris_today(self._ctx.clock), allow_unfinished)
        with self._ctx.use_case(actor, Action.RUN_BILLING, read_only=True) as tx:
            tariffs = TariffBook(grids=tuple(tx.uow.tariffs.list()))
            ids = self._run_households(tx.uow, household_ids)
        done = _Batch()
        batches = 0
        for batch in _chunks(ids, self.options.batch_size):
            batches += 1
            with self._ctx.use_case(actor, Action.RUN_BILLING) as tx:
                result = self._bill_batch(tx, batch, start, end, tariffs)
                tx.audit.describe(
                    f"Facturation du {start:%d/%m/%Y} au {end:%d/%m/%Y} : "
                    f"{len(result.issued)} facture(s), {len(result.credit_notes)} avoir(s)"
                )
            done.issued.extend(result.issued)
            done.already.extend(result.already)
            done.conflicts.extend(result.conflicts)
            done.empty.extend(result.empty)
            done.skipped.extend(result.skipped)
            done.credit_notes.extend(result.credit_notes)
        return BillingReport(
            period_start=start,
            period_end=end,
            issued=tuple(done.issued),
            already_billed=tuple(done.already),
            conflicts=tuple(done.conflicts),
            without_charges=tuple(done.empty),
            batches=batches,
            skipped=tuple(sorted(done.skipped, key=lambda item: item.household_id)),
            credit_notes=tuple(done.credit_notes),
        )

    def _bill_batch(
        self,
        tx: Transaction,
        batch: Sequence[str],
        start: date,
        end: date,
        tariffs: TariffBook,
    ) -> _Batch:
        """Bill one batch of households in the current transaction, reading each kind of
        document with one query for the whole batch (an ``IN`` list of its households)."""
        uow = tx.uow
        issue_date = paris_date(tx.now)
        # Lock the numbering first: a concurrent run waits here, then sees our billing keys.
        sequence = uow.invoices.sequence(self.issuer_id, issue_date.year)
        keys = {
            household_id: billing_key(
                BillingMode.POSTPAID,
                issuer_id=self.issuer_id,
                household_id=household_id,
                first_day=start,
                last_day=end,
            )
            for household_id in batch
        }
        billed = uow.invoices.billed_keys(keys.values())
        already = [household_id for household_id in batch if keys[household_id] in billed]
        todo = [household_id for household_id in batch if keys[household_id] not in billed]
        # Households removed since the run started are left out.
        households = uow.households.find_many(todo)
        carried: dict[str, int] = {}
        services: dict[str, str] = {}
        result = _Batch(already=already)
        failed: dict[str, str] = {}
        facts = self._batch_facts(uow, households, start, end, carried, services, failed)
        by_household: defaultdict[str, list[PeriodFacts]] = defaultdict(list)
        for item in facts:
            by_household[item.household_id].append(item)
        regularised, documents, notes = self._regularisations(
            uow, households, start, tariffs, services, failed
        )

        def price(members: Sequence[str], numbering: NumberSequence) -> BillingRun:
            """The domain run for ``members``: it prices and numbers their invoices."""
            return _run_postpaid_periods(
                issuer_id=self.issuer_id,
                period_start=start,
                period_end=end,
                facts=[item for member in members for item in by_household[member]],
                households={member: households[member] for member in members},
                tariffs=tariffs,
                sequence=numbering,
                issued_at=tx.now,
                terms=self.options.terms,
                already_billed=billed,
                policy=self.options.charging,
                carried_runs=carried,
                service_names=services,
                extra_lines={
                    member: regularised[member].charges
                    for member in members
                    if member in regularised
                },
            )

        billable = sorted(set(households) - failed.keys())
        current = sequence
        try:
            run: BillingRun | None = price(billable, sequence)
        except CanteenError:
            run = None  # some household cannot be priced: find which, household by household
        stored: list[tuple[Invoice, InvoiceIssued]] | None = None
        if run is not None:
            stored = self._store_all(uow, run)
        if run is not None and stored is not None:
            current = run.sequence
            result.empty.extend(run.without_charges)
        else:
            stored = []
            for household_id in billable:
                try:
                    alone = price([household_id], current)
                except CanteenError as error:
                    failed[household_id] = pricing_problem(
                        error, by_household[household_id], tariffs, services
                    )
                    continue
                if not alone.invoices:
                    result.empty.append(household_id)
                    continue
                try:
                    with uow.savepoint():
                        uow.invoices.add(alone.invoices[0])
                except ConflictError:
                    # Another run billed it meanwhile: its number goes to the next invoice.
                    result.conflicts.append(household_id)
                    continue
                current = alone.sequence
                stored.append((alone.invoices[0], alone.events[0]))
        for invoice, event in stored:
            self._announce(tx, invoice, households[invoice.household_id], event)
            tx.audit.change(
                f"invoice:{invoice.id}",
                "invoice",
                None,
                {"number": invoice.number, "total": invoice.total},
                household_id=invoice.household_id,
            )
            result.issued.append(
                IssuedInvoice(
                    invoice_id=invoice.id,
                    number=invoice.number,
                    household_id=invoice.household_id,
                    total=invoice.total,
                )
            )
        if current.last_used != sequence.last_used:
            uow.invoices.save_sequence(current)
        # Credits of the régularisation: for the households this batch billed or found
        # nothing to bill for (not the skipped ones, nor those another run billed meanwhile).
        settled = set(households) - failed.keys() - set(result.conflicts)
        credits = [
            (invoice, notes.get(household_id, ()), regularised[household_id].credits[invoice.id])
            for household_id in sorted(settled & regularised.keys())
            for invoice in documents.get(household_id, ())
            if invoice.id in regularised[household_id].credits
        ]
        regularised_notes = regularisation_credits(uow, self.issuer_id, issue_date, credits)
        self._announce_credit_notes(
            tx, regularised_notes, {invoice.id: invoice for invoice, _, _ in credits}, households
        )
        result.credit_notes.extend(regularised_notes)
        for note in regularised_notes:
            tx.audit.touch(f"credit_note:{note.id}", household_id=note.household_id)
        result.skipped.extend(
            SkippedHousehold(household_id=household_id, reason=reason)
            for household_id, reason in failed.items()
        )
        return result

    @staticmethod
    def _store_all(uow: UnitOfWork, run: BillingRun) -> list[tuple[Invoice, InvoiceIssued]] | None:
        """Store the run's invoices, as numbered by the run, in one bulk insert; ``None``
        when another run billed one of the households meanwhile (a unique billing key,
        :class:`ConflictError`): the insert is undone and the caller bills the batch again
        household by household from the numbering as it stands, so a conflicting household
        is skipped and its number goes to the next invoice (numbering stays gapless).
        Numbers are only ever given by the domain run."""
        if run.invoices:
            try:
                with uow.savepoint():
                    uow.invoices.add_many(run.invoices)
            except ConflictError:
                return None
        return list(zip(run.invoices, run.events, strict=True))

    def _regularisations(
        self,
        uow: UnitOfWork,
        households: Mapping[str, Household],
        start: date,
        tariffs: TariffBook,
        services: dict[str, str],
        failed: dict[str, str],
    ) -> tuple[dict[str, Regularisation], dict[str, list[Invoice]], dict[str, list[CreditNote]]]:
        """The régularisation of the batch's households (``[billing] billed_days =
        "regularise"``, the default): see :func:`.regularise.regularise_batch`."""
        if self._ctx.deployment.billing.billed_days is not BilledDays.REGULARISE:
            return {}, {}, {}
        return regularise_batch(
            uow,
            {h: household for h, household in households.items() if h not in failed},
            start,
            lookback_months=self.options.regularisation_months,
            tariffs=tariffs,
            policy=self.options.charging,
            read_facts=self._batch_facts,
            services=services,
            failed=failed,
        )

    def _batch_facts(
        self,
        uow: UnitOfWork,
        households: Mapping[str, Household],
        start: date,
        end: date,
        carried: dict[str, int],
        services: dict[str, str],
        failed: dict[str, str],
    ) -> list[PeriodFacts]:
        """The billing facts of a batch of households, with a constant number of queries:
        one each for enrollments, attendance and certificates (``IN`` lists) and one
        :meth:`~canteen_core.ports.storage.ReservationRepository.load_many` for the period's days of
        the books; the books and attendance before the period (a justified-absence run open
        when it starts) are read only for the enrollments with a justified absence in it."""
        if not households:
            return []
        lookback = start - timedelta(days=self.options.carence_lookback_days)
        # An enrollment ended before the period has nothing to bill nor a run to carry.
        window = {"first_day": Range(None, end), "last_day": Range(start, None)}
        members = tuple(households)
        enrollments: list[Enrollment] = []
        # Loaded enrollments mostly share calendar instances already: intern each one once.
        calendars: dict[int, ServiceCalendar] = {}
        for enrollment in uow.enrollments.list(household_id=members, **window):
            calendar = enrollment.calendar
            found = calendars.get(id(calendar))
            if found is None:
                found = calendars[id(calendar)] = self._ctx.intern(enrollment).calendar
            if found is not calendar:
                enrollment = attrs.evolve(enrollment, calendar=found)
            enrollments.append(enrollment)
        if not enrollments:
            return []
        books = uow.reservations.load_many((e.id for e in enrollments), between=(start, end))
        records: dict[str, list[AttendanceRecord]] = defaultdict(list)
        for record in uow.attendance.list(household_id=members, day=Range(start, end)):
            records[record.enrollment_id].append(record)
        # A certificate only matters for a booked day the child was not seen: most
        # enrollments have none, and are left out of the certificates query.
        missed: list[str] = []
        for enrollment in enrollments:
            book = books.get(enrollment.id)
            if book is None:
                continue
            seen = {
                r.day
                for r in records[enrollment.id]
                if r.presence is Presence.PRESENT and start <= r.day <= end
            }
            if book.count(start, end) > sum(1 for day in seen if book.is_booked(day)):
                missed.append(enrollment.id)
        justifications: defaultdict[str, list[AbsenceJustification]] = defaultdict(list)
        if missed:
            for justification in uow.absences.list(
                enrollment_id=tuple(missed),
                first_day=Range(None, end),
                last_day=Range(lookback, None),
            ):
                justifications[justification.enrollment_id].append(justification)
        # Enrollments of a batch share a few calendars: their service days are computed once.
        open_days: dict[tuple[int, date, date], frozenset[date]] = {}
        facts: list[PeriodFacts] = []
        ill: list[Enrollment] = []  # a justified absence in the period: a run may be open
        for enrollment in enrollments:
            services[enrollment.service.id] = enrollment.service.name
            book = books.get(enrollment.id) or ReservationBook.empty(enrollment)
            lo, hi = max(start, enrollment.start), min(end, enrollment.end)
            days = None
            if lo <= hi:
                shared = (id(enrollment.calendar), lo, hi)
                days = open_days.get(shared)
                if days is None:
                    days = open_days[shared] = frozenset(enrollment.open_days(lo, hi))
            try:
                mine = period_facts(
                    enrollment,
                    book,
                    start,
                    end,
                    records=records[enrollment.id],
                    justifications=justifications[enrollment.id],
                    open_days=days,
                    household=households.get(enrollment.household_id),
                )
            except ConfigurationError:  # a tariff category canteen does not know
                failed.setdefault(enrollment.household_id, category_problem(enrollment))
                continue
            if is_lunch(enrollment.service):  # activity_facts gives a lunch's facts as they are
                facts.append(mine)
            else:
                facts.extend(
                    activity_facts(
                        mine, enrollment.service, start, stays_of(records[enrollment.id])
                    )
                )
            if mine.justified and start > enrollment.start:
                ill.append(enrollment)
        if ill and lookback < start:
            eve = start - timedelta(days=1)
            before = uow.reservations.load_many((e.id for e in ill), between=(lookback, eve))
            for record in uow.attendance.list(
                enrollment_id=tuple(e.id for e in ill), day=Range(lookback, eve)
            ):
                records[record.enrollment_id].append(record)
            for enrollment in ill:
                run = _justified_run_before(
                    enrollment,
                    before.get(enrollment.id) or ReservationBook.empty(enrollment),
                    start,
                    self.options.carence_lookback_days,
                    records[enrollment.id],
                    justifications[enrollment.id],
                )
                if run:
                    carried[enrollment.id] = run
        return facts
