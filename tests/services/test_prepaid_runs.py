# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""The staff's prepaid billing run (``BillingService.run_prepaid``): every household's basket
of a month invoiced as ``invoice_basket`` would, cancellation credits first, one household's
failure reported without stopping the others, and running it again issues nothing new."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canteen_core.config.deployment import BillingMode
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.money import Money
from canteen_core.services import Canteen
from canteen_core.services.billing import BasketInvoices

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    book,
    make_billing_canteen,
    memory_billing_canteen,
    memory_bworld,
    priced_world,
    september,
)
from ._world import ADMIN, FINANCE, OTHER, PAYER, World
from .conftest import START, EventRecorder


@pytest.fixture
def prepaid(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[Canteen]:
    """A prepaid deployment in memory."""
    with make_billing_canteen(
        "memory", request, tmp_path, clock, recorder, mode=BillingMode.PREPAID
    ) as built:
        yield built


@pytest.fixture
def any_prepaid(
    any_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> Iterator[Canteen]:
    """A prepaid deployment on memory, SQLite and PostgreSQL."""
    with make_billing_canteen(
        any_backend, request, tmp_path, clock, recorder, mode=BillingMode.PREPAID
    ) as built:
        yield built


def _netted(canteen: Canteen, household_id: str) -> Counter[tuple[str | None, date]]:
    """(child, day) -> times invoiced minus times credited, over the household's documents."""
    counts: Counter[tuple[str | None, date]] = Counter()
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        for invoice in uow.invoices.list(household_id=household_id):
            for line in invoice.lines:
                counts.update((line.child_id, day) for day in line.days)
        for note in uow.credit_notes.list(household_id=household_id):
            counts.subtract((child, day) for child, _, day in note.credited_days())
    return +counts


def test_a_prepaid_run_invoices_every_basket_once(any_prepaid: Canteen) -> None:
    prepaid = any_prepaid
    world = priced_world(prepaid)
    days = september(world.alban)[:4]  # 4, 5, 7, 8 September
    book(prepaid, world.alban, days)
    report = prepaid.billing.run_prepaid(FINANCE, "2023-09")
    assert [(i.household_id, i.number, i.total) for i in report.issued] == [
        ("concerto", "2023-000001", Money.of("12.20"))  # 4 x 3.05, as invoice_basket bills
    ]
    assert report.without_charges == ("voisins",)  # enrolled, nothing booked
    assert report.skipped == ()
    assert report.credit_notes == ()
    invoice = prepaid.billing.invoice(FINANCE, report.issued[0].invoice_id).invoice
    assert invoice.label == "SEPTEMBRE 2023"
    assert invoice.issue_date == date(2023, 9, 1)  # invoiced in advance, month not over
    # Idempotent: nothing new.
    again = prepaid.billing.run_prepaid(FINANCE, "2023-09")
    assert again.issued == ()
    assert again.credit_notes == ()
    assert again.already_billed == ("concerto",)
    # The family's own validation then finds nothing left to invoice either.
    assert prepaid.billing.invoice_basket(PAYER, "concerto", "2023-09") is None


def test_a_prepaid_run_credits_cancellations_then_invoices_new_days(
    any_prepaid: Canteen,
) -> None:
    prepaid = any_prepaid
    world = priced_world(prepaid)
    days = september(world.alban)[:6]
    book(prepaid, world.alban, days[:4])
    first = prepaid.billing.invoice_basket(PAYER, "concerto", "2023-09")
    assert first is not None
    book(prepaid, world.alban, days[4:], cancel=[days[0]], late_cancel=[days[1]])
    report = prepaid.billing.run_prepaid(FINANCE, "2023-09", household_ids=["concerto"])
    assert [(n.invoice_id, n.total) for n in report.credit_notes] == [
        (first.id, Money.of("3.05"))  # the late cancellation stays billed
    ]
    assert [i.total for i in report.issued] == [Money.of("6.10")]
    assert report.without_charges == ()  # the subset only
    assert _netted(prepaid, "concerto") == Counter({("alban", d): 1 for d in days[1:]})


def test_one_household_that_cannot_be_priced_does_not_stop_the_others(prepaid: Canteen) -> None:
    world = priced_world(prepaid)
    voisins = prepaid.families.get(ADMIN, "voisins")
    # The grid does not price non-resident children.
    prepaid.families.save_household(ADMIN, attrs.evolve(voisins, resident=False))
    book(prepaid, world.alban, september(world.alban)[:2])
    book(prepaid, world.lea, september(world.lea)[:2])
    report = prepaid.billing.run_prepaid(FINANCE, "2023-09")
    assert [i.household_id for i in report.issued] == ["concerto"]
    assert [(s.household_id, s.reason) for s in report.skipped] == [
        (
            "voisins",
            "la grille tarifaire « rs-2023 » du service « Restauration scolaire » ne tarife pas "
            "la catégorie « non_resident_child » de l'inscription e-lea (enfant lea) : "
            "complétez la grille ou corrigez l'inscription",
        )
    ]
    assert prepaid.billing.statement(FINANCE, "voisins").invoices == ()
    # The family validating its basket is told the same, in French, and nothing is stored.
    with pytest.raises(RuleViolationError, match="ne tarife pas"):
        prepaid.billing.invoice_basket(OTHER, "voisins", "2023-09")
    # Fixed: running the month again invoices the skipped household only.
    prepaid.families.save_household(ADMIN, attrs.evolve(voisins, resident=True))
    again = prepaid.billing.run_prepaid(FINANCE, "2023-09")
    assert [(i.household_id, i.number) for i in again.issued] == [("voisins", "2023-000002")]
    assert again.already_billed == ("concerto",)


def test_bad_calls_are_refused_before_anything_is_written(
    prepaid: Canteen, memory_world: World
) -> None:
    world = priced_world(prepaid)
    book(prepaid, world.alban, september(world.alban)[:2])
    with pytest.raises(InvalidInputError):
        prepaid.billing.run_prepaid(FINANCE, "2023-13")
    with pytest.raises(NotFoundError):
        prepaid.billing.run_prepaid(FINANCE, "2023-09", household_ids=["concerto", "nobody"])
    with pytest.raises(NotAuthorizedError):
        prepaid.billing.run_prepaid(PAYER, "2023-09")
    assert prepaid.billing.statement(FINANCE, "concerto").invoices == ()
    # A post-paid deployment bills with run_postpaid.
    with pytest.raises(RuleViolationError, match="post-paiement"):
        memory_world.canteen.billing.run_prepaid(FINANCE, "2023-09")


# -- the invariant ------------------------------------------------------------------------------

_STEP = st.one_of(
    st.tuples(st.just("book"), st.sets(st.integers(0, 15), max_size=6)),
    st.tuples(st.just("cancel"), st.sets(st.integers(0, 15), max_size=4)),
    st.tuples(st.just("late_cancel"), st.sets(st.integers(0, 15), max_size=2)),
    st.tuples(st.just("run"), st.just(frozenset[int]())),
    st.tuples(st.just("validate"), st.just(frozenset[int]())),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(_STEP, max_size=8))
def test_each_booked_day_is_invoiced_exactly_once_net_of_credits(
    tmp_path: Path, steps: list[tuple[str, frozenset[int]]]
) -> None:
    """After any sequence of bookings, cancellations (in time or late), family validations and
    staff runs, a last run leaves each day invoiced exactly once net of credits when it is
    booked or was cancelled late after being invoiced, and not at all when cancelled in
    time."""
    clock = FixedClock(START)
    recorder = EventRecorder()
    with make_billing_canteen(
        "memory",
        None,  # type: ignore[arg-type]
        tmp_path,
        clock,
        recorder,
        mode=BillingMode.PREPAID,
    ) as canteen:
        world = priced_world(canteen)
        september_days = september(world.alban)
        invoiced: set[date] = set()  # days an invoice covered at some point
        late_kept: set[date] = set()  # invoiced, then cancelled after the deadline
        for kind, picks in steps:
            chosen = {september_days[i] for i in picks}
            current = set(canteen_book(canteen, world))
            if kind == "book":
                book(canteen, world.alban, chosen)
            elif kind == "cancel":
                book(canteen, world.alban, [], cancel=chosen & current)
            elif kind == "late_cancel":
                gone = chosen & current
                book(canteen, world.alban, [], late_cancel=gone)
                late_kept |= gone & invoiced
            elif kind == "run":
                canteen.billing.run_prepaid(FINANCE, "2023-09")
                invoiced |= current
            else:
                canteen.billing.invoice_basket(PAYER, "concerto", "2023-09")
                invoiced |= current
            # A day booked again is billed again only if it was credited: it counts as booked.
            late_kept -= set(canteen_book(canteen, world))
        canteen.billing.run_prepaid(FINANCE, "2023-09")
        booked = set(canteen_book(canteen, world))
        expected = Counter({("alban", day): 1 for day in booked | late_kept})
        assert _netted(canteen, "concerto") == expected
        assert canteen.billing.run_prepaid(FINANCE, "2023-09").issued == ()


def canteen_book(canteen: Canteen, world: World) -> list[date]:
    """Alban's booked days of September."""
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        return list(
            uow.reservations.load(world.alban.id).booked_days(date(2023, 9, 1), date(2023, 9, 30))
        )


# -- a family's validation ----------------------------------------------------------------------


def test_a_family_validation_invoices_the_basket_of_each_month_it_booked(
    prepaid: Canteen,
) -> None:
    world = priced_world(prepaid)
    wanted = {date(2023, 9, 25): True, date(2023, 9, 26): True, date(2023, 10, 2): True}
    result = prepaid.reservations.set_days(PAYER, world.alban.id, wanted)
    assert result.booked == tuple(wanted)
    done = prepaid.billing.invoice_validation(PAYER, world.alban.id, result.booked)
    assert [(i.label, i.total) for i in done.invoices] == [
        ("SEPTEMBRE 2023", Money.of("6.10")),
        ("OCTOBRE 2023", Money.of("3.05")),
    ]
    assert done.problems == ()
    # Validated again (nothing new): nothing issued.
    again = prepaid.billing.invoice_validation(PAYER, world.alban.id, result.booked)
    assert again.invoices == ()
    with pytest.raises(NotAuthorizedError):
        prepaid.billing.invoice_validation(OTHER, world.alban.id, result.booked)
    with pytest.raises(NotFoundError):
        prepaid.billing.invoice_validation(PAYER, "nowhere", result.booked)
    with pytest.raises(InvalidInputError) as refused:
        prepaid.billing.invoice_validation(PAYER, world.alban.id, ["2023-10-02"])  # type: ignore[list-item]
    assert refused.value.path == "booked[0]"
    with pytest.raises(InvalidInputError) as refused:
        prepaid.billing.invoice_validation(PAYER, "", result.booked)
    assert refused.value.path == "enrollment_id"


def test_a_validation_that_cannot_be_invoiced_keeps_the_booking_and_says_why(
    prepaid: Canteen,
) -> None:
    world = priced_world(prepaid)
    voisins = prepaid.families.get(ADMIN, "voisins")
    prepaid.families.save_household(ADMIN, attrs.evolve(voisins, resident=False))
    result = prepaid.reservations.set_days(OTHER, world.lea.id, {date(2023, 9, 25): True})
    done = prepaid.billing.invoice_validation(OTHER, world.lea.id, result.booked)
    assert done.invoices == ()
    assert done.problems == (
        "la facture SEPTEMBRE 2023 n'a pas pu être émise : la grille tarifaire « rs-2023 » du "
        "service « Restauration scolaire » ne tarife pas la catégorie « non_resident_child » de "
        "l'inscription e-lea (enfant lea) : complétez la grille ou corrigez l'inscription "
        "(vos réservations sont bien enregistrées)",
    )
    assert prepaid.reservations.book_of(OTHER, world.lea.id).is_booked(date(2023, 9, 25))


def test_a_postpaid_validation_invoices_nothing(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    result = canteen.reservations.set_days(PAYER, memory_bworld.alban.id, {date(2023, 9, 25): True})
    assert canteen.billing.invoice_validation(PAYER, memory_bworld.alban.id, result.booked) == (
        BasketInvoices()
    )
    assert canteen.billing.statement(FINANCE, "concerto").invoices == ()
