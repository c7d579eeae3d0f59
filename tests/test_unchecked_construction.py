"""Values a billing run builds without their class's checks (canteen_core.domain._unchecked) are
values the checked constructors accept and build equal: period facts, invoice lines,
invoices and invoice e-mails."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import run_postpaid
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.charging import ChargingPolicy, PeriodFacts
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs import run_postpaid_periods
from canteen_core.domain.invoicing import NumberSequence
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import (
    NotificationSettings,
    Notifier,
    Recipient,
    message_id_for,
)
from canteen_core.domain.notifications.messages import _NAMESPACE
from canteen_core.services.billing import period_facts
from test_billing_periods import BOOK, END, ISSUED, SERVICE_DAYS, START, _cities, month_of


def _checked(value: Any) -> Any:
    """``value`` rebuilt through its class's own (checked) constructor."""
    cls = type(value)
    return cls(**{field.name: getattr(value, field.name) for field in attrs.fields(cls)})


def _same(value: Any) -> None:
    rebuilt = _checked(value)
    assert rebuilt == value
    for field in attrs.fields(type(value)):  # same types too (a tuple is not a list...)
        assert type(getattr(rebuilt, field.name)) is type(getattr(value, field.name))


def test_unchecked_sets_every_field_and_refuses_non_init_fields() -> None:
    build = unchecked(PeriodFacts)
    facts = build(
        child_id="c",
        household_id="h",
        enrollment_id="e",
        service_id="s",
        category=PeriodFacts(
            child_id="c", household_id="h", enrollment_id="e", service_id="s"
        ).category,
        booked=frozenset({date(2023, 9, 4)}),
        closed=frozenset(),
        present=frozenset(),
        absent=frozenset(),
        justified=frozenset(),
        late_booked=frozenset(),
        late_cancelled=frozenset(),
        unit=None,
        quantities=(),
        tariff_service_id=None,
        late_pickups=frozenset(),
    )
    _same(facts)
    with pytest.raises(TypeError):
        build(child_id="c")  # every field is required

    @attrs.frozen
    class Derived:
        value: int
        cached: int = attrs.field(init=False, default=0)

    with pytest.raises(TypeError):
        unchecked(Derived)


@given(
    booked=st.sets(st.sampled_from(SERVICE_DAYS)),
    late=st.sets(st.sampled_from(SERVICE_DAYS)),
    cancelled=st.sets(st.sampled_from(SERVICE_DAYS)),
    attendance=st.dictionaries(
        st.sampled_from(SERVICE_DAYS), st.sampled_from(["present", "absent", "justified"])
    ),
    start=st.sampled_from([date(2023, 9, 4), date(2023, 9, 12)]),
)
def test_period_facts_pass_the_checks(
    booked: set[date],
    late: set[date],
    cancelled: set[date],
    attendance: dict[date, str],
    start: date,
) -> None:
    e, book, records = month_of(booked, late, cancelled, attendance, start)
    _same(period_facts(e, book, START, END, records=records))


@given(city=_cities(), carence=st.integers(0, 2), billed=st.sets(st.sampled_from(["H1", "H2"])))
def test_invoices_and_lines_of_a_run_pass_the_checks(
    city: tuple[list[Household], list[PeriodFacts]], carence: int, billed: set[str]
) -> None:
    households, periods = city
    common: dict[str, Any] = {
        "issuer_id": "regie",
        "period_start": START,
        "period_end": END,
        "households": households,
        "tariffs": BOOK,
        "sequence": NumberSequence(issuer_id="regie", year=2023, last_used=7),
        "issued_at": ISSUED,
        "policy": ChargingPolicy(carence_days=carence),
        "already_billed": {f"postpaid/regie/{h}/2023-09-01/2023-09-30" for h in billed},
        "service_names": {"lunch": "Restauration scolaire"},
    }
    by_period = run_postpaid_periods(facts=periods, **common)
    by_day = run_postpaid(facts=[f for p in periods for f in p.day_facts()], **common)
    for run in (by_period, by_day):
        for invoice in run.invoices:
            _same(invoice)
            for line in invoice.lines:
                _same(line)
    assert by_period.invoices == by_day.invoices


@given(
    number=st.from_regex(r"2023-[0-9]{6}", fullmatch=True),
    name=st.none() | st.text(alphabet="aéZ <>&-", max_size=12).filter(str.strip),
    cents=st.integers(0, 10**7),
)
def test_stenciled_messages_pass_the_checks(number: str, name: str | None, cents: int) -> None:
    notifier = Notifier(
        NotificationSettings(portal_url="https://portail.example.fr/"),
        clock=FixedClock(datetime(2023, 10, 2, 8, 0, tzinfo=UTC)),
    )
    event = InvoiceIssued(
        occurred_at=ISSUED,
        invoice_id=f"invoice:R:{number}",
        number=number,
        household_id="H1",
        total=Money(Decimal(cents) / 100),
        due_date=ISSUED.date() + timedelta(days=30),
    )
    recipients = [Recipient(address="Parent@Example.fr", name=name), Recipient(address="b@c.fr")]
    for message in notifier.invoice_issued(event, recipients, label="SEPTEMBRE 2023"):
        _same(message)


@given(
    kind=st.text(min_size=1, max_size=20), key=st.text(max_size=40), address=st.text(max_size=40)
)
def test_message_ids_are_the_uuid5_of_kind_key_and_address(
    kind: str, key: str, address: str
) -> None:
    expected = uuid.uuid5(_NAMESPACE, f"{kind}\x1f{key}\x1f{address.lower()}")
    assert message_id_for(kind, key, address) == f"{kind}.{expected.hex}"
