# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Billing through the facade: runs checked by hand against the grid, idempotence, batches,
concurrency, prepaid baskets, credit notes, statements, "MES FACTURES", reminders, arrears."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from canteen_core.config.deployment import BillingMode
from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import InvoiceIssued, InvoiceOverdue
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.invoicing import InvoiceTerms
from canteen_core.domain.money import Money
from canteen_core.domain.reminders import ArrearsRule
from canteen_core.domain.tariffs import FlatPricing, TariffCategory, TariffGrid
from canteen_core.services import Canteen
from canteen_core.services.billing import BillingOptions, parse_period, tariff_category_of

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    GRID,
    any_billing_canteen,
    any_bworld,
    attend,
    billing_canteen,
    book,
    bworld,
    justify,
    make_billing_canteen,
    memory_billing_canteen,
    memory_bworld,
    priced_world,
    september,
    shared_backend,
)
from ._world import (
    ADMIN,
    CO_REP,
    FINANCE,
    OTHER,
    PAYER,
    SERVICE,
    SITE,
    STAFF,
    SYSTEM,
    WEEKLY,
    World,
)
from .conftest import EventRecorder

D = date


def _september_activity(world: World) -> None:
    """Alban: every September day booked, present except the 12th (unjustified) and the 18th
    and 19th (medical certificate). Zoé: booked the 4th and 5th, ate without booking on the
    7th. Léa: four days booked, no attendance recorded."""
    canteen = world.canteen
    alban_days = september(world.alban)
    assert len(alban_days) == 16
    book(canteen, world.alban, alban_days)
    absent = {D(2023, 9, 12), D(2023, 9, 18), D(2023, 9, 19)}
    attend(
        canteen,
        world.alban,
        {day: Presence.ABSENT if day in absent else Presence.PRESENT for day in alban_days},
    )
    justify(canteen, world.alban, D(2023, 9, 18), D(2023, 9, 19))
    book(canteen, world.zoe, [D(2023, 9, 4), D(2023, 9, 5)])
    attend(
        canteen,
        world.zoe,
        {D(2023, 9, 4): "present", D(2023, 9, 5): "present", D(2023, 9, 7): "present"},
    )
    book(canteen, world.lea, [D(2023, 9, 4), D(2023, 9, 5), D(2023, 9, 7), D(2023, 9, 8)])


