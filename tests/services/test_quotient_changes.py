# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""A family quotient applies from a date, never to what was already invoiced: recording one
over invoiced days is refused unless confirmed, an attestation CAF applies from the first day
not invoiced (the next post-paid run would otherwise credit the billed months in full and
charge them again at the new bracket)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canteen_core.config.deployment import BillingMode
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.families import FamilyQuotient
from canteen_core.domain.money import Money
from canteen_core.services import Canteen
from canteen_core.services.billing import BilledQuotientChangeError

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    book,
    make_billing_canteen,
    memory_billing_canteen,
    memory_bworld,
    open_days,
    priced_world,
    september,
)
from ._world import ADMIN, FINANCE, PAYER, World
from .conftest import START, EventRecorder
from .test_family_papers import pdf_bytes

D = date
#: The refusal for a quotient from a September day once September is invoiced.
SEPTEMBER_BILLED = (
    "septembre 2023 est déjà facturé (facture 2023-000001) : ce QF peut s'appliquer à "
    "partir du 01/10/2023, ou confirmez la refacturation"
)
NOVEMBER = BILLING_DAY.replace(month=11)


def _september_billed(world: World, clock: FixedClock) -> Money:
    book(world.canteen, world.alban, september(world.alban))  # 16 x 3.05 (QF 612.50)
    clock.set(BILLING_DAY)
    return world.canteen.billing.run_postpaid(FINANCE, "2023-09").total


def _quotient(value: str, valid_from: date, **changes: object) -> FamilyQuotient:
    return FamilyQuotient(value=Decimal(value), valid_from=valid_from, **changes)  # type: ignore[arg-type]


def _october_run(world: World, clock: FixedClock) -> tuple[Money, list[Money]]:
    """Bill October (two days booked) in November: its total and the credit notes' totals."""
    book(world.canteen, world.alban, open_days(world.alban, D(2023, 10, 2), D(2023, 10, 3)))
    clock.set(NOVEMBER)
    report = world.canteen.billing.run_postpaid(FINANCE, "2023-10")
    return report.total, [note.total for note in report.credit_notes]


