# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Régularisation (#14 item 3): a change to a month already invoiced is charged or credited
by the household's next post-paid run, as dated, explained lines; the issued invoice never
changes; running again regularises nothing more. With ``[billing] billed_days = "refuse"``
such a change is refused and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from canteen_core.config.deployment import BilledDays, BillingSettings
from canteen_core.domain.attendance import Presence
from canteen_core.domain.calendar import Period
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.events import CreditNoteIssued
from canteen_core.domain.invoicing import Invoice
from canteen_core.domain.money import Money
from canteen_core.services import Canteen
from canteen_core.services.catalog import BilledClosureError

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    attend,
    book,
    justify,
    make_billing_canteen,
    open_days,
    priced_world,
    september,
)
from ._world import ADMIN, FINANCE, PAYER, World
from .conftest import EventRecorder

REFUSED = r"^Le mois de septembre 2023 est déjà facturé"
#: Thursday 2 November 2023, 08:00 in Paris: October is over.
NOVEMBER = datetime(2023, 11, 2, 7, 0, tzinfo=UTC)
#: Monday 4 December 2023: November is over.
DECEMBER = datetime(2023, 12, 4, 7, 0, tzinfo=UTC)


def _invoice(canteen: Canteen, household_id: str, month: int) -> Invoice:
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        (found,) = [
            i
            for i in uow.invoices.list(household_id=household_id)
            if i.period_start == date(2023, month, 1)
        ]
    return found


def _billed_september(world: World, clock: FixedClock) -> tuple[list[date], Invoice]:
    """Alban booked and present on his first five September days, billed on 2 October."""
    days = september(world.alban)[:5]
    book(world.canteen, world.alban, days)
    attend(world.canteen, world.alban, dict.fromkeys(days, Presence.PRESENT))
    clock.set(BILLING_DAY)
    world.canteen.billing.run_postpaid(FINANCE, "2023-09")
    return days, _invoice(world.canteen, "concerto", 9)