def test_postpaid_run_matches_the_grid_by_hand(
    any_bworld: World, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = any_bworld.canteen
    _september_activity(any_bworld)
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert [(i.household_id, i.number) for i in report.issued] == [
        ("concerto", "2023-000001"),
        ("voisins", "2023-000002"),
    ]
    # Alban (QF 612.50 -> 3.05): 13 meals + 1 unjustified absence + 1 carence day = 15 x 3.05
    # (the 19th, second day of the certificate, is free). Zoé, second child, half price:
    # 3.05 / 2 = 1.525 -> 1.53, twice; without booking 1.525 + 1.00 = 2.525 -> 2.53.
    concerto = canteen.billing.invoice(FINANCE, report.issued[0].invoice_id).invoice
    assert concerto.total == Money.of("51.34")
    lines = {(line.child_id, str(line.rule)): line for line in concerto.lines}
    assert lines[("alban", "present")].quantity == 13
    assert lines[("alban", "present")].unit_price == Money.of("3.05")
    assert lines[("alban", "absent_unjustified")].days == (D(2023, 9, 12),)
    assert lines[("alban", "justified_absence_carence")].days == (D(2023, 9, 18),)
    assert lines[("zoe", "present")].unit_price == Money.of("1.53")
    assert lines[("zoe", "unbooked_present")].amount == Money.of("2.53")
    assert all(D(2023, 9, 19) not in line.days for line in concerto.lines)
    assert concerto.label == "SEPTEMBRE 2023"
    assert concerto.issue_date == D(2023, 10, 2)
    assert concerto.due_date == D(2023, 11, 1)
    # Léa: no QF on file -> highest bracket 3.15, four booked days not recorded: 12.60.
    voisins = canteen.billing.invoice(FINANCE, report.issued[1].invoice_id).invoice
    assert voisins.total == Money.of("12.60")
    assert report.total == Money.of("63.94")
    # Events after commit, and the "facture disponible" emails in the outbox.
    issued = recorder.of(InvoiceIssued)
    assert {e.number for e in issued} == {"2023-000001", "2023-000002"}
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        kinds = [record.message.kind for record in uow.outbox.records()]
    assert kinds.count("invoice-issued") == 3  # payer + co-representative, and Léa's father


def test_rerunning_a_period_bills_nothing_new(bworld: World, clock: FixedClock) -> None:
    canteen = bworld.canteen
    _september_activity(bworld)
    clock.set(BILLING_DAY)
    first = canteen.billing.run_postpaid(FINANCE, "2023-09")
    again = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert first.count == 2
    assert again.count == 0
    assert set(again.already_billed) == {"concerto", "voisins"}
    statement = canteen.billing.statement(FINANCE, "concerto")
    assert len(statement.invoices) == 1


def test_runs_in_small_batches_keep_numbers_gapless(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    canteen.billing.options = attrs.evolve(canteen.billing.options, batch_size=1)
    for index in range(5):
        household = Household(
            id=f"h{index:02d}",
            payer=Guardian(id=f"g{index}", first_name="A", last_name=f"B{index}"),
            children=(
                Child(id=f"c{index}", first_name="C", last_name="D", birth_date=D(2016, 1, 1)),
            ),
        )
        canteen.families.create_household(ADMIN, household)
        enrollment = canteen.enrollments.enroll(
            ADMIN, household.id, f"c{index}", service=SERVICE, site=SITE,
            booking_policy=WEEKLY, school_year=2023, enrollment_id=f"e-c{index}",
        )  # fmt: skip
        book(canteen, enrollment, september(enrollment)[: index + 1])
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert report.batches == 7
    numbers = [item.number for item in report.issued]
    assert numbers == [f"2023-{n:06d}" for n in range(1, 8)]
    assert [i.household_id for i in report.issued][:1] == ["concerto"]
    # h00 booked one day at the highest bracket (no QF).
    h00 = next(i for i in report.issued if i.household_id == "h00")
    assert h00.total == Money.of("3.15")


def test_two_concurrent_runs_bill_each_household_once(
    shared_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> None:
    first = make_billing_canteen(shared_backend, request, tmp_path, clock, recorder)
    second = make_billing_canteen(shared_backend, request, tmp_path, clock, recorder)
    try:
        world = priced_world(first)
        _september_activity(world)
        clock.set(BILLING_DAY)
        reports = []
        errors: list[BaseException] = []

        def run(canteen: Canteen) -> None:
            try:
                reports.append(canteen.billing.run_postpaid(FINANCE, "2023-09"))
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        issued = [item for report in reports for item in report.issued]
        assert sorted(item.household_id for item in issued) == ["concerto", "voisins"]
        assert sorted(item.number for item in issued) == ["2023-000001", "2023-000002"]
        skipped = [h for report in reports for h in (*report.already_billed, *report.conflicts)]
        assert sorted(skipped) == ["concerto", "voisins"]
    finally:
        first.close()
        second.close()


def test_bad_input_leaves_data_unchanged(memory_bworld: World, clock: FixedClock) -> None:
    canteen = memory_bworld.canteen
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    for period in ("2023-13", "2023/09", "", "septembre"):
        with pytest.raises(InvalidInputError):
            canteen.billing.run_postpaid(FINANCE, period)
    with pytest.raises(NotFoundError):
        canteen.billing.run_postpaid(FINANCE, "2023-09", household_ids=["concerto", "nobody"])
    assert canteen.billing.statement(FINANCE, "concerto").invoices == ()
    with pytest.raises(InvalidInputError):
        canteen.billing.save_tariff_grid(ADMIN, attrs.evolve(GRID, id="overlap"))
    assert [g.id for g in canteen.billing.tariff_grids(FINANCE)] == ["rs-2023"]
    assert parse_period("2024-02") == (D(2024, 2, 1), D(2024, 2, 29))
    # A subset bills only the households named.
    report = canteen.billing.run_postpaid(FINANCE, "2023-09", household_ids=["voisins"])
    assert [i.household_id for i in report.issued] == ["voisins"]
    assert report.issued[0].number == "2023-000001"


def test_missing_grid_skips_the_household_and_consumes_no_number(
    memory_world: World, clock: FixedClock
) -> None:
    canteen = memory_world.canteen
    book(canteen, memory_world.lea, september(memory_world.lea)[:2])
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert report.issued == ()
    assert [(s.household_id, s.reason) for s in report.skipped] == [
        (
            "voisins",
            "aucune grille tarifaire du service « Restauration scolaire » ne couvre le "
            "4 septembre 2023 (enfant lea)",
        )
    ]
    assert canteen.billing.statement(FINANCE, "voisins").invoices == ()
    # The numbers were not consumed: the first invoice after fixing the grid is number 1.
    canteen.billing.save_tariff_grid(ADMIN, GRID)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert [i.number for i in report.issued] == ["2023-000001"]


def test_families_cannot_bill_or_see_other_households(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    for actor in (PAYER, CO_REP, STAFF):
        with pytest.raises(NotAuthorizedError):
            canteen.billing.run_postpaid(actor, "2023-09")
    with pytest.raises(NotAuthorizedError):
        canteen.billing.save_tariff_grid(PAYER, GRID)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    concerto_invoice = report.issued[0].invoice_id
    with pytest.raises(NotAuthorizedError):
        canteen.billing.statement(OTHER, "concerto")
    with pytest.raises(NotAuthorizedError):
        canteen.billing.invoices_page(OTHER, "concerto")
    with pytest.raises(NotAuthorizedError):
        canteen.billing.invoice(OTHER, concerto_invoice)
    with pytest.raises(NotAuthorizedError):
        canteen.billing.issue_credit_note(PAYER, concerto_invoice, reason="geste")
    assert canteen.billing.invoice(CO_REP, concerto_invoice).invoice.household_id == "concerto"
    assert [row.number for row in canteen.billing.invoices_page(OTHER, "voisins").rows] == [
        "2023-000002"
    ]


def test_invoices_page_statement_and_credit_note(memory_bworld: World, clock: FixedClock) -> None:
    canteen = memory_bworld.canteen
    canteen.billing.options = attrs.evolve(
        canteen.billing.options, terms=InvoiceTerms(payment_opens_after_days=3)
    )
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    page = canteen.billing.invoices_page(PAYER, "concerto")
    assert page.summary_fr == "Vous avez 1 facture non réglée"
    (row,) = page.rows
    assert (row.issue_date, row.due_date, row.total, row.balance_due) == (
        D(2023, 10, 2), D(2023, 11, 1), Money.of("51.34"), Money.of("51.34"),
    )  # fmt: skip
    assert row.payable_online_from == D(2023, 10, 5)
    assert row.online_payment_refusal is not None
    assert "05/10/2023" in row.online_payment_refusal
    assert row.status_label == "Facture non réglée"
    note = canteen.billing.issue_credit_note(
        FINANCE, report.issued[0].invoice_id, reason="Repas non servi", amount=Money.of("3.05")
    )
    assert note.number == "AV-2023-000001"
    statement = canteen.billing.statement(PAYER, "concerto")
    assert statement.balance_due == Money.of("48.29")
    assert [entry.kind for entry in statement.entries] == ["invoice", "credit_note"]
    # Crediting more than what remains is refused and stores nothing.
    with pytest.raises(RuleViolationError):
        canteen.billing.issue_credit_note(
            FINANCE, report.issued[0].invoice_id, reason="trop", amount=Money.of("60.00")
        )
    with pytest.raises(InvalidInputError):
        canteen.billing.issue_credit_note(FINANCE, report.issued[0].invoice_id, reason=" ")
    whole = canteen.billing.issue_credit_note(
        FINANCE, report.issued[0].invoice_id, reason="Annulation"
    )
    assert whole.total == Money.of("48.29")
    page = canteen.billing.invoices_page(PAYER, "concerto")
    assert page.summary_fr == "Vous n'avez aucune facture non réglée"
    assert page.rows[0].status == "cancelled"


def test_reminders_are_sent_once_per_level(
    memory_bworld: World, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = memory_bworld.canteen
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09")

    # Due 1 November: nothing on 10 November, level 1 from the 16th, level 2 from 1 December.
    def remind(day: date, actor: Actor = FINANCE) -> tuple[tuple[str, int], ...]:
        clock.set(datetime(day.year, day.month, day.day, 9, tzinfo=PARIS))
        return canteen.billing.run_reminders(actor, today=day).sent

    assert remind(D(2023, 11, 10)) == ()
    # A mistyped year is refused before anything is sent: nothing is overdue yet on the 10th.
    with pytest.raises(InvalidInputError, match="date future"):
        canteen.billing.run_reminders(FINANCE, today=D(2024, 11, 10))
    assert recorder.of(InvoiceOverdue) == []
    assert sorted(level for _, level in remind(D(2023, 11, 16))) == [1, 1]
    assert remind(D(2023, 11, 20)) == ()
    assert sorted(level for _, level in remind(D(2023, 12, 5), SYSTEM)) == [2, 2]
    assert remind(D(2024, 1, 5)) == ()
    assert len(recorder.of(InvoiceOverdue)) == 4
    with pytest.raises(NotAuthorizedError):
        canteen.billing.run_reminders(PAYER)


def test_arrears_rule_blocks_new_bookings(memory_bworld: World, clock: FixedClock) -> None:
    canteen = memory_bworld.canteen
    canteen.billing.options = attrs.evolve(
        canteen.billing.options, arrears_rule=ArrearsRule(threshold=Money.of("20.00"))
    )
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert canteen.billing.booking_block_reason(PAYER, "concerto") is None  # not overdue yet
    clock.set(datetime(2023, 11, 6, 8, 0, tzinfo=UTC))
    reason = canteen.billing.booking_block_reason(PAYER, "concerto")
    assert reason is not None
    assert "51,34" in reason
    assert canteen.billing.booking_block_reason(OTHER, "voisins") is None  # 12.60 <= 20.00
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        with pytest.raises(RuleViolationError):
            canteen.billing.ensure_bookings_allowed(uow, "concerto")
        canteen.billing.ensure_bookings_allowed(uow, "voisins")


def test_prepaid_basket_then_cancellation_credit(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = make_billing_canteen(
        "memory", request, tmp_path, clock, recorder, mode=BillingMode.PREPAID
    )
    with canteen:
        world = priced_world(canteen)
        days = september(world.alban)[:4]  # 4, 5, 7, 8 September
        book(canteen, world.alban, days)
        with pytest.raises(RuleViolationError):
            canteen.billing.run_postpaid(FINANCE, "2023-09")
        invoice = canteen.billing.invoice_basket(PAYER, "concerto", "2023-09")
        assert invoice is not None
        assert invoice.label == "SEPTEMBRE 2023"
        assert invoice.total == Money.of("12.20")  # 4 x 3.05
        assert canteen.billing.invoice_basket(PAYER, "concerto", "2023-09") is None
        with pytest.raises(NotAuthorizedError):
            canteen.billing.invoice_basket(OTHER, "concerto", "2023-09")
        # Two more days booked: a second basket bills only them.
        more = september(world.alban)[4:6]
        book(canteen, world.alban, more)
        second = canteen.billing.invoice_basket(PAYER, "concerto", "2023-09")
        assert second is not None
        assert second.total == Money.of("6.10")
        # One day cancelled in time, one after the deadline: only the first is credited.
        book(canteen, world.alban, [], cancel=[days[0]], late_cancel=[days[1]])
        notes = canteen.billing.credit_cancellations(PAYER, "concerto", "2023-09")
        assert [(n.invoice_id, n.total) for n in notes] == [(invoice.id, Money.of("3.05"))]
        assert canteen.billing.credit_cancellations(PAYER, "concerto", "2023-09") == []
        assert canteen.billing.statement(PAYER, "concerto").balance_due == Money.of("15.25")


def test_enrollment_categories_map_to_grid_categories(memory_world: World) -> None:
    assert tariff_category_of(memory_world.alban) is TariffCategory.RESIDENT_CHILD
    pai = attrs.evolve(memory_world.zoe, tariff_category="pai")
    assert tariff_category_of(pai) is TariffCategory.PAI_BASKET
    with pytest.raises(InvalidInputError):
        tariff_category_of(attrs.evolve(memory_world.zoe, tariff_category="vip"))
    flat = TariffGrid(
        id="flat",
        service_id="other",
        valid_from=D(2023, 9, 1),
        prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of(Decimal("2.00"))},
    )
    assert BillingOptions().batch_size == 200
    assert flat.id == "flat"


def test_duplicate_billing_key_is_refused_by_storage(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    with canteen.context.storage.unit_of_work() as uow:
        invoice = uow.invoices.get(report.issued[0].invoice_id)
        with pytest.raises(ConflictError):
            uow.invoices.add(attrs.evolve(invoice, id="invoice:RONDE:copy", number="2023-999999"))


def test_carence_is_not_charged_again_when_an_illness_spans_two_months(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    alban = memory_bworld.alban
    days = [*september(alban), *alban.open_days(D(2023, 10, 1), D(2023, 10, 31))]
    book(canteen, alban, days)
    ill = {D(2023, 9, 28), D(2023, 9, 29), D(2023, 10, 2), D(2023, 10, 3)}
    attend(canteen, alban, {day: "absent" if day in ill else "present" for day in days})
    justify(canteen, alban, D(2023, 9, 28), D(2023, 10, 3))
    clock.set(BILLING_DAY)
    sept = canteen.billing.run_postpaid(FINANCE, "2023-09", household_ids=["concerto"])
    lines = canteen.billing.invoice(FINANCE, sept.issued[0].invoice_id).invoice.lines
    assert [line.days for line in lines if str(line.rule) == "justified_absence_carence"] == [
        (D(2023, 9, 28),)
    ]
    clock.set(datetime(2023, 11, 2, 8, 0, tzinfo=UTC))
    october = canteen.billing.run_postpaid(FINANCE, "2023-10", household_ids=["concerto"])
    invoice = canteen.billing.invoice(FINANCE, october.issued[0].invoice_id).invoice
    assert all(str(line.rule) == "present" for line in invoice.lines)
    october_days = len(alban.open_days(D(2023, 10, 1), D(2023, 10, 31)))
    assert invoice.total == Money.of("3.05") * (october_days - 2)
    assert invoice.number == "2023-000002"


def test_a_duplicate_key_at_insert_is_skipped_and_its_number_reused(
    memory_bworld: World, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from canteen_adapters.storage import memory

    canteen = memory_bworld.canteen
    _september_activity(memory_bworld)
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09", household_ids=["concerto"])
    # As if a concurrent run committed concerto's invoice after we looked at the keys.
    monkeypatch.setattr(memory._Invoices, "billed_keys", lambda self, keys: frozenset())
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert report.conflicts == ("concerto",)
    assert [(i.household_id, i.number) for i in report.issued] == [("voisins", "2023-000002")]
    assert len(canteen.billing.statement(FINANCE, "concerto").invoices) == 1


def test_statements_and_invoices_pages_of_many_households_match_one_by_one(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    _september_activity(any_bworld)
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    canteen.billing.issue_credit_note(
        FINANCE, report.issued[0].invoice_id, reason="Repas non servi", amount=Money.of("3.05")
    )
    ids = [h.id for h in canteen.families.list_households(ADMIN)]
    assert len(ids) >= 2
    wanted = [*reversed(ids), ids[0]]  # order kept, duplicates once
    statements = canteen.billing.statements(FINANCE, wanted)
    assert list(statements) == list(reversed(ids))
    assert statements == {hid: canteen.billing.statement(FINANCE, hid) for hid in ids}
    pages = canteen.billing.invoices_pages(FINANCE, ids)
    assert pages == {hid: canteen.billing.invoices_page(FINANCE, hid) for hid in ids}
    assert sum(len(page.rows) for page in pages.values()) == report.count
    # A family reads its own households only; bad input and unknown households are refused.
    assert canteen.billing.statements(PAYER, ["concerto"]) == {
        "concerto": canteen.billing.statement(PAYER, "concerto")
    }
    with pytest.raises(NotAuthorizedError):
        canteen.billing.invoices_pages(PAYER, ids)
    with pytest.raises(NotFoundError):
        canteen.billing.statements(FINANCE, ["concerto", "nowhere"])
    for bad in ("concerto", ["concerto", ""], 42):
        with pytest.raises(InvalidInputError):
            canteen.billing.statements(FINANCE, bad)  # type: ignore[arg-type]
    assert canteen.billing.statements(FINANCE, []) == {}


def test_a_book_s_remembered_quotes_equal_the_grid_s() -> None:
    from canteen_core.domain.families import FamilyQuotient
    from canteen_core.domain.tariffs import TariffBook

    from ._world import concerto

    book = TariffBook(grids=(GRID,))
    homes = [
        attrs.evolve(
            concerto(),
            quotients=(FamilyQuotient(value=qf, valid_from=D(2023, 9, 1)),),
        )
        for qf in ("300", "612.50", "2400")
    ]
    quotes: list[object] = []
    for home in (*homes, attrs.evolve(homes[0], quotients=())):
        for rank in (1, 2, 3):
            for day in (D(2023, 9, 4), D(2023, 9, 5)):
                for _ in range(2):  # the second quote comes from the book's memory
                    quotes.append(
                        book.quote(
                            service_id=GRID.service_id,
                            day=day,
                            category=TariffCategory.RESIDENT_CHILD,
                            household=home,
                            sibling_rank=rank,
                        )
                    )
                fresh = GRID.quote(
                    TariffCategory.RESIDENT_CHILD, home.quotient_on(day), sibling_rank=rank
                )
                assert quotes[-2] == quotes[-1] == fresh
    assert len({str(q) for q in quotes}) > 4  # prices differ by QF and rank
    with pytest.raises(InvalidInputError):
        book.quote(
            service_id=GRID.service_id,
            day="2023-09-04",  # type: ignore[arg-type]
            category=TariffCategory.RESIDENT_CHILD,
            household=homes[0],
        )
    with pytest.raises(NotFoundError):
        book.quote(
            service_id="nope",
            day=D(2023, 9, 4),
            category=TariffCategory.RESIDENT_CHILD,
            household=homes[0],
        )