def test_a_quotient_over_invoiced_days_is_refused_and_stores_nothing(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    assert _september_billed(any_bworld, clock) == Money.of("48.80")
    before = canteen.families.get(ADMIN, "concerto")
    for start in (D(2023, 9, 1), D(2023, 9, 20), D(2023, 1, 1)):  # 2023 typed for 2024
        with pytest.raises(BilledQuotientChangeError) as refused:
            canteen.families.set_family_quotient(FINANCE, "concerto", _quotient("450", start))
        assert str(refused.value) == SEPTEMBER_BILLED
        assert isinstance(refused.value, RuleViolationError)
    with pytest.raises(InvalidInputError, match="vrai ou faux"):
        canteen.families.set_family_quotient(
            FINANCE,
            "concerto",
            _quotient("450", D(2023, 9, 1)),
            reprice_billed="yes",  # type: ignore[arg-type]
        )
    assert canteen.families.get(ADMIN, "concerto") == before
    # Nothing moved: October is billed at the old bracket, September is not touched.
    assert _october_run(any_bworld, clock) == (Money.of("6.10"), [])


def test_a_whole_household_saved_follows_the_same_rule(
    any_bworld: World, clock: FixedClock
) -> None:
    """``save_household`` replaces the quotients with the rest: it cannot go round the rule."""
    canteen = any_bworld.canteen
    _september_billed(any_bworld, clock)
    before = canteen.families.get(ADMIN, "concerto")
    lowered = before.with_quotient(_quotient("450", D(2023, 9, 1)))
    with pytest.raises(BilledQuotientChangeError) as refused:
        canteen.families.save_household(ADMIN, lowered)
    assert str(refused.value) == SEPTEMBER_BILLED
    assert canteen.families.get(ADMIN, "concerto") == before
    renamed = attrs.evolve(before, payer=attrs.evolve(before.payer, first_name="Mamie"))
    assert canteen.families.save_household(ADMIN, renamed).payer.first_name == "Mamie"
    canteen.families.save_household(ADMIN, lowered, reprice_billed=True)
    assert canteen.families.get(ADMIN, "concerto").quotient_on(D(2023, 9, 4)) == Decimal(450)


def test_confirmed_the_next_run_reprices_the_invoiced_days(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    _september_billed(any_bworld, clock)
    canteen.families.set_family_quotient(
        FINANCE, "concerto", _quotient("450", D(2023, 9, 1)), reprice_billed=True
    )
    assert canteen.families.get(ADMIN, "concerto").quotient_on(D(2023, 9, 4)) == Decimal(450)
    # September credited in full and charged again at 1.00 (16 days), with October's two.
    assert _october_run(any_bworld, clock) == (Money.of("18.00"), [Money.of("48.80")])


def test_from_the_first_day_not_invoiced_or_unchanged_needs_no_confirmation(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    _september_billed(memory_bworld, clock)
    # The quotient in force recorded again (another source): no invoiced day changes price.
    canteen.families.set_family_quotient(
        FINANCE, "concerto", _quotient("612.50", D(2023, 9, 1), source="mairie")
    )
    canteen.families.set_family_quotient(FINANCE, "concerto", _quotient("450", D(2023, 10, 1)))
    household = canteen.families.get(ADMIN, "concerto")
    assert household.quotient_on(D(2023, 9, 29)) == Decimal("612.50")
    assert household.quotient_on(D(2023, 10, 2)) == Decimal(450)
    assert _october_run(memory_bworld, clock) == (Money.of("2.00"), [])


def test_credited_days_are_no_longer_invoiced(memory_bworld: World, clock: FixedClock) -> None:
    """A day an invoice billed and a credit note cancelled keeps no price: a quotient may
    apply to it."""
    canteen = memory_bworld.canteen
    days = september(memory_bworld.alban)
    book(canteen, memory_bworld.alban, days[:1])
    clock.set(BILLING_DAY)
    (issued,) = canteen.billing.run_postpaid(FINANCE, "2023-09").issued
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        invoice = uow.invoices.get(issued.invoice_id)
    canteen.billing.issue_credit_note(
        FINANCE, invoice.id, reason="Erreur de saisie", lines=invoice.lines
    )
    canteen.families.set_family_quotient(FINANCE, "concerto", _quotient("450", D(2023, 9, 1)))


def test_a_prepaid_basket_of_a_coming_month_is_invoiced_too(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    with make_billing_canteen(
        "memory", request, tmp_path, clock, recorder, mode=BillingMode.PREPAID
    ) as canteen:
        world = priced_world(canteen)
        book(canteen, world.alban, open_days(world.alban, D(2023, 11, 6), D(2023, 11, 10)))
        clock.set(BILLING_DAY)
        assert canteen.billing.invoice_basket(PAYER, "concerto", "2023-11") is not None
        with pytest.raises(
            BilledQuotientChangeError,
            match=r"^novembre 2023 est déjà facturé \(facture 2023-000001\) : ce QF peut "
            r"s'appliquer à partir du 01/12/2023",
        ):
            canteen.families.set_family_quotient(
                FINANCE, "concerto", _quotient("450", D(2023, 10, 20))
            )
        canteen.families.set_family_quotient(FINANCE, "concerto", _quotient("450", D(2023, 12, 1)))


# -- an attestation CAF ------------------------------------------------------------------------


def _attestation(canteen: Canteen, valid_from: date, valid_until: date | None = None) -> str:
    paper = canteen.papers.upload(
        PAYER,
        "concerto",
        kind="attestation_caf",
        content=pdf_bytes("Attestation CAF"),
        file_name="caf.pdf",
        issued_on=D(2023, 10, 5),
        valid_from=valid_from,
        valid_until=valid_until,
        family_quotient=Decimal("480"),
    )
    return paper.id


def test_an_attestation_applies_from_the_first_day_not_invoiced(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    _september_billed(any_bworld, clock)
    outcome = canteen.papers.accept(FINANCE, _attestation(canteen, D(2023, 9, 1)))
    assert outcome.quotient_from == D(2023, 10, 1)
    assert outcome.billed_until == D(2023, 9, 30)
    assert outcome.summary_fr == (
        "attestation acceptée : quotient familial 480 € à partir du 01/10/2023 "
        "(les jours facturés jusqu'au 30/09/2023 gardent leur prix)"
    )
    household = canteen.families.get(ADMIN, "concerto")
    assert household.quotient_on(D(2023, 9, 29)) == Decimal("612.50")
    assert household.quotient_on(D(2023, 10, 2)) == Decimal(480)
    assert _october_run(any_bworld, clock) == (Money.of("2.00"), [])


def test_an_attestation_whose_whole_validity_is_invoiced_records_nothing(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    _september_billed(memory_bworld, clock)
    before = canteen.families.get(ADMIN, "concerto")
    outcome = canteen.papers.accept(
        FINANCE, _attestation(canteen, D(2023, 9, 1), valid_until=D(2023, 9, 30))
    )
    assert outcome.family_quotient is None
    assert outcome.paper.status.value == "accepted"
    assert outcome.summary_fr == (
        "attestation acceptée : quotient familial 480 € non enregistré, sa période est déjà "
        "facturée (jusqu'au 30/09/2023)"
    )
    assert canteen.families.get(ADMIN, "concerto") == before


# -- for any date -----------------------------------------------------------------------------

_QUOTIENTS = st.builds(
    FamilyQuotient,
    value=st.sampled_from([Decimal(300), Decimal(612), Decimal(900)]),
    valid_from=st.dates(D(2023, 6, 1), D(2024, 3, 1)),
    valid_until=st.none() | st.dates(D(2024, 3, 2), D(2024, 9, 1)),
)


@given(
    existing=st.lists(_QUOTIENTS, max_size=3),
    new=_QUOTIENTS,
    free_from=st.dates(D(2023, 6, 1), D(2024, 9, 1)),
)
def test_a_quotient_moved_to_a_later_start_leaves_the_days_before_it_alone(
    existing: list[FamilyQuotient], new: FamilyQuotient, free_from: date
) -> None:
    """What :func:`unbilled_quotient` relies on: ``new`` recorded from a later day gives the
    days before that day the quotient they had, and the days from it the quotient ``new``
    recorded from its own start would give them."""
    from ._world import concerto

    household = concerto()
    for quotient in existing:
        household = household.with_quotient(quotient)
    start = max(free_from, new.valid_from)
    if new.valid_until is not None and start > new.valid_until:
        return
    moved = household.with_quotient(
        FamilyQuotient(value=new.value, valid_from=start, valid_until=new.valid_until)
    )
    wanted = household.with_quotient(new)
    day = D(2023, 5, 1)
    while day <= D(2024, 10, 1):
        expected = household if day < start else wanted
        assert moved.quotient_on(day) == expected.quotient_on(day), day
        day += timedelta(days=1)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(start=st.dates(D(2023, 1, 1), D(2023, 11, 30)), value=st.sampled_from(["450", "900"]))
def test_any_quotient_date_is_refused_or_reprices_no_invoiced_month(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
    start: date,
    value: str,
) -> None:
    """For any start date: the quotient is refused (nothing stored) when it would give an
    invoiced September day another quotient, else recorded; either way the next run issues
    no credit note (September keeps its price)."""
    clock.set(START)
    with make_billing_canteen("memory", request, tmp_path, clock, recorder) as canteen:
        world = priced_world(canteen)
        _september_billed(world, clock)
        last_billed = max(september(world.alban))
        before = canteen.families.get(ADMIN, "concerto")
        try:
            canteen.families.set_family_quotient(FINANCE, "concerto", _quotient(value, start))
        except BilledQuotientChangeError:
            assert start <= last_billed
            assert canteen.families.get(ADMIN, "concerto") == before
        else:
            assert start > last_billed
        assert _october_run(world, clock)[1] == []
