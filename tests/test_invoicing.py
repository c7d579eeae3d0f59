"""Invoices: numbering, due dates, lines, totals, post-paid runs, prepaid baskets, credit notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import run_postpaid
from canteen_core.domain.charging import ChargeRule, DayFacts
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.invoice_runs import invoice_prepaid_basket, prepaid_cancellation_credit
from canteen_core.domain.invoicing import (
    CREDIT_NOTE_PREFIX,
    BillingMode,
    DueDateRule,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
    billing_key,
    credit_note,
    month_label,
    parse_number,
)
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import (
    BracketPricing,
    FlatPricing,
    TariffBook,
    TariffCategory,
    TariffGrid,
)

BRACKETS = TariffBook(
    grids=(
        TariffGrid(
            id="g2023",
            service_id="lunch",
            valid_from=date(2023, 1, 1),
            prices={
                TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
                    ["1.00", "3.05", "3.10", "3.15"], [700, 1000, 1400]
                )
            },
        ),
    )
)
FLAT_335 = TariffBook(
    grids=(
        TariffGrid(
            id="flat",
            service_id="lunch",
            valid_from=date(2023, 1, 1),
            prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("3.35")},
        ),
    )
)
SEPTEMBER = [date(2023, 9, d) for d in (4, 5, 7, 8, 11, 12, 14, 15, 18, 19, 21, 22, 25, 26, 28, 29)]
OCTOBER_1ST = datetime(2023, 10, 2, 8, 0, tzinfo=UTC)


def household(hid: str, qf: int | None = 800, children: int = 1) -> Household:
    return Household(
        id=hid,
        payer=Guardian(id=f"G-{hid}", first_name="Maman", last_name="Concerto", civility="Madame"),
        children=tuple(
            Child(
                id=f"{hid}-c{i}",
                first_name="Alban",
                last_name="Concerto",
                birth_date=date(2014 + i, 1, 1),
            )
            for i in range(1, children + 1)
        ),
        quotients=() if qf is None else (FamilyQuotient(value=qf, valid_from=date(2023, 1, 1)),),
    )


def fact(hid: str, day: date, child: int = 1, **flags: object) -> DayFacts:
    values: dict[str, object] = {
        "child_id": f"{hid}-c{child}",
        "household_id": hid,
        "enrollment_id": f"e-{hid}-{child}",
        "service_id": "lunch",
        "day": day,
        "booked": True,
        "present": True,
    }
    values.update(flags)
    return DayFacts(**values)  # type: ignore[arg-type]


def seq(last: int = 0, year: int = 2023, prefix: str = "") -> NumberSequence:
    return NumberSequence(issuer_id="regie", year=year, last_used=last, prefix=prefix)


# -- numbering and dates ---------------------------------------------------------------------


def test_numbering_is_gapless_and_formatted() -> None:
    numbers, advanced = seq(122).allocate(3)
    assert numbers == ("2023-000123", "2023-000124", "2023-000125")
    assert advanced.last_used == 125
    assert seq(122).allocate(0) == ((), seq(122))
    assert parse_number("2023-000123") == (2023, 123)
    assert parse_number("AV-2024-000001", prefix="AV-") == (2024, 1)
    assert NumberSequence.first("regie", 2024) == seq(0, year=2024)
    for bad in ("2023-12", "23-000001", "2023000001", "AV-2023-000001"):
        with pytest.raises(InvalidInputError):
            parse_number(bad)
    with pytest.raises(InvalidInputError):
        seq(-1)
    with pytest.raises(InvalidInputError):
        seq().allocate(-1)


@pytest.mark.parametrize(
    ("rule", "issued", "due"),
    [
        (DueDateRule.days_after_issue(0), date(2023, 6, 9), date(2023, 6, 9)),
        (DueDateRule.days_after_issue(30), date(2023, 10, 2), date(2023, 11, 1)),
        (DueDateRule.day_of_next_month(15), date(2023, 10, 2), date(2023, 11, 15)),
        (DueDateRule.day_of_next_month(31), date(2024, 1, 31), date(2024, 2, 29)),
        (DueDateRule.day_of_next_month(10), date(2023, 12, 20), date(2024, 1, 10)),
    ],
)
def test_due_date_rules(rule: DueDateRule, issued: date, due: date) -> None:
    assert rule.due_date(issued) == due


def test_due_date_rule_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        DueDateRule.day_of_next_month(0)
    with pytest.raises(InvalidInputError):
        DueDateRule.days_after_issue(-1)
    with pytest.raises(InvalidInputError):
        DueDateRule(kind="whenever", value=3)


def test_month_label_and_billing_key() -> None:
    assert month_label(date(2023, 9, 4)) == "SEPTEMBRE 2023"
    assert month_label(date(2024, 2, 1)) == "FÉVRIER 2024"
    key = billing_key(
        "postpaid",
        issuer_id="regie",
        household_id="H1",
        first_day=date(2023, 9, 1),
        last_day=date(2023, 9, 30),
    )
    assert key == "postpaid/regie/H1/2023-09-01/2023-09-30"


# -- lines and documents ---------------------------------------------------------------------


def test_line_amount_is_rounded_half_up_and_checked() -> None:
    line = InvoiceLine.build(
        service_id="lunch", description="repas", quantity=3, unit_price=Money.of("1.525")
    )
    assert line.amount == Money.of("4.58")  # 4.575 -> 4.58
    with pytest.raises(InvalidInputError, match="le montant de la ligne"):
        InvoiceLine(
            service_id="lunch",
            description="repas",
            quantity=3,
            unit_price=Money.of("3.05"),
            amount=Money.of("9.16"),
        )
    with pytest.raises(InvalidInputError, match="quantity"):
        InvoiceLine.build(
            service_id="lunch", description="repas", quantity=0, unit_price=Money.of("1")
        )
    with pytest.raises(InvalidInputError, match="négatif"):
        InvoiceLine.build(
            service_id="lunch", description="repas", quantity=1, unit_price=Money.of("-1")
        )
    with pytest.raises(InvalidInputError, match="jours tracés"):
        InvoiceLine.build(
            service_id="lunch",
            description="repas",
            quantity=2,
            unit_price=Money.of("1"),
            days=[date(2023, 9, 4)],
        )


def test_invoice_total_must_equal_the_sum_of_its_lines() -> None:
    run = run_postpaid(
        issuer_id="regie",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        facts=[fact("H1", d) for d in SEPTEMBER[:3]],
        households=[household("H1")],
        tariffs=BRACKETS,
        sequence=seq(),
        issued_at=OCTOBER_1ST,
    )
    invoice = run.invoices[0]
    with pytest.raises(InvalidInputError, match="la somme de ses lignes"):
        Invoice(**{**_fields(invoice), "total": Money.of("9.16")})
    with pytest.raises(InvalidInputError, match="sans lignes"):
        Invoice(**{**_fields(invoice), "lines": (), "total": Money.zero()})


def _fields(invoice: Invoice) -> dict[str, object]:
    return attrs.asdict(invoice, recurse=False)


# -- post-paid runs --------------------------------------------------------------------------


def test_postpaid_worked_example() -> None:
    facts = [fact("H1", d) for d in SEPTEMBER[:10]]  # 10 x 3.05
    facts += [fact("H1", d, present=False, absence_justified=True) for d in SEPTEMBER[10:13]]
    facts += [fact("H2", d) for d in SEPTEMBER]  # QF 500: 16 x 1.00
    facts += [fact("H3", d, closed_by_organiser=True) for d in SEPTEMBER[:2]]  # nothing to bill
    run = run_postpaid(
        issuer_id="regie",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        facts=facts,
        households=[household("H1", 800), household("H2", 500), household("H3", 800)],
        tariffs=BRACKETS,
        sequence=seq(41),
        issued_at=OCTOBER_1ST,
        terms=InvoiceTerms(due=DueDateRule.day_of_next_month(15), payment_opens_after_days=1),
        service_names={"lunch": "Restauration scolaire"},
    )
    h1, h2 = run.invoices
    assert (h1.number, h2.number) == ("2023-000042", "2023-000043")
    assert run.sequence.last_used == 43
    assert run.without_charges == ("H3",)
    assert h1.label == "SEPTEMBRE 2023"
    assert h1.issue_date == date(2023, 10, 2)
    assert h1.due_date == date(2023, 11, 15)
    assert h1.payment_open_date == date(2023, 10, 3)
    assert h1.payer_name == "Madame CONCERTO Maman"
    # 10 present + 1 carence day at 3.05 = 33.55; the two other justified days are free.
    assert h1.total == Money.of("33.55")
    assert [(line.rule, line.quantity) for line in h1.lines] == [
        (ChargeRule.PRESENT, 10),
        (ChargeRule.JUSTIFIED_ABSENCE_CARENCE, 1),
    ]
    assert h1.lines[1].days == (SEPTEMBER[10],)
    assert h1.lines[0].child_name == "Alban CONCERTO"
    assert h1.lines[0].description.startswith("Restauration scolaire – repas pris")
    assert h2.total == Money.of("16.00")
    assert [e.invoice_id for e in run.events] == [h1.id, h2.id]
    assert run.events[0].total == Money.of("33.55")
    assert len(run.decisions) == len(facts)


def test_rerunning_a_period_never_invoices_twice() -> None:
    args: dict[str, object] = {
        "issuer_id": "regie",
        "period_start": date(2023, 9, 1),
        "period_end": date(2023, 9, 30),
        "facts": [fact("H1", SEPTEMBER[0]), fact("H2", SEPTEMBER[0])],
        "households": [household("H1"), household("H2")],
        "tariffs": BRACKETS,
        "issued_at": OCTOBER_1ST,
    }
    first = run_postpaid(sequence=seq(), **args)  # type: ignore[arg-type]
    again = run_postpaid(sequence=first.sequence, already_billed=first.billed_keys, **args)  # type: ignore[arg-type]
    assert again.invoices == ()
    assert again.sequence == first.sequence
    assert set(again.skipped_keys) == first.billed_keys


def test_bad_run_input_consumes_no_number() -> None:
    base: dict[str, object] = {
        "issuer_id": "regie",
        "period_start": date(2023, 9, 1),
        "period_end": date(2023, 9, 30),
        "households": [household("H1")],
        "tariffs": BRACKETS,
        "sequence": seq(7),
        "issued_at": OCTOBER_1ST,
    }
    with pytest.raises(InvalidInputError, match="outside"):
        run_postpaid(facts=[fact("H1", date(2023, 10, 2))], **base)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        run_postpaid(facts=[fact("H9", SEPTEMBER[0])], **base)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="tariff grid"):
        run_postpaid(  # type: ignore[arg-type]
            facts=[fact("H1", SEPTEMBER[0], service_id="breakfast")], **base
        )
    with pytest.raises(InvalidInputError, match="naive"):
        run_postpaid(**{**base, "facts": [], "issued_at": datetime(2023, 10, 2)})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="needs the 2023 sequence"):
        run_postpaid(**{**base, "facts": [], "sequence": seq(9, year=2022)})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="issuer"):
        run_postpaid(**{**base, "facts": [], "sequence": NumberSequence(issuer_id="x", year=2023)})  # type: ignore[arg-type]


# -- prepaid ---------------------------------------------------------------------------------


def test_seed_invoice_septembre_2023() -> None:
    alban = household("H1")
    basket = [fact("H1", d, present=None) for d in SEPTEMBER[:4]]  # 4 x 3.35 = 13.40
    issued_at = datetime(2023, 6, 9, 9, 30, tzinfo=UTC)
    result = invoice_prepaid_basket(
        issuer_id="regie",
        basket_id="basket-1",
        household=alban,
        bookings=basket,
        tariffs=FLAT_335,
        sequence=seq(),
        issued_at=issued_at,
        terms=InvoiceTerms(due=DueDateRule.days_after_issue(0)),
    )
    invoice = result.invoice
    assert invoice is not None
    assert invoice.label == "SEPTEMBRE 2023"
    assert invoice.mode is BillingMode.PREPAID
    assert invoice.issue_date.strftime("%d/%m/%Y") == "09/06/2023"
    assert invoice.due_date.strftime("%d/%m/%Y") == "09/06/2023"
    assert invoice.payment_open_date == date(2023, 6, 9)
    assert invoice.total.format_fr() == "13,40 €"
    assert invoice.lines[0].rule is ChargeRule.PREPAID_BOOKING
    assert (invoice.period_start, invoice.period_end) == (date(2023, 9, 1), date(2023, 9, 30))
    assert result.event is not None
    assert result.event.total == Money.of("13.40")
    # Validating the same basket again gives nothing new.
    again = invoice_prepaid_basket(
        issuer_id="regie",
        basket_id="basket-1",
        household=alban,
        bookings=basket,
        tariffs=FLAT_335,
        sequence=result.sequence,
        issued_at=issued_at,
        already_billed={result.billing_key},
    )
    assert again.invoice is None
    assert again.sequence == result.sequence

    # Two days cancelled before the deadline: a credit note of 6.70.
    note, credit_seq = prepaid_cancellation_credit(
        invoice,
        cancelled=[("H1-c1", "lunch", SEPTEMBER[0]), ("H1-c1", "lunch", SEPTEMBER[1])],
        sequence=seq(prefix=CREDIT_NOTE_PREFIX),
        issue_date=date(2023, 8, 30),
    )
    assert note.number == "AV-2023-000001"
    assert note.total == Money.of("6.70")
    assert note.invoice_id == invoice.id
    assert credit_seq.last_used == 1
    with pytest.raises(RuleViolationError, match="already credited"):
        prepaid_cancellation_credit(
            invoice,
            cancelled=[("H1-c1", "lunch", SEPTEMBER[0])],
            sequence=credit_seq,
            issue_date=date(2023, 8, 31),
            previous=[note],
        )
    with pytest.raises(NotFoundError):
        prepaid_cancellation_credit(
            invoice,
            cancelled=[("H1-c1", "lunch", SEPTEMBER[10])],
            sequence=credit_seq,
            issue_date=date(2023, 8, 31),
        )


def test_prepaid_basket_bad_input() -> None:
    common: dict[str, object] = {
        "issuer_id": "regie",
        "basket_id": "b",
        "household": household("H1"),
        "tariffs": FLAT_335,
        "sequence": seq(),
        "issued_at": datetime(2023, 6, 9, tzinfo=UTC),
    }
    with pytest.raises(InvalidInputError, match="empty"):
        invoice_prepaid_basket(bookings=[], **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="one service month"):
        invoice_prepaid_basket(  # type: ignore[arg-type]
            bookings=[fact("H1", SEPTEMBER[0]), fact("H1", date(2023, 10, 2))], **common
        )
    with pytest.raises(InvalidInputError, match="booked"):
        invoice_prepaid_basket(  # type: ignore[arg-type]
            bookings=[fact("H1", SEPTEMBER[0], booked=False)], **common
        )
    with pytest.raises(InvalidInputError, match="household"):
        invoice_prepaid_basket(bookings=[fact("H2", SEPTEMBER[0])], **common)  # type: ignore[arg-type]


def test_credit_note_cannot_exceed_the_invoice() -> None:
    run = run_postpaid(
        issuer_id="regie",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        facts=[fact("H1", d) for d in SEPTEMBER[:2]],
        households=[household("H1")],
        tariffs=BRACKETS,
        sequence=seq(),
        issued_at=OCTOBER_1ST,
    )
    invoice = run.invoices[0]  # 6.10
    note, s = credit_note(
        invoice,
        lines=[invoice.lines[0]],
        reason="Erreur de pointage",
        sequence=seq(prefix=CREDIT_NOTE_PREFIX),
        issue_date=date(2023, 10, 5),
    )
    assert note.total == invoice.total
    with pytest.raises(RuleViolationError, match="dépasse ce qui reste de la facture"):
        credit_note(
            invoice,
            lines=[invoice.lines[0]],
            reason="Encore",
            sequence=s,
            issue_date=date(2023, 10, 6),
            previous=[note],
        )
    with pytest.raises(InvalidInputError, match="prefix"):
        credit_note(
            invoice,
            lines=[invoice.lines[0]],
            reason="Préfixe",
            sequence=seq(),
            issue_date=date(2023, 10, 6),
        )


# -- invariants ------------------------------------------------------------------------------

facts_strategy = st.lists(
    st.tuples(
        st.sampled_from(["H1", "H2", "H3"]),
        st.integers(0, 29),
        st.integers(1, 3),
        st.sampled_from(["present", "absent", "justified", "unbooked", "closed"]),
    ),
    max_size=60,
    unique_by=lambda t: (t[0], t[1], t[2]),
)


def _facts(raw: list[tuple[str, int, int, str]]) -> list[DayFacts]:
    flags = {
        "present": {},
        "absent": {"present": False},
        "justified": {"present": False, "absence_justified": True},
        "unbooked": {"booked": False},
        "closed": {"closed_by_organiser": True},
    }
    return [
        fact(hid, date(2023, 9, 1) + timedelta(days=offset), child, **flags[kind])
        for hid, offset, child, kind in raw
    ]


HOUSEHOLDS = [household("H1", 650, 3), household("H2", 1200, 3), household("H3", None, 3)]


@given(facts_strategy)
def test_invoice_total_is_the_exact_sum_of_rounded_lines(
    raw: list[tuple[str, int, int, str]],
) -> None:
    run = run_postpaid(
        issuer_id="regie",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        facts=_facts(raw),
        households=HOUSEHOLDS,
        tariffs=BRACKETS,
        sequence=seq(),
        issued_at=OCTOBER_1ST,
    )
    for invoice in run.invoices:
        assert invoice.total == Money.sum(line.amount for line in invoice.lines)
        for line in invoice.lines:
            assert line.amount == (line.unit_price * line.quantity).rounded()
            assert len(line.days) == line.quantity
        charged_days = sum(line.quantity for line in invoice.lines)
        decisions = [
            d for d in run.decisions if d.charged and d.facts.household_id == invoice.household_id
        ]
        assert charged_days == len(decisions)


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.sets(st.sampled_from(["H1", "H2", "H3"]))), max_size=8
    )
)
def test_numbering_is_gapless_and_unique_over_any_sequence_of_runs(
    runs: list[tuple[int, set[str]]],
) -> None:
    sequences = {2023: seq(), 2024: NumberSequence.first("regie", 2024)}
    billed: set[str] = set()
    numbers: list[str] = []
    for day_offset, present in sorted(runs):
        issued_at = datetime(2023, 12, 20, 9, tzinfo=UTC) + timedelta(days=day_offset)
        month_start = date(2023, 9, 1) if day_offset % 2 else date(2023, 10, 1)
        month_end = date(2023, 9, 30) if day_offset % 2 else date(2023, 10, 31)
        run = run_postpaid(
            issuer_id="regie",
            period_start=month_start,
            period_end=month_end,
            facts=[fact(hid, month_start + timedelta(days=3)) for hid in sorted(present)],
            households=HOUSEHOLDS,
            tariffs=BRACKETS,
            sequence=sequences[issued_at.year],
            issued_at=issued_at,
            already_billed=billed,
        )
        sequences[issued_at.year] = run.sequence
        billed |= run.billed_keys
        numbers += [invoice.number for invoice in run.invoices]
    assert len(numbers) == len(set(numbers))
    by_year: dict[int, list[int]] = {}
    for number in numbers:
        year, n = parse_number(number)
        by_year.setdefault(year, []).append(n)
    for values in by_year.values():
        assert values == list(range(1, len(values) + 1))
    assert len(billed) == len(numbers)


@given(facts_strategy)
def test_billing_the_same_month_twice_is_idempotent(raw: list[tuple[str, int, int, str]]) -> None:
    args: dict[str, object] = {
        "issuer_id": "regie",
        "period_start": date(2023, 9, 1),
        "period_end": date(2023, 9, 30),
        "facts": _facts(raw),
        "households": HOUSEHOLDS,
        "tariffs": BRACKETS,
        "issued_at": OCTOBER_1ST,
    }
    first = run_postpaid(sequence=seq(), **args)  # type: ignore[arg-type]
    second = run_postpaid(sequence=first.sequence, already_billed=first.billed_keys, **args)  # type: ignore[arg-type]
    assert second.invoices == ()
    assert second.sequence == first.sequence
    # Same input, same output: billing is deterministic.
    assert run_postpaid(sequence=seq(), **args).invoices == first.invoices  # type: ignore[arg-type]
    assert all(invoice.total > Money.zero() for invoice in first.invoices)
    assert Decimal(0) <= sum(i.total.amount for i in first.invoices)


def test_a_qf_change_mid_month_applies_from_its_start_date() -> None:
    h = household("H1", 1500).with_quotient(
        FamilyQuotient(value=Decimal(650), valid_from=date(2023, 9, 15))
    )
    run = run_postpaid(
        issuer_id="regie",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        facts=[fact("H1", d) for d in SEPTEMBER],
        households=[h],
        tariffs=BRACKETS,
        sequence=seq(),
        issued_at=OCTOBER_1ST,
    )
    lines = run.invoices[0].lines
    # 4, 5, 7, 8, 11, 12, 14 September at 3.15 (QF 1500); the 9 days from the 15th at 1.00.
    assert [(line.quantity, line.unit_price) for line in lines] == [
        (7, Money.of("3.15")),
        (9, Money.of("1.00")),
    ]
    assert lines[1].days[0] == date(2023, 9, 15)
    assert run.invoices[0].total == Money.of("31.05")
