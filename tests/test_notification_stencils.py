"""Invoice emails rendered in bulk through stencils: the same messages as a full rendering."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import attrs
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import NotificationSettings, Notifier, Recipient

NOW = datetime(2023, 10, 2, 8, 0, tzinfo=UTC)
SETTINGS = NotificationSettings(
    portal_url="https://portail.example.fr/",
    organisation="Ville d'Essai & <Co>",
    contact="restauration@mairie.example.fr",
)
NOTIFIER = Notifier(SETTINGS, clock=FixedClock(NOW))

_TEXT = st.text(alphabet=st.sampled_from("aéZ <>&\"'  \t-_.,0123456789qz"), min_size=0, max_size=20)


def _full(
    notifier: Notifier, event: InvoiceIssued, recipient: Recipient, **details: object
) -> object:
    """What rendering every template for this one message gives."""
    context = {
        "number": event.number,
        "label": details["label"],
        "total": event.total,
        "due_date": event.due_date,
        "payable_online_from": details["payable_online_from"],
        "invoices_url": notifier.settings.link(notifier.settings.invoices_url),
    }
    return notifier.render(
        "invoice-issued", recipient, context, key=event.invoice_id, household_id=event.household_id
    )


@given(
    number=_TEXT.filter(str.strip),
    name=st.none() | _TEXT.filter(lambda text: "\n" not in text),
    cents=st.integers(0, 10**8),
    label=st.none() | _TEXT,
    online=st.none() | st.dates(date(2023, 1, 1), date(2024, 12, 31)),
)
def test_stenciled_invoice_email_equals_full_rendering(
    number: str, name: str | None, cents: int, label: str | None, online: date | None
) -> None:
    event = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="invoice:R:1",
        number=number,
        household_id="H1",
        total=Money(Decimal(cents) / 100),
        due_date=date(2023, 11, 1),
    )
    recipient = Recipient(address="Parent.Name@Example.fr", name=name)
    details = {"label": label, "payable_online_from": online}
    (message,) = NOTIFIER.invoice_issued(event, [recipient], **details)  # type: ignore[arg-type]
    assert message == _full(NOTIFIER, event, recipient, **details)


def test_overridden_templates_are_rendered_in_full(tmp_path: Path) -> None:
    (tmp_path / "invoice-issued.txt").write_text(
        "{{ number[:4] }} {{ total.amount }} {{ recipient.name|upper }}\n", encoding="utf-8"
    )
    notifier = Notifier(attrs.evolve(SETTINGS, template_dir=tmp_path), clock=FixedClock(NOW))
    event = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="invoice:R:1",
        number="2023-000042",
        household_id="H1",
        total=Money.of("13.40"),
        due_date=date(2023, 11, 1),
    )
    recipient = Recipient(address="a@example.fr", name="Ana")
    (message,) = notifier.invoice_issued(event, [recipient], label=None)
    assert message.text_body == "2023 13.40 ANA\n"
    assert message == _full(notifier, event, recipient, label=None, payable_online_from=None)


def test_a_template_using_a_value_beyond_printing_it_gets_no_stencil() -> None:
    # Rendered with two different stand-ins, a template that looks into a value (here its
    # length) gives two different texts: no stencil, every message is rendered in full.
    assert (
        NOTIFIER._make_stencil(
            "invoice-issued",
            {
                "label": None,
                "due_date": date(2023, 11, 1),
                "payable_online_from": None,
                "invoices_url": "https://x",
            },
            {"number": "1", "total": Money.of("1")},
            True,
            "Ana",
        )
        is not None
    )
    notifier = Notifier(SETTINGS, clock=FixedClock(NOW))
    notifier.environment.filters["money"] = lambda value: f"{len(value)}"
    assert (
        notifier._make_stencil(
            "invoice-issued",
            {
                "label": None,
                "due_date": date(2023, 11, 1),
                "payable_online_from": None,
                "invoices_url": "https://x",
            },
            {"number": "1", "total": Money.of("1")},
            True,
            "Ana",
        )
        is None
    )