def test_a_billed_day_cancelled_is_credited_by_the_next_run(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    days, invoice = _billed_september(any_bworld, clock)
    cancelled = days[2]
    book(canteen, any_bworld.alban, (), cancel=[cancelled])
    attend(canteen, any_bworld.alban, {cancelled: Presence.ABSENT})
    clock.set(NOVEMBER)
    report = canteen.billing.run_postpaid(FINANCE, "2023-10")
    (note,) = report.credit_notes
    assert note.invoice_id == invoice.id
    (line,) = note.lines
    assert line.days == (cancelled,)
    assert line.child_id == "alban"
    assert line.description == (
        f"Régularisation septembre : {cancelled:%d/%m} annulé – Restauration scolaire"
    )
    assert note.total == invoice.lines[0].unit_price
    assert _invoice(canteen, "concerto", 9) == invoice  # never modified


def test_an_extra_day_eaten_after_billing_is_charged_on_the_next_invoice(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    _, invoice = _billed_september(any_bworld, clock)
    extra = september(any_bworld.alban)[6]
    book(canteen, any_bworld.alban, [extra])
    attend(canteen, any_bworld.alban, {extra: Presence.PRESENT})
    october = open_days(any_bworld.alban, date(2023, 10, 2), date(2023, 10, 3))
    book(canteen, any_bworld.alban, october)
    clock.set(NOVEMBER)
    report = canteen.billing.run_postpaid(FINANCE, "2023-10")
    assert report.credit_notes == ()
    new = _invoice(canteen, "concerto", 10)
    regular = [line for line in new.lines if line.description.startswith("Régularisation")]
    (line,) = regular
    assert line.days == (extra,)
    assert line.description.startswith(f"Régularisation septembre : {extra:%d/%m} repas pris")
    assert line.unit_price == invoice.lines[0].unit_price
    assert sum(line.quantity for line in new.lines) == len(october) + 1


def test_a_new_tariff_category_applies_from_then_on_not_to_billed_days(
    any_bworld: World, clock: FixedClock
) -> None:
    """A child moving to another category (a PAI basket from October) is billed in it from the
    change on; September, invoiced in the old one, is neither credited nor charged again, and
    a September day eaten after billing is charged in the category September was billed in."""
    canteen = any_bworld.canteen
    _, invoice = _billed_september(any_bworld, clock)
    extra = september(any_bworld.alban)[6]
    book(canteen, any_bworld.alban, [extra])
    attend(canteen, any_bworld.alban, {extra: Presence.PRESENT})
    canteen.enrollments.amend(ADMIN, any_bworld.alban.id, tariff_category="pai_basket")
    october = open_days(any_bworld.alban, date(2023, 10, 2), date(2023, 10, 3))
    book(canteen, any_bworld.alban, october)
    clock.set(NOVEMBER)
    report = canteen.billing.run_postpaid(FINANCE, "2023-10")
    assert report.credit_notes == ()
    new = _invoice(canteen, "concerto", 10)
    (earlier,) = [line for line in new.lines if line.description.startswith("Régularisation")]
    assert (earlier.days, earlier.category) == ((extra,), invoice.lines[0].category)
    assert earlier.unit_price == invoice.lines[0].unit_price
    (basket,) = [line for line in new.lines if line is not earlier]
    assert (basket.category, basket.unit_price) == ("pai_basket", Money.of("1.50"))
    assert basket.quantity == len(october)
    clock.set(DECEMBER)
    assert canteen.billing.run_postpaid(FINANCE, "2023-11").credit_notes == ()


def test_an_absence_justified_after_billing_is_credited(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    days = september(any_bworld.alban)[:4]
    book(canteen, any_bworld.alban, days)
    attend(canteen, any_bworld.alban, dict.fromkeys(days[2:], Presence.ABSENT))
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09")
    invoice = _invoice(canteen, "concerto", 9)
    assert sum(line.quantity for line in invoice.lines) == 4  # unjustified absences are due
    justify(canteen, any_bworld.alban, days[2], days[3])
    clock.set(NOVEMBER)
    (note,) = canteen.billing.run_postpaid(FINANCE, "2023-10").credit_notes
    # The first day of the illness is the carence day, still due; the second is credited.
    (line,) = note.lines
    assert line.days == (days[3],)
    assert "absence justifiée" in line.description


def test_running_again_regularises_nothing_more(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    days, _ = _billed_september(any_bworld, clock)
    book(canteen, any_bworld.alban, (), cancel=[days[0]])
    attend(canteen, any_bworld.alban, {days[0]: Presence.ABSENT})
    extra = september(any_bworld.alban)[7]
    book(canteen, any_bworld.alban, [extra])
    clock.set(NOVEMBER)
    first = canteen.billing.run_postpaid(FINANCE, "2023-10")
    assert len(first.credit_notes) == 1
    assert [i.household_id for i in first.issued] == ["concerto"]
    again = canteen.billing.run_postpaid(FINANCE, "2023-10")
    assert again.issued == ()
    assert again.credit_notes == ()
    clock.set(DECEMBER)
    later = canteen.billing.run_postpaid(FINANCE, "2023-11")
    assert later.issued == ()
    assert later.credit_notes == ()
    assert later.total == Money.of("0.00")


@pytest.fixture
def refusing(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[Canteen]:
    settings = BillingSettings(billed_days=BilledDays.REFUSE)
    with make_billing_canteen(
        "sqlite", request, tmp_path, clock, recorder, billing=settings
    ) as built:
        yield built


def test_refuse_setting_refuses_changes_to_a_billed_month(
    refusing: Canteen, clock: FixedClock
) -> None:
    world = priced_world(refusing)
    days, invoice = _billed_september(world, clock)
    before = refusing.reservations.book_of(ADMIN, world.alban.id)
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.reservations.cancel(ADMIN, world.alban.id, days[0])
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.reservations.book(ADMIN, world.alban.id, september(world.alban)[8])
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.attendance.record(ADMIN, world.alban.id, days[1], Presence.ABSENT)
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.attendance.justify(ADMIN, world.alban.id, days[1], days[2])
    assert refusing.reservations.book_of(ADMIN, world.alban.id) == before
    records = refusing.attendance.records(
        ADMIN, enrollment_id=world.alban.id, start=date(2023, 9, 1), end=date(2023, 9, 30)
    )
    assert {r.presence for r in records} == {Presence.PRESENT}
    # October is not billed: it may still change.
    october = open_days(world.alban, date(2023, 10, 2), date(2023, 10, 2))
    assert refusing.reservations.book(ADMIN, world.alban.id, october[0]).booked == (october[0],)
    assert _invoice(refusing, "concerto", 9) == invoice


def test_refuse_setting_refuses_a_closure_dropping_a_billed_day(
    refusing: Canteen, clock: FixedClock
) -> None:
    world = priced_world(refusing)
    days, _ = _billed_september(world, clock)
    before = refusing.reservations.book_of(ADMIN, world.alban.id)
    strike = Period(name="Grève", first_day=days[0], last_day=days[0])
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.catalog.close_site(ADMIN, world.alban.site.id, strike)
    assert refusing.reservations.book_of(ADMIN, world.alban.id) == before
    assert refusing.catalog.site(ADMIN, world.alban.site.id).closures == ()
    assert refusing.enrollments.get(ADMIN, world.alban.id).closure(days[0]) is None


def test_refuse_setting_refuses_approving_a_change_to_a_billed_day(
    refusing: Canteen, clock: FixedClock
) -> None:
    world = priced_world(refusing)
    days = september(world.alban)[:5]
    book(refusing, world.alban, days)
    # Asked on 1 September, after the deadline for the week of the 4th: pending.
    asked = refusing.reservations.cancel(PAYER, world.alban.id, days[0])
    (request,) = refusing.reservations.pending_requests(ADMIN)
    assert [r.day for r in asked.pending] == [days[0]]
    attend(refusing, world.alban, dict.fromkeys(days, Presence.PRESENT))
    clock.set(BILLING_DAY)
    refusing.billing.run_postpaid(FINANCE, "2023-09")
    before = refusing.reservations.book_of(ADMIN, world.alban.id)
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.reservations.decide(ADMIN, request.id, approve=True)
    assert refusing.reservations.book_of(ADMIN, world.alban.id) == before
    assert [r.id for r in refusing.reservations.pending_requests(ADMIN)] == [request.id]
    refusing.reservations.decide(ADMIN, request.id, approve=False, reason="Mois facturé")


def test_every_credit_note_is_announced_the_same_way(
    any_bworld: World, clock: FixedClock, recorder: EventRecorder
) -> None:
    """A régularisation credit note emits CreditNoteIssued and e-mails the family, as one
    issued by the finance office does."""
    canteen = any_bworld.canteen
    days, invoice = _billed_september(any_bworld, clock)
    book(canteen, any_bworld.alban, (), cancel=[days[2]])
    attend(canteen, any_bworld.alban, {days[2]: Presence.ABSENT})
    clock.set(NOVEMBER)
    (regularised,) = canteen.billing.run_postpaid(FINANCE, "2023-10").credit_notes
    manual = canteen.billing.issue_credit_note(
        FINANCE, invoice.id, reason="Geste commercial", amount=Money.of("1.00")
    )
    events = recorder.of(CreditNoteIssued)
    assert [(e.credit_note_id, e.invoice_number, e.reason) for e in events] == [
        (regularised.id, invoice.number, "Régularisation"),
        (manual.id, invoice.number, "Geste commercial"),
    ]
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        mails = [r.message for r in uow.outbox.records() if r.message.kind == "credit-note-issued"]
    assert sorted(m.to_address for m in mails) == sorted(
        ["maman@concerto.fr", "papa@concerto.fr"] * 2
    )
    assert any(f"Avoir n° {regularised.number}" in m.subject for m in mails)


# -- a site closure over days already invoiced: the operator is told, and confirms ---------------


def _all_billed_september(world: World, clock: FixedClock) -> list[date]:
    """The three children booked and present on their first five September days, billed."""
    days = september(world.alban)[:5]
    for enrollment in (world.alban, world.zoe, world.lea):
        book(world.canteen, enrollment, days)
        attend(world.canteen, enrollment, dict.fromkeys(days, Presence.PRESENT))
    clock.set(BILLING_DAY)
    world.canteen.billing.run_postpaid(FINANCE, "2023-09")
    return days


def test_a_closure_over_billed_days_says_what_the_next_run_credits(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    days = _all_billed_september(any_bworld, clock)
    site = any_bworld.alban.site.id
    strike = Period(name="Grève", first_day=days[1], last_day=days[2])
    before = (
        canteen.catalog.site(ADMIN, site),
        [canteen.reservations.book_of(ADMIN, e.id) for e in (any_bworld.alban, any_bworld.lea)],
        len(canteen.accounts.outbox(ADMIN)),
    )
    preview = canteen.catalog.preview_closure(ADMIN, site, strike)
    assert preview.cancelled_count == 6
    assert preview.billed.count == 6
    assert preview.billed.household_ids == ("concerto", "voisins")
    numbers = (_invoice(canteen, "concerto", 9).number, _invoice(canteen, "voisins", 9).number)
    assert preview.billed.invoice_numbers == tuple(sorted(numbers))
    assert preview.billed.months == (date(2023, 9, 1),)
    assert preview.billed.summary_fr == (
        "6 repas déjà facturés (2 familles, factures de septembre 2023) seront crédités à la "
        "prochaine facturation"
    )
    # Unconfirmed, the closure is refused with that line, and nothing changes.
    with pytest.raises(BilledClosureError) as refused:
        canteen.catalog.add_closure(ADMIN, site, strike)
    assert str(refused.value) == (
        "fermeture non enregistrée : 6 repas déjà facturés (2 familles, factures de septembre "
        "2023) seront crédités à la prochaine facturation ; confirmez pour fermer quand même"
    )
    after = (
        canteen.catalog.site(ADMIN, site),
        [canteen.reservations.book_of(ADMIN, e.id) for e in (any_bworld.alban, any_bworld.lea)],
        len(canteen.accounts.outbox(ADMIN)),
    )
    assert after == before
    # Confirmed: done, and the next run credits exactly the days announced.
    closure = canteen.catalog.add_closure(ADMIN, site, strike, credit_billed=True)
    assert closure.billed == preview.billed
    assert dict(closure.cancelled) == {
        e.id: (days[1], days[2]) for e in (any_bworld.alban, any_bworld.zoe, any_bworld.lea)
    }
    clock.set(NOVEMBER)
    report = canteen.billing.run_postpaid(FINANCE, "2023-10")
    credited = sorted(
        (note.household_id, line.child_id, day)
        for note in report.credit_notes
        for line in note.lines
        for day in line.days
    )
    announced = sorted(
        (item.household_id, item.enrollment_id.removeprefix("e-"), item.day)
        for item in closure.billed.days
    )
    assert credited == announced
    # Credited now: a second closure over the same days has nothing invoiced left to credit.
    again = canteen.catalog.preview_closure(ADMIN, site, strike)
    assert (again.cancelled_count, again.billed.count, again.billed.summary_fr) == (0, 0, "")


def test_a_closure_over_days_not_invoiced_needs_no_confirmation(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    _all_billed_september(any_bworld, clock)
    october = open_days(any_bworld.alban, date(2023, 10, 2), date(2023, 10, 3))
    book(canteen, any_bworld.alban, october)
    strike = Period(name="Grève", first_day=october[0], last_day=october[-1])
    closure = canteen.catalog.add_closure(ADMIN, any_bworld.alban.site.id, strike)
    assert dict(closure.cancelled) == {any_bworld.alban.id: tuple(october)}
    assert (closure.billed.count, closure.billed.summary_fr) == (0, "")


def test_close_site_keeps_its_answer_and_credits_as_before(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    days, invoice = _billed_september(any_bworld, clock)
    strike = Period(name="Grève", first_day=days[0], last_day=days[0])
    dropped = canteen.catalog.close_site(ADMIN, any_bworld.alban.site.id, strike)
    assert dropped == {any_bworld.alban.id: (days[0],)}
    clock.set(NOVEMBER)
    (note,) = canteen.billing.run_postpaid(FINANCE, "2023-10").credit_notes
    assert (note.invoice_id, [line.days for line in note.lines]) == (invoice.id, [(days[0],)])


# -- an enrollment ended earlier, over days already invoiced -------------------------------------


def test_an_enrollment_ended_over_billed_days_says_what_the_next_run_credits(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    days, invoice = _billed_september(any_bworld, clock)
    billed = canteen.enrollments.billed_after(ADMIN, any_bworld.alban.id, days[2])
    assert [item.day for item in billed.days] == days[3:]
    assert billed.invoice_numbers == (invoice.number,)
    assert billed.summary_fr == (
        "2 repas déjà facturés (1 famille, facture de septembre 2023) seront crédités à la "
        "prochaine facturation"
    )
    assert canteen.enrollments.billed_after(ADMIN, any_bworld.alban.id, days[-1]).count == 0
    canteen.enrollments.end_on(ADMIN, any_bworld.alban.id, days[2])
    clock.set(NOVEMBER)
    (note,) = canteen.billing.run_postpaid(FINANCE, "2023-10").credit_notes
    assert note.invoice_id == invoice.id
    assert sorted(day for line in note.lines for day in line.days) == days[3:]


def test_refuse_setting_refuses_ending_an_enrollment_over_a_billed_day(
    refusing: Canteen, clock: FixedClock
) -> None:
    world = priced_world(refusing)
    days, _ = _billed_september(world, clock)
    before = refusing.reservations.book_of(ADMIN, world.alban.id)
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.enrollments.end_on(ADMIN, world.alban.id, days[2])
    assert refusing.reservations.book_of(ADMIN, world.alban.id) == before
    assert refusing.enrollments.get(ADMIN, world.alban.id).end == world.alban.end
    # From October on, nothing billed is touched.
    ended = refusing.enrollments.end_on(ADMIN, world.alban.id, date(2023, 10, 20))
    assert ended.end == date(2023, 10, 20)


def test_refuse_setting_refuses_closing_or_ending_over_a_meal_billed_unbooked(
    refusing: Canteen, clock: FixedClock
) -> None:
    """A meal eaten without a booking, invoiced: no booking to drop, but the next run would
    credit it all the same, so with "refuse" the change is refused."""
    world = priced_world(refusing)
    days = september(world.alban)[:5]
    book(refusing, world.alban, days[:4])
    attend(refusing, world.alban, dict.fromkeys(days, Presence.PRESENT))
    clock.set(BILLING_DAY)
    refusing.billing.run_postpaid(FINANCE, "2023-09")
    eaten = Period(name="Grève", first_day=days[4], last_day=days[4])
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.catalog.add_closure(ADMIN, world.alban.site.id, eaten, credit_billed=True)
    assert refusing.catalog.site(ADMIN, world.alban.site.id).closures == ()
    with pytest.raises(RuleViolationError, match=REFUSED):
        refusing.enrollments.end_on(ADMIN, world.alban.id, days[3])
    assert refusing.enrollments.get(ADMIN, world.alban.id).end == world.alban.end
