"""Money invariants under random use of the facade (issue #14): a stateful Hypothesis test.

A :class:`~hypothesis.stateful.RuleBasedStateMachine` drives the :class:`Canteen` facade on a
real SQLite file through random sequences of what staff and families do over a school term:
book, cancel, roll calls, justified absences, monthly billing runs, counter payments and
their rejection, credit notes, and calls that must be refused (another family's child, a
negative amount). After every step it checks what a commune relies on:

* no (child, service, day) is charged on two invoices unless a credit note gave it back;
* the ledger balances: a household's net balance is what it was invoiced, minus credit
  notes, minus what it paid (rejected payments excluded), plus refunds;
* invoice and credit-note numbers are gapless per issuer, year and kind;
* right after a billing run, for each household and billed month, what its days were
  invoiced minus what was credited for them equals what the rules charge for the days as
  they stand (régularisation included): the same months billed afresh on a copy of the
  database without any invoice give the same amounts (to the cent a separately rounded
  régularisation line may add or take, with unit prices in fractions of a cent);
* a refused call changed nothing that is stored.

The CI profile keeps the run short (see ``max_examples`` below); raise it locally with
``HYPOTHESIS_PROFILE=ci`` or by editing the settings when hunting.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from canteen_core.config.deployment import (
    BillingSettings,
    CalendarSettings,
    Deployment,
    PortalSettings,
    StorageSettings,
)
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import CanteenError
from canteen_core.domain.invoicing import CreditNote, Invoice, parse_number
from canteen_core.services import Canteen

from ._billing_fixtures import priced_world
from ._world import ADMIN, FINANCE, OTHER, PAYER, SERVICE, SITE, WEEKLY, World
from .conftest import ISSUER, cheap_accounts

#: The term the machine plays in: September to November 2023 (zone C, Paris).
TERM_START = date(2023, 9, 4)
TERM_END = date(2023, 11, 30)
MONTHS = ((2023, 9), (2023, 10), (2023, 11))
TERM_DAYS = [TERM_START + timedelta(days=n) for n in range((TERM_END - TERM_START).days + 1)]

days = st.sampled_from(TERM_DAYS)
children = st.sampled_from(["alban", "zoe", "lea"])
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("80"), places=2)


def _canteen(folder: Path, clock: FixedClock) -> Canteen:
    deployment = Deployment(
        issuer=ISSUER,
        storage=StorageSettings(url=f"sqlite:///{folder / 'canteen.db'}"),
        calendar=CalendarSettings(department="75"),
        portal=PortalSettings(url="https://famille.ronde.fr"),
        payment={"manual": {"accepted_methods": ["cash", "cheque", "cesu"]}},
        billing=BillingSettings(),
    )
    return Canteen.from_deployment(deployment, clock=clock, account_settings=cheap_accounts())


class MoneyMachine(RuleBasedStateMachine):
    """The facade on SQLite, played by staff and families over one term."""

    def __init__(self) -> None:
        super().__init__()
        self._folder = tempfile.TemporaryDirectory()
        # Before the term: families book ahead, staff record nothing yet.
        self.clock = FixedClock(datetime(2023, 9, 1, 8, 0, tzinfo=UTC))
        self.canteen = _canteen(Path(self._folder.name), self.clock)
        self.world: World = priced_world(self.canteen)
        self.billed_months: set[tuple[int, int]] = set()
        self.payment_ids: list[str] = []

    def teardown(self) -> None:
        self.canteen.close()
        self._folder.cleanup()

    # -- helpers -----------------------------------------------------------------------------

    def _enrollment_id(self, child: str) -> str:
        return f"e-{child}"

    def _household(self, child: str) -> str:
        return "voisins" if child == "lea" else "concerto"

    def _today(self) -> date:
        return self.clock.now().date()

    def _snapshot(self) -> dict[str, Any]:
        """Everything a refused call must leave as it was."""
        with self.canteen.context.storage.unit_of_work() as uow:
            return {
                "invoices": sorted(repr(i) for i in uow.invoices.list()),
                "credit_notes": sorted(repr(c) for c in uow.credit_notes.list()),
                "payments": sorted(repr(p) for p in uow.payments.list()),
                "books": [
                    sorted(uow.reservations.load(self._enrollment_id(c)).booked_days())
                    for c in ("alban", "zoe", "lea")
                ],
                "attendance": sorted(repr(a) for a in uow.attendance.list()),
            }

    def _refused(self, call: Any) -> None:
        before = self._snapshot()
        with pytest.raises(CanteenError):
            call()
        assert self._snapshot() == before, "a refused call changed stored data"

    # -- rules -------------------------------------------------------------------------------

    @rule(child=children, day=days)
    def book(self, child: str, day: date) -> None:
        with contextlib.suppress(
            CanteenError
        ):  # a closed day, or a billed month a deployment refuses: refusals are checked below
            self.canteen.reservations.book(ADMIN, self._enrollment_id(child), day)

    @rule(child=children, day=days)
    def cancel(self, child: str, day: date) -> None:
        with contextlib.suppress(CanteenError):
            self.canteen.reservations.cancel(ADMIN, self._enrollment_id(child), day)

    @rule(day=days, present=st.lists(st.booleans(), min_size=3, max_size=3))
    def roll_call(self, day: date, present: list[bool]) -> None:
        if day > self._today():
            return
        presences = {
            self._enrollment_id(child): Presence.PRESENT if here else Presence.ABSENT
            for child, here in zip(("alban", "zoe", "lea"), present, strict=True)
        }
        with contextlib.suppress(CanteenError):  # a closed day: nothing to record
            self.canteen.attendance.roll_call(ADMIN, day, presences)

    @rule(child=children, first=days, length=st.integers(min_value=0, max_value=6))
    def justify(self, child: str, first: date, length: int) -> None:
        last = min(first + timedelta(days=length), TERM_END)
        with contextlib.suppress(CanteenError):
            self.canteen.attendance.justify(ADMIN, self._enrollment_id(child), first, last)

    @precondition(lambda self: len(self.billed_months) < len(MONTHS))
    @rule()
    def end_month_and_bill(self) -> None:
        year, month = MONTHS[len(self.billed_months)]
        next_month = date(year + month // 12, month % 12 + 1, 2)
        self.clock.set(datetime(next_month.year, next_month.month, 2, 7, 0, tzinfo=UTC))
        self.canteen.billing.run_postpaid(FINANCE, f"{year}-{month:02d}")
        # Billing twice never invoices twice.
        before = self._snapshot()["invoices"]
        self.canteen.billing.run_postpaid(FINANCE, f"{year}-{month:02d}")
        assert self._snapshot()["invoices"] == before
        self.billed_months.add((year, month))
        self._invoiced_as_the_rules_charge()

    def _invoices(self) -> list[Invoice]:
        with self.canteen.context.storage.unit_of_work(read_only=True) as uow:
            return list(uow.invoices.list())

    def _invoiced_as_the_rules_charge(self) -> None:
        """Invoiced minus credited, per household and month, is what billing the days as
        they stand afresh (a copy of the database without invoices) gives."""
        with self.canteen.context.storage.unit_of_work(read_only=True) as uow:
            actual = _by_month(uow.invoices.list(), uow.credit_notes.list())
        copy = Path(self._folder.name) / "fresh"
        copy.mkdir(exist_ok=True)
        (copy / "canteen.db").unlink(missing_ok=True)
        with (
            contextlib.closing(sqlite3.connect(Path(self._folder.name) / "canteen.db")) as source,
            contextlib.closing(sqlite3.connect(copy / "canteen.db")) as target,
        ):
            source.backup(target)
            for table in ("credit_notes", "invoices", "invoice_counters"):
                target.execute(f"DELETE FROM {table}")
            target.commit()
        fresh_canteen = _canteen(copy, self.clock)
        try:
            for year, month in sorted(self.billed_months):
                fresh_canteen.billing.run_postpaid(FINANCE, f"{year}-{month:02d}")
            with fresh_canteen.context.storage.unit_of_work(read_only=True) as uow:
                fresh = _by_month(uow.invoices.list(), [])
        finally:
            fresh_canteen.close()
        # Only the months a household was invoiced for: régularisation reads those. A month
        # billed while the household had nothing to pay leaves no trace, so a day it is
        # charged for later (a roll call entered after the run) is never invoiced (#14,
        # open: the run would have to record whom it billed).
        invoiced = {(i.household_id, (i.period_start.year, i.period_start.month))
                    for i in self._invoices()}  # fmt: skip
        for key in sorted((set(actual) | set(fresh)) & invoiced):
            amount, lines = actual.get(key, (Decimal(0), 0))
            expected, fresh_lines = fresh.get(key, (Decimal(0), 0))
            slack = Decimal("0.01") * max(lines - fresh_lines, 0)
            assert abs(amount - expected) <= slack, (key, amount, expected)

    @rule(child=children, amount=amounts)
    def pay(self, child: str, amount: Decimal) -> None:
        payment = self.canteen.payments.record_payment(
            FINANCE, self._household(child), amount, "cash", received_on=self._today()
        )
        self.payment_ids.append(payment.id)

    @precondition(lambda self: bool(self.payment_ids))
    @rule(data=st.data())
    def reject_payment(self, data: st.DataObject) -> None:
        payment_id = data.draw(st.sampled_from(self.payment_ids))
        with contextlib.suppress(CanteenError):  # already rejected
            self.canteen.payments.reject_payment(FINANCE, payment_id, rejected_on=self._today())

    @rule(data=st.data(), amount=amounts)
    def credit_note(self, data: st.DataObject, amount: Decimal) -> None:
        with self.canteen.context.storage.unit_of_work() as uow:
            invoice_ids = sorted(i.id for i in uow.invoices.list())
        if not invoice_ids:
            return
        invoice_id = data.draw(st.sampled_from(invoice_ids))
        with contextlib.suppress(CanteenError):  # more than what remains of the invoice
            self.canteen.billing.issue_credit_note(
                FINANCE, invoice_id, reason="Geste commercial", amount=amount
            )

    @rule(child=children)
    def enroll_again_refused(self, child: str) -> None:
        """The same child enrolled twice to the same service over overlapping periods."""
        self._refused(
            lambda: self.canteen.enrollments.enroll(
                ADMIN,
                self._household(child),
                child,
                service=SERVICE,
                site=SITE,
                booking_policy=WEEKLY,
                school_year=2023,
            )
        )

    @rule(day=days)
    def another_family_books_a_child_not_theirs(self, day: date) -> None:
        self._refused(lambda: self.canteen.reservations.book(OTHER, "e-alban", day))

    @rule(amount=amounts)
    def negative_payment_refused(self, amount: Decimal) -> None:
        self._refused(
            lambda: self.canteen.payments.record_payment(FINANCE, "concerto", -amount, "cash")
        )

    @rule(child=children)
    def family_cannot_bill(self, child: str) -> None:
        self._refused(lambda: self.canteen.billing.run_postpaid(PAYER, "2023-09"))

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def no_day_charged_twice(self) -> None:
        with self.canteen.context.storage.unit_of_work() as uow:
            invoices = list(uow.invoices.list())
            notes = list(uow.credit_notes.list())
        charged: Counter[tuple[str | None, str, date]] = Counter()
        for invoice in invoices:
            for line in invoice.lines:
                if line.amount.amount <= 0:
                    continue  # a discount or a regularisation credit line
                for day in line.days:
                    charged[(line.child_id, line.service_id, day)] += 1
        credited: Counter[tuple[str | None, str, date]] = Counter()
        for note in notes:
            for key in note.credited_days():
                credited[key] += 1
        twice = {key: n for key, n in charged.items() if n - credited[key] > 1}
        assert not twice, f"days charged twice: {twice}"

    @invariant()
    def ledger_balances(self) -> None:
        for household_id in ("concerto", "voisins"):
            statement = self.canteen.billing.statement(FINANCE, household_id)
            with self.canteen.context.storage.unit_of_work() as uow:
                invoiced = sum(
                    (i.total.amount for i in uow.invoices.list(household_id=household_id)),
                    Decimal(0),
                )
                credited = sum(
                    (c.total.amount for c in uow.credit_notes.list(household_id=household_id)),
                    Decimal(0),
                )
                paid = sum(
                    (
                        p.amount.amount
                        for p in uow.payments.list(household_id=household_id)
                        if not p.is_rejected
                    ),
                    Decimal(0),
                )
                refunded = sum(
                    (r.amount.amount for r in uow.refunds.list(household_id=household_id)),
                    Decimal(0),
                )
            assert statement.invoiced.amount == invoiced
            assert statement.credited.amount == credited
            assert statement.net_balance.amount == invoiced - credited - paid + refunded

    @invariant()
    def numbers_are_gapless(self) -> None:
        with self.canteen.context.storage.unit_of_work() as uow:
            kinds = {
                "invoice": [i.number for i in uow.invoices.list()],
                "credit_note": [c.number for c in uow.credit_notes.list()],
            }
        for kind, numbers in kinds.items():
            by_year: dict[int, list[int]] = defaultdict(list)
            for text in numbers:
                year, number = parse_number(text, prefix=_prefix(text))
                by_year[year].append(number)
            for year, used in by_year.items():
                assert sorted(used) == list(range(1, len(used) + 1)), (kind, year, sorted(used))


def _by_month(
    invoices: Iterable[Invoice], notes: Iterable[CreditNote]
) -> dict[tuple[str, tuple[int, int]], tuple[Decimal, int]]:
    """Per (household, month of the days): the amount of the day-traced lines of
    ``invoices`` minus that of ``notes``, and how many lines made it (a line's days are in
    one month; lines without days, such as a goodwill credit, are left out)."""
    found: dict[tuple[str, tuple[int, int]], tuple[Decimal, int]] = {}
    documents = [(i.household_id, i.lines, 1) for i in invoices]
    documents += [(n.household_id, n.lines, -1) for n in notes]
    for household_id, lines, sign in documents:
        for line in lines:
            if not line.days:
                continue
            key = (household_id, (line.days[0].year, line.days[0].month))
            amount, count = found.get(key, (Decimal(0), 0))
            found[key] = (amount + sign * line.amount.amount, count + 1)
    return found


def _prefix(number: str) -> str:
    """What stands before the year of a printed number (``"AV-2023-000001"`` -> ``"AV-"``,
    ``"2023-000001"`` -> ``""``)."""
    found = re.fullmatch(r"(.*?)\d{4}-\d+", number)
    assert found is not None, number
    return found.group(1)


TestMoneyInvariants = MoneyMachine.TestCase
TestMoneyInvariants.settings = settings(
    max_examples=12,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
