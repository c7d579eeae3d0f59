# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""A billing run queues its invoice e-mails unrendered; the outbox renders them at the send,
with the text a rendering in the run would have given."""

from __future__ import annotations

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.notifications import Recipient
from canteen_core.domain.notifications.deferred import DEFERRED_BODY, is_deferred
from canteen_core.services import Canteen

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    book,
    september,
)
from ._world import ADMIN, FINANCE, SYSTEM, World


def _queued(canteen: Canteen) -> list[object]:
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        return [r for r in uow.outbox.records() if r.message.kind == "invoice-issued"]


def test_invoice_mails_are_rendered_when_sent(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    book(canteen, any_bworld.alban, september(any_bworld.alban))
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    (issued,) = report.issued
    stored = _queued(canteen)
    assert len(stored) == 2  # payer and co-representative
    assert all(is_deferred(r.message) and r.message.text_body == DEFERRED_BODY for r in stored)
    # The administrator sees the e-mail that will be sent.
    shown = [r for r in canteen.accounts.outbox(ADMIN) if r.message.kind == "invoice-issued"]
    assert {r.message.id for r in shown} == {r.message.id for r in stored}
    invoice = canteen.billing.invoice(FINANCE, issued.invoice_id).invoice
    recipients = [r.message for r in shown]
    for message in recipients:
        assert not is_deferred(message)
        assert f"Votre facture n° {issued.number} (SEPTEMBRE 2023)" in message.text_body
        assert issued.total.format_fr() in message.text_body
    # What the run used to queue, rendered then: the same e-mails.
    event = invoice.issued_event(stored[0].message.created_at)
    eager = canteen.context.notifier.invoice_issued(
        event,
        [Recipient(address=m.to_address, name=m.to_name) for m in recipients],
        label=invoice.label,
        payable_online_from=invoice.payment_open_date,
    )
    assert sorted(eager, key=lambda m: m.id) == sorted(recipients, key=lambda m: m.id)
    sent = canteen.accounts.send_outbox(SYSTEM)
    assert set(sent.sent) >= {m.id for m in recipients}
    delivered = canteen.context.mailer.sent  # type: ignore[attr-defined]
    for message in recipients:
        mail = delivered[message.id]
        assert mail["Subject"] == message.subject
        text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert text == message.text_body
    assert canteen.accounts.send_outbox(SYSTEM).sent == ()  # each e-mail once
