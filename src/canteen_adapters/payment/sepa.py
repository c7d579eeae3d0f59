"""SEPA Core direct debit collections: the pain.008.001.02 file, pre-notifications, returns.

A collection run takes the invoices to debit on a due date (one :class:`DebitItem` per
invoice: household, invoice number used as end-to-end id, amount, mandate) and builds one
pain.008.001.02 message, grouped in one payment information block per sequence type (FRST,
RCUR, FNAL, OOFF) with its transaction count and control sum. The message is validated
against the official ISO 20022 schema (the ``pain.008.001.02.xsd`` shipped with the
``sepaxml`` package) before anything is written; every input is checked first, so a bad
IBAN, a missing or revoked mandate or a zero or negative amount raises a clear error and
writes no file.

The run returns the mandates as they stand after it (a FRST mandate becomes RCUR, a pending
amendment is cleared) and one :class:`~canteen_core.domain.events.DirectDebitAnnounced` event per
household and mandate: the pre-notification the portal sends each family. Returned or
rejected debits (a list of end-to-end ids from the bank) go to :func:`process_returns`, which
says which invoices to reopen.

Deployment settings (``[payment.sepa]``): ``creditor_name``, ``creditor_iban``,
``creditor_bic`` (optional: looked up from the IBAN), ``creditor_id`` (ICS, e.g.
``FR72ZZZ123456``), ``pre_notification_days`` (default 14, the SEPA default; less only if
the mandate terms say so) and ``output_dir`` for the files.

This module holds the rules of a collection (which debits, mandates and dates are acceptable,
what a run changes, what a return reopens) and the provider; the file itself is written by
:mod:`canteen_adapters.payment.pain008`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Final

import attrs

from canteen_adapters.payment._provider import check_known_settings, setting_error
from canteen_adapters.payment.bank_returns import read_bank_returns
from canteen_adapters.payment.pain008 import (
    PAIN_008_NAMESPACE,
    CheckedDebit,
    SepaCreditor,
    bic_for,
    load_pain008_schema,
    pain008_xml,
    sepa_text,
    validate_pain008,
)
from canteen_core.config.hookspecs import offer
from canteen_core.config.plugins import PaymentProviderBackend
from canteen_core.domain.clock import Clock, paris_today
from canteen_core.domain.debit_returns import BankReturnFile
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateKind,
    SequenceType,
    check_collection_date,
    checked_iban,
    validate_mandate_reference,
)
from canteen_core.domain.money import Money
from canteen_core.ports.direct_debit import DebitItem

__all__ = [
    "PAIN_008_NAMESPACE",
    "CollectedDebit",
    "CollectionRun",
    "DebitItem",
    "PaymentGroup",
    "ReturnResult",
    "SepaCreditor",
    "SepaDirectDebit",
    "SepaFileExistsError",
    "build_collection",
    "full_iban_check",
    "load_pain008_schema",
    "process_returns",
    "run_collection",
    "sepa_text",
    "validate_pain008",
]

_SEQUENCE_ORDER: Final = (
    SequenceType.FRST,
    SequenceType.RCUR,
    SequenceType.FNAL,
    SequenceType.OOFF,
)


#: The IBAN check of :mod:`canteen_core.domain.mandates` (schwifty), under its former name.
full_iban_check = checked_iban


class SepaFileExistsError(ConflictError):
    """A collection file was to be written where a file already is: never overwritten (the
    month-end job recognises an interrupted try's file by this class)."""


@attrs.frozen(kw_only=True)
class CollectedDebit:
    """A debit as it went into a file: what a return must be matched against."""

    end_to_end_id: str
    invoice_id: str
    household_id: str
    amount: Money
    sequence_type: SequenceType
    mandate_reference: str


@attrs.frozen(kw_only=True)
class PaymentGroup:
    """One payment information block (``PmtInf``): one sequence type."""

    payment_information_id: str
    sequence_type: SequenceType
    count: int
    control_sum: Money
    end_to_end_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class CollectionRun:
    """A built and validated collection: the XML, its totals and what changed."""

    message_id: str
    created_at: datetime
    collection_date: date
    xml: bytes = attrs.field(repr=False)
    groups: tuple[PaymentGroup, ...]
    debits: tuple[CollectedDebit, ...]
    mandates: tuple[DirectDebitMandate, ...]  # updated: FRST -> RCUR, amendments cleared
    announcements: tuple[DirectDebitAnnounced, ...]

    @property
    def count(self) -> int:
        """Number of transactions in the file."""
        return sum(group.count for group in self.groups)

    @property
    def control_sum(self) -> Money:
        """Total amount of the file."""
        return Money.sum(group.control_sum for group in self.groups)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Validate the XML again and write it atomically to ``path`` (never overwrites)."""
        target = Path(path)
        if target.exists():
            raise SepaFileExistsError(f"{target} existe déjà : un fichier SEPA n'est jamais écrasé")
        validate_pain008(self.xml)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".pain008-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(self.xml)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target


def _check_items(items: list[DebitItem], collection_date: date) -> list[CheckedDebit]:
    if not items:
        raise InvalidInputError("une remise demande au moins un prélèvement", path="items")
    seen: set[str] = set()
    per_mandate: dict[str, int] = {}
    checked: list[CheckedDebit] = []
    for index, item in enumerate(items):
        path = f"items[{index}]"
        if not isinstance(item, DebitItem):
            raise InvalidInputError(f"expected a DebitItem, got {item!r}", path=path)
        if item.invoice_number in seen:
            raise InvalidInputError(
                f"la facture {item.invoice_number} figure deux fois dans la remise",
                path=f"{path}.invoice_number",
            )
        seen.add(item.invoice_number)
        mandate = item.mandate
        if mandate is None:
            raise RuleViolationError(
                f"le foyer {item.household_id} n'a pas de mandat de prélèvement"
                f" (facture {item.invoice_number})"
            )
        if mandate.household_id != item.household_id:
            raise InvalidInputError(
                f"le mandat {mandate.reference} appartient au foyer {mandate.household_id},"
                f" pas au foyer {item.household_id}",
                path=f"{path}.mandate",
            )
        sequence = mandate.check_collectable(collection_date)
        per_mandate[mandate.reference] = per_mandate.get(mandate.reference, 0) + 1
        if mandate.kind is MandateKind.ONE_OFF and per_mandate[mandate.reference] > 1:
            raise RuleViolationError(
                f"le mandat ponctuel {mandate.reference} ne porte qu'un seul prélèvement"
            )
        try:
            iban = checked_iban(mandate.iban)
            bic = bic_for(iban, mandate.bic, path="bic")
        except InvalidInputError as error:
            # Name the household and its mandate: staff fix a family's bank details, not an index.
            raise InvalidInputError(
                f"foyer {item.household_id} (mandat {mandate.reference}, facture "
                f"{item.invoice_number}) : {error.message}"
            ) from None
        checked.append(
            CheckedDebit(
                item=item, mandate=mandate, sequence=sequence, iban=str(iban.compact), bic=bic
            )
        )
    references: dict[str, DirectDebitMandate] = {}
    for entry in checked:
        known = references.setdefault(entry.mandate.reference, entry.mandate)
        if known != entry.mandate:
            raise ConflictError(
                f"deux versions différentes du mandat {entry.mandate.reference} dans la même remise"
            )
    return checked


def build_collection(
    creditor: SepaCreditor,
    items: Iterable[DebitItem],
    *,
    collection_date: date,
    clock: Clock,
    message_id: str | None = None,
    pre_notification_days: int = 14,
) -> CollectionRun:
    """Check every debit, build the pain.008.001.02 message and validate it (no I/O).

    ``collection_date`` is the requested collection date; it must leave the families
    ``pre_notification_days`` calendar days of notice from today (Europe/Paris). All debits
    of one mandate in a run use the mandate's sequence type (FRST for all invoices of a
    first collection). Raises :class:`InvalidInputError` (bad IBAN, amount, duplicate
    invoice), :class:`RuleViolationError` (missing, revoked or lapsed mandate, notice too
    short) or :class:`ConflictError`; nothing is returned or written then.
    """
    if not isinstance(creditor, SepaCreditor):
        raise InvalidInputError(f"expected a SepaCreditor, got {creditor!r}", path="creditor")
    if not isinstance(collection_date, date) or isinstance(collection_date, datetime):
        raise InvalidInputError(f"must be a date, got {collection_date!r}", path="collection_date")
    if isinstance(pre_notification_days, bool) or not isinstance(pre_notification_days, int):
        raise InvalidInputError("must be an integer", path="pre_notification_days")
    if pre_notification_days < 1:
        raise InvalidInputError("must be at least 1", path="pre_notification_days")
    check_collection_date(collection_date)  # banks settle on TARGET2 business days only
    now = clock.now().astimezone(UTC).replace(microsecond=0)
    earliest = paris_today(clock) + timedelta(days=pre_notification_days)
    if collection_date < earliest:
        raise RuleViolationError(
            f"un prélèvement le {collection_date:%d/%m/%Y} laisse moins de"
            f" {pre_notification_days} jours de préavis aux familles ; date la plus proche"
            f" possible : le {earliest:%d/%m/%Y}"
        )
    message_id = message_id or f"CANTEEN-{now:%Y%m%d%H%M%S}"
    validate_mandate_reference(message_id, path="message_id")
    checked = _check_items(list(items), collection_date)

    blocks = []
    for sequence in _SEQUENCE_ORDER:
        members = tuple(entry for entry in checked if entry.sequence is sequence)
        if members:
            blocks.append((f"{message_id}-{sequence.value}"[:35], sequence, members))
    xml = pain008_xml(
        creditor,
        message_id=message_id,
        created_at=now,
        collection_date=collection_date,
        blocks=blocks,
    )
    validate_pain008(xml)
    groups = [
        PaymentGroup(
            payment_information_id=group_id,
            sequence_type=sequence,
            count=len(members),
            control_sum=Money.sum(entry.item.amount for entry in members),
            end_to_end_ids=tuple(entry.item.invoice_number for entry in members),
        )
        for group_id, sequence, members in blocks
    ]
    debits = [
        CollectedDebit(
            end_to_end_id=entry.item.invoice_number,
            invoice_id=entry.item.invoice_id,
            household_id=entry.item.household_id,
            amount=entry.item.amount,
            sequence_type=sequence,
            mandate_reference=entry.mandate.reference,
        )
        for _, sequence, members in blocks
        for entry in members
    ]

    mandates: dict[str, DirectDebitMandate] = {}
    totals: dict[str, Money] = {}
    for entry in checked:
        reference = entry.mandate.reference
        mandates.setdefault(reference, entry.mandate.after_collection(collection_date))
        totals[reference] = totals.get(reference, Money.zero()) + entry.item.amount
    announcements = tuple(
        DirectDebitAnnounced(
            occurred_at=now,
            household_id=mandates[reference].household_id,
            amount=total,
            collection_date=collection_date,
            mandate_reference=reference,
        )
        for reference, total in totals.items()
    )
    return CollectionRun(
        message_id=message_id,
        created_at=now,
        collection_date=collection_date,
        xml=xml,
        groups=tuple(groups),
        debits=tuple(debits),
        mandates=tuple(mandates.values()),
        announcements=announcements,
    )


def run_collection(
    creditor: SepaCreditor,
    items: Iterable[DebitItem],
    *,
    collection_date: date,
    clock: Clock,
    path: str | os.PathLike[str],
    message_id: str | None = None,
    pre_notification_days: int = 14,
) -> CollectionRun:
    """:func:`build_collection`, then write the validated file to ``path``.

    Any error is raised before the file is created: a failed run leaves no file behind.
    """
    run = build_collection(
        creditor,
        items,
        collection_date=collection_date,
        clock=clock,
        message_id=message_id,
        pre_notification_days=pre_notification_days,
    )
    run.write(path)
    return run


@attrs.frozen(kw_only=True)
class ReturnResult:
    """What returned or rejected debits mean: the invoices to reopen, ids not recognised."""

    returned: tuple[CollectedDebit, ...]
    unknown_ids: tuple[str, ...]

    @property
    def invoice_ids_to_reopen(self) -> tuple[str, ...]:
        """Ids of the invoices whose debit failed: their balance is due again."""
        return tuple(debit.invoice_id for debit in self.returned)

    @property
    def amount(self) -> Money:
        """Total amount that did not come in."""
        return Money.sum(debit.amount for debit in self.returned)


def process_returns(
    debits: CollectionRun | Iterable[CollectedDebit],
    end_to_end_ids: Iterable[str],
    *,
    strict: bool = False,
) -> ReturnResult:
    """Match the bank's returned/rejected end-to-end ids with the debits that were sent.

    Each matched debit's invoice must be reopened (its payment reversed in the ledger). An id
    listed twice counts once. Ids that match nothing are listed in ``unknown_ids`` for staff,
    or raise :class:`NotFoundError` when ``strict``. The mandates stay as the run left them:
    since the 2016 SEPA Core rulebook a debit after a returned FRST may be sent as RCUR.
    """
    sent = debits.debits if isinstance(debits, CollectionRun) else tuple(debits)
    by_id = {debit.end_to_end_id: debit for debit in sent}
    returned: list[CollectedDebit] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for raw in end_to_end_ids:
        if not isinstance(raw, str):
            raise InvalidInputError(
                f"an end-to-end id is a string, got {raw!r}", path="end_to_end_ids"
            )
        identifier = raw.strip()
        if identifier in seen:
            continue
        seen.add(identifier)
        if identifier in by_id:
            returned.append(by_id[identifier])
        else:
            unknown.append(identifier)
    if strict and unknown:
        raise NotFoundError(f"prélèvements rejetés absents de cette remise : {', '.join(unknown)}")
    return ReturnResult(returned=tuple(returned), unknown_ids=tuple(unknown))


class SepaDirectDebit:
    """The direct debit "provider" the plugin system builds from ``[payment.sepa]``.

    It holds the creditor and the notice period and writes each run's file under
    ``output_dir`` as ``pain008-<message id>.xml``.
    """

    name: ClassVar[str] = "sepa"

    def __init__(
        self,
        creditor: SepaCreditor,
        *,
        output_dir: str | os.PathLike[str] | None = None,
        pre_notification_days: int = 14,
    ) -> None:
        self.creditor = creditor
        self.output_dir = None if output_dir is None else Path(output_dir)
        self.pre_notification_days = pre_notification_days

    def __repr__(self) -> str:
        return f"SepaDirectDebit({self.creditor!r}, output_dir={self.output_dir!r})"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SepaDirectDebit:
        """The factory the plugin system calls with the ``[payment.sepa]`` table."""
        creditor_keys = {"creditor_name", "creditor_iban", "creditor_bic", "creditor_id"}
        check_known_settings(
            "payment.sepa", settings, {*creditor_keys, "output_dir", "pre_notification_days"}
        )
        days = settings.get("pre_notification_days", 14)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise setting_error(
                "payment.sepa",
                "pre_notification_days",
                "doit être un nombre de jours positif",
                days,
            )
        output_dir = settings.get("output_dir")
        if output_dir is not None and not isinstance(output_dir, str):
            raise setting_error(
                "payment.sepa", "output_dir", "doit être un chemin de dossier", output_dir
            )
        creditor = SepaCreditor.from_mapping(
            {key: value for key, value in settings.items() if key in creditor_keys}
        )
        return cls(creditor, output_dir=output_dir, pre_notification_days=days)

    def collect(
        self,
        items: Iterable[DebitItem],
        *,
        collection_date: date,
        clock: Clock,
        message_id: str | None = None,
    ) -> tuple[CollectionRun, Path | None]:
        """Build the run and, when ``output_dir`` is set, write its file there."""
        run = build_collection(
            self.creditor,
            items,
            collection_date=collection_date,
            clock=clock,
            message_id=message_id,
            pre_notification_days=self.pre_notification_days,
        )
        if self.output_dir is None:
            return run, None
        return run, run.write(self.output_dir / f"pain008-{run.message_id}.xml")

    def read_returns(self, data: bytes) -> BankReturnFile:
        """The returned debits of a pain.002 or camt.054 file
        (:func:`~canteen_adapters.payment.bank_returns.read_bank_returns`)."""
        return read_bank_returns(data)


canteen_payment_providers = offer(
    PaymentProviderBackend, SepaDirectDebit, "SEPA Core direct debit: pain.008.001.02 files"
)
