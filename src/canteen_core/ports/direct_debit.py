"""The direct-debit port: what collects invoices from the families' bank accounts.

The core builds one :class:`DebitItem` per invoice to collect (the value is defined here, so no
service has to find the adapter's own class) and hands them to a
:class:`DirectDebitProvider`, which checks them, builds the bank file (pain.008 for the
built-in ``sepa`` adapter), writes it and returns a :class:`CollectionResult`: the mandates
it advanced (FRST -> RCUR) and the pre-notifications to send.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

import attrs

from canteen_core.domain._french import not_positive_fr
from canteen_core.domain._validators import non_empty_str, optional_instance_of
from canteen_core.domain.clock import Clock
from canteen_core.domain.debit_returns import BankReturnFile
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.mandates import DirectDebitMandate, validate_mandate_reference
from canteen_core.domain.money import CENT, EUR, Money
from canteen_core.ports.backends import NamedProvider

__all__ = [
    "MAX_DEBIT_AMOUNT",
    "BankReturnReader",
    "CollectionResult",
    "Creditor",
    "DebitItem",
    "DirectDebitProvider",
]

#: The largest amount of one SEPA debit (EPC rulebook).
MAX_DEBIT_AMOUNT: Final = Decimal("999999999.99")


def _positive_eur(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidInputError(f"must be Money, got {value!r}", path=attribute.name)
    if value.currency != EUR:
        raise InvalidInputError(
            f"SEPA debits are in EUR, not {value.currency}", path=attribute.name
        )
    if not value.is_positive:
        raise InvalidInputError(
            not_positive_fr("le prélèvement", value.format_fr()), path=attribute.name
        )
    if value.amount != value.amount.quantize(CENT) or value.amount > MAX_DEBIT_AMOUNT:
        raise InvalidInputError(f"not a valid SEPA amount: {value}", path=attribute.name)


def _end_to_end(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    validate_mandate_reference(value, path=attribute.name)  # same charset and length rules


@attrs.frozen(kw_only=True)
class DebitItem:
    """One invoice to debit: the invoice number is the end-to-end id the bank returns."""

    household_id: str = attrs.field(validator=non_empty_str)
    invoice_id: str = attrs.field(validator=non_empty_str)
    invoice_number: str = attrs.field(validator=_end_to_end)
    amount: Money = attrs.field(validator=_positive_eur)
    mandate: DirectDebitMandate | None = attrs.field(
        validator=optional_instance_of(DirectDebitMandate, "must be a DirectDebitMandate or None")
    )
    remittance_info: str | None = None  # default "Facture <number>"


class Creditor(Protocol):
    """Who collects: named in the families' pre-notification e-mails."""

    @property
    def name(self) -> str:
        """The creditor's name (the régie)."""
        ...

    @property
    def creditor_id(self) -> str:
        """The SEPA creditor identifier (ICS)."""
        ...


class CollectionResult(Protocol):
    """A built (and written) collection: what the payments service stores and announces."""

    @property
    def message_id(self) -> str:
        """The file's message id."""
        ...

    @property
    def xml(self) -> bytes:
        """The bank file."""
        ...

    @property
    def mandates(self) -> tuple[DirectDebitMandate, ...]:
        """The mandates the run changed (FRST -> RCUR, amendments cleared), to store."""
        ...

    @property
    def announcements(self) -> tuple[DirectDebitAnnounced, ...]:
        """One pre-notification per mandate and collection date."""
        ...


@runtime_checkable
class DirectDebitProvider(NamedProvider, Protocol):
    """A direct-debit adapter (the built-in ``sepa``), found by name through the plugin hooks."""

    @property
    def creditor(self) -> Creditor:
        """The collecting creditor."""
        ...

    def collect(
        self,
        items: Sequence[DebitItem],
        *,
        collection_date: date,
        clock: Clock,
        message_id: str | None = None,
    ) -> tuple[CollectionResult, Path | None]:
        """Check every debit, build the bank file and write it (the path, or ``None`` when
        the adapter keeps no file). Raises a :class:`~canteen_core.domain.errors.CanteenError`
        and writes nothing when a debit cannot be collected."""
        ...


@runtime_checkable
class BankReturnReader(Protocol):
    """A direct-debit adapter that reads the bank's return files (the built-in ``sepa`` reads
    pain.002 status reports and camt.054 debit notifications)."""

    def read_returns(self, data: bytes) -> BankReturnFile:
        """The returned debits of a bank file. Raises
        :class:`~canteen_core.domain.errors.InvalidInputError` (one French line naming the line
        at fault) for bytes that are not XML, or not a valid message of a supported kind."""
        ...
