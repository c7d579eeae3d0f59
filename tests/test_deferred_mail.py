"""Invoice e-mails queued unrendered and rendered by the dispatcher: the same messages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import (
    NotificationSettings,
    Notifier,
    OutgoingMessage,
    Recipient,
)
from canteen_core.domain.notifications.deferred import (
    DEFERRED_BODY,
    RENDER_HEADER,
    _payload,
    deferred_values,
    is_deferred,
)
from canteen_core.domain.outbox import DeliveryStatus, Dispatcher, InMemoryOutboxStore

QUEUED = datetime(2023, 10, 2, 8, 0, tzinfo=UTC)
SENT = QUEUED + timedelta(hours=3)
SETTINGS = NotificationSettings(
    portal_url="https://portail.example.fr/",
    organisation="Ville d'Essai & <Co>",
    contact="restauration@mairie.example.fr",
)

_TEXT = st.text(alphabet=st.sampled_from("aéZ <>&\"'  \t-_.,0123456789qz"), min_size=0, max_size=20)


def _event(number: str = "2023-000042", total: str = "13.40") -> InvoiceIssued:
    return InvoiceIssued(
        occurred_at=QUEUED,
        invoice_id="invoice:R:1",
        number=number,
        household_id="H1",
        total=Money(Decimal(total)),
        due_date=date(2023, 11, 1),
    )


class Mailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


@given(
    number=_TEXT.filter(str.strip),
    name=st.none() | _TEXT.filter(lambda text: "\n" not in text),
    cents=st.integers(0, 10**8),
    label=st.none() | _TEXT,
    online=st.none() | st.dates(date(2023, 1, 1), date(2024, 12, 31)),
)
def test_rendered_at_the_send_equals_rendered_at_the_queue(
    number: str, name: str | None, cents: int, label: str | None, online: date | None
) -> None:
    queueing = Notifier(SETTINGS, clock=FixedClock(QUEUED))
    sending = Notifier(SETTINGS, clock=FixedClock(SENT))
    event = _event(number, str(Decimal(cents) / 100))
    recipients = [Recipient(address="Parent.Name@Example.fr", name=name)]
    (now,) = queueing.invoice_issued(event, recipients, label=label, payable_online_from=online)
    (later,) = queueing.invoice_issued(
        event, recipients, label=label, payable_online_from=online, deferred=True
    )
    assert is_deferred(later)
    assert not is_deferred(now)
    assert (later.id, later.created_at, later.subject) == (now.id, QUEUED, DEFERRED_BODY)
    assert sending.render_deferred(later) == now  # same id, text and creation instant


def test_recipients_sharing_an_address_get_one_message() -> None:
    notifier = Notifier(SETTINGS, clock=FixedClock(QUEUED))
    recipients = [Recipient(address="a@example.fr", name="Ana"), Recipient(address="A@example.fr")]
    assert len(notifier.invoice_issued(_event(), recipients, deferred=True)) == 1
    with pytest.raises(InvalidInputError):
        notifier.invoice_issued(_event(), ["a@example.fr"], deferred=True)  # type: ignore[list-item]


def test_a_rendered_message_is_returned_as_it_is() -> None:
    notifier = Notifier(SETTINGS, clock=FixedClock(QUEUED))
    (message,) = notifier.invoice_issued(_event(), [Recipient(address="a@example.fr")])
    assert notifier.render_deferred(message) is message
    with pytest.raises(InvalidInputError):
        deferred_values(message)


def test_a_damaged_header_is_refused() -> None:
    notifier = Notifier(SETTINGS, clock=FixedClock(QUEUED))
    (message,) = notifier.invoice_issued(
        _event(), [Recipient(address="a@example.fr")], deferred=True
    )
    for payload in ("{", '{"key": 1, "values": {}}', '{"key": "k", "values": {"total": "x"}}'):
        headers = tuple((n, payload if n == RENDER_HEADER else v) for n, v in message.headers)
        with pytest.raises(InvalidInputError):
            notifier.render_deferred(attrs.evolve(message, headers=headers))
    with pytest.raises(ConfigurationError):
        notifier.render_deferred(attrs.evolve(message, kind="payment-received"))


def test_the_dispatcher_renders_before_the_send() -> None:
    notifier = Notifier(SETTINGS, clock=FixedClock(QUEUED))
    recipient = Recipient(address="a@example.fr", name="Ana")
    (queued,) = notifier.invoice_issued(
        _event(), [recipient], label="SEPTEMBRE 2023", deferred=True
    )
    (expected,) = notifier.invoice_issued(_event(), [recipient], label="SEPTEMBRE 2023")
    store, mailer = InMemoryOutboxStore(), Mailer()
    store.add([queued, queued])
    report = Dispatcher(
        store, mailer, clock=FixedClock(SENT), renderer=notifier.render_deferred
    ).run_until_idle()
    assert report.sent == (queued.id,)
    assert mailer.sent == [expected]
    assert "Votre facture n° 2023-000042 (SEPTEMBRE 2023) d'un montant de 13,40 €" in (
        mailer.sent[0].text_body
    )


def test_without_a_renderer_nothing_unrendered_goes_out() -> None:
    notifier = Notifier(SETTINGS, clock=FixedClock(QUEUED))
    (queued,) = notifier.invoice_issued(
        _event(), [Recipient(address="a@example.fr")], deferred=True
    )
    store, mailer = InMemoryOutboxStore(), Mailer()
    store.add([queued])
    report = Dispatcher(store, mailer, clock=FixedClock(SENT)).run_once()
    assert report.retrying == (queued.id,)
    assert mailer.sent == []
    record = store.get(queued.id)
    assert record is not None
    assert record.status is DeliveryStatus.PENDING
    assert "renderer" in (record.last_error or "")


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("invoice:1", {"number": "2023-000001", "label": None}),
        ('clé "x" \\', {"né": "\ud800 \x00 \x1f \u2028 😀", "vide": None}),
        ("k", {}),
        ("k", {"count": 1, "flag": True}),  # not texts: json.dumps writes them
        ("k", {1: "a"}),
        (7, {"a": "b"}),
    ],
)
def test_the_render_header_is_the_compact_json_of_key_and_values(
    key: object, values: dict[object, object]
) -> None:
    """The header is written without json.dumps for texts: byte for byte its text all the same
    (escapes, non-ASCII kept, lone surrogates, ``None``), and json.dumps' for anything else."""
    expected = json.dumps(
        {"key": key, "values": dict(values)}, ensure_ascii=False, separators=(",", ":")
    )
    assert _payload(key, values) == expected  # type: ignore[arg-type]


@given(key=st.text(), values=st.dictionaries(st.text(), st.none() | st.text(), max_size=6))
def test_the_render_header_equals_json_dumps_on_any_text(
    key: str, values: dict[str, str | None]
) -> None:
    expected = json.dumps(
        {"key": key, "values": dict(values)}, ensure_ascii=False, separators=(",", ":")
    )
    assert _payload(key, values) == expected
