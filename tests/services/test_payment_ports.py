# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""The payment ports: each built-in adapter satisfies its typed Protocol, and a third-party
direct-debit provider receives the core's :class:`DebitItem` values (no probing of its
module for an item class)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import attrs
import pytest

from canteen_adapters.payment.manual import ManualPayments
from canteen_adapters.payment.payfip import PayFiPProvider, PayFiPSettings
from canteen_adapters.payment.sepa import SepaDirectDebit
from canteen_core.domain.clock import Clock, FixedClock
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.ledger import InvoiceStatus
from canteen_core.domain.mandates import DirectDebitMandate
from canteen_core.ports.counter_payment import CounterPaymentProvider
from canteen_core.ports.direct_debit import (
    CollectionResult,
    Creditor,
    DebitItem,
    DirectDebitProvider,
)
from canteen_core.ports.online_payment import OnlinePaymentProvider
from canteen_core.services.payments import PaymentOptions, PaymentService

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    FAMILY_IBAN,
    SEPA,
    book,
    memory_billing_canteen,
    memory_bworld,
    september,
)
from ._world import FINANCE, PAYER, World


@attrs.frozen
class _Creditor:
    name: str = "Régie de la Ronde"
    creditor_id: str = "FR72ZZZ123456"


@attrs.frozen
class _Run:
    message_id: str
    xml: bytes
    mandates: tuple[DirectDebitMandate, ...] = ()
    announcements: tuple[DirectDebitAnnounced, ...] = ()


class RecordingBank:
    """A third-party direct-debit provider living outside the adapters package."""

    name = "bank-x"

    def __init__(self) -> None:
        self.received: list[DebitItem] = []

    @property
    def creditor(self) -> Creditor:
        return _Creditor()

    def collect(
        self,
        items: Sequence[DebitItem],
        *,
        collection_date: date,
        clock: Clock,
        message_id: str | None = None,
    ) -> tuple[CollectionResult, Path | None]:
        self.received.extend(items)
        return _Run(message_id=message_id or "M1", xml=b"<bank/>"), None


def test_built_in_adapters_satisfy_their_ports() -> None:
    # Checked twice: by mypy (the annotated assignments) and at run time (isinstance).
    online: OnlinePaymentProvider = PayFiPProvider(PayFiPSettings(numcli="012345", saisie="T"))
    counter: CounterPaymentProvider = ManualPayments()
    debit: DirectDebitProvider = SepaDirectDebit.from_settings(SEPA)
    bank: DirectDebitProvider = RecordingBank()
    assert isinstance(online, OnlinePaymentProvider)
    assert isinstance(counter, CounterPaymentProvider)
    assert isinstance(debit, DirectDebitProvider)
    assert isinstance(bank, DirectDebitProvider)
    assert not isinstance(counter, DirectDebitProvider)
    assert not isinstance(debit, OnlinePaymentProvider)


def test_a_third_party_direct_debit_provider_gets_core_debit_items(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    book(canteen, memory_bworld.alban, september(memory_bworld.alban))
    clock.set(BILLING_DAY)
    (issued,) = canteen.billing.run_postpaid(FINANCE, "2023-09").issued
    bank = RecordingBank()
    payments = PaymentService(
        canteen.context,
        PaymentOptions(sepa_provider="bank-x"),
        billing=canteen.billing,
        providers={"bank-x": bank},
    )
    report = payments.run_direct_debit(FINANCE, date(2023, 10, 20))
    (item,) = bank.received
    assert type(item) is DebitItem
    assert (item.household_id, item.invoice_number, item.amount) == (
        "concerto",
        issued.number,
        issued.total,
    )
    assert report.xml == b"<bank/>"
    # Scheduled until the collection date (issue #17).
    state = canteen.billing.invoice(FINANCE, issued.invoice_id)
    assert state.status is InvoiceStatus.DEBIT_SCHEDULED


def test_a_provider_without_the_port_is_refused_by_name(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    payments = PaymentService(
        canteen.context, PaymentOptions(sepa_provider="manual"), billing=canteen.billing
    )
    with pytest.raises(ConfigurationError, match="« manual » ne fait pas de prélèvement"):
        payments.run_direct_debit(FINANCE, date(2023, 10, 20))
    with pytest.raises(ConfigurationError, match="« sepa » ne prend pas de paiement en ligne"):
        canteen.payments.online_provider("sepa")
