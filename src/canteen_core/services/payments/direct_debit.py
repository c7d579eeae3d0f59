"""Direct debit: SEPA collection runs and returned debits.

The mandates they collect on (signing, bank account changes, revocation) are
:mod:`canteen_core.services.payments.mandates`, which :class:`DirectDebits` builds on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date
from pathlib import Path

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    CanteenError,
    InvalidInputError,
)
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.families import Household
from canteen_core.domain.ledger import (
    Payment,
    PaymentMethod,
)
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateStatus,
    checked_iban,
    validate_mandate_reference,
)
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import OutgoingMessage, message_id_for
from canteen_core.domain.policy import Action
from canteen_core.ports.direct_debit import Creditor, DebitItem
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing import (
    household_account,
    household_recipients,
)
from canteen_core.services.payments._base import _a_date, _sepa_id, _text
from canteen_core.services.payments.mandates import DirectDebitMandates


@attrs.frozen(kw_only=True)
class DirectDebitReport:
    """A direct-debit collection run: the pain.008 message and what went into it.

    ``debits`` lists ``(household id, invoice number, amount, sequence type)``; ``skipped``
    ``(household id, reason)`` for households whose mandate cannot be used on that date.
    ``path`` is the file written by the adapter (``None`` without ``output_dir``, or when
    there was nothing to collect).
    """

    message_id: str | None
    collection_date: date
    xml: bytes | None = attrs.field(repr=False)
    path: Path | None
    debits: tuple[tuple[str, str, Money, str], ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def count(self) -> int:
        """Number of debits in the file."""
        return len(self.debits)

    @property
    def control_sum(self) -> Money:
        """Total amount collected."""
        return Money.sum(debit[2] for debit in self.debits)


@attrs.frozen(kw_only=True)
class DebitReturns:
    """Returned or rejected debits: the invoices reopened and the ids nobody recognised."""

    reopened_invoice_ids: tuple[str, ...]
    rejected_payment_ids: tuple[str, ...]
    unknown_ids: tuple[str, ...]


class DirectDebits(DirectDebitMandates):
    """SEPA mandates (:class:`DirectDebitMandates`), collections and returns."""

    # -- SEPA collections ----------------------------------------------------------------------

    def run_direct_debit(
        self, actor: Actor, collection_date: date, *, message_id: str | None = None
    ) -> DirectDebitReport:
        """Collect every unpaid invoice of households with a collectable mandate on
        ``collection_date`` (``export_sepa``: finance, admin, system).

        Builds the pain.008.001.02 file through the ``sepa`` adapter (validated against the
        XSD, written to its ``output_dir``), records a direct-debit payment per invoice dated
        the collection date (scheduled until then: the invoice is not paid, but no reminder,
        second debit or online payment asks for it), advances the mandates (FRST -> RCUR) and
        queues the pre-notification emails. A collection date with too short a notice, or any
        invalid debit, raises and changes nothing (no file).
        """
        day = _a_date(collection_date, "collection_date")
        sepa = self.direct_debit_provider()
        with self._ctx.use_case(actor, Action.EXPORT_SEPA) as tx:
            uow = tx.uow
            message = message_id or _sepa_id(
                f"{self._ctx.deployment.issuer.code}-{tx.now.astimezone(UTC):%Y%m%d%H%M%S}"
            )
            validate_mandate_reference(message, path="message_id")
            skipped: list[tuple[str, str]] = []
            chosen = _collectable_mandates(uow, skipped)
            items: list[DebitItem] = []
            debits: list[tuple[str, str, Money, str]] = []
            for household_id in sorted(chosen):
                mandate = chosen[household_id]
                try:
                    sequence_type = mandate.check_collectable(day)
                    checked_iban(mandate.iban)  # a bank's IBAN rules may have changed since
                except CanteenError as error:
                    skipped.append((household_id, _skipped_reason(uow, household_id, error)))
                    continue
                account = household_account(uow, household_id)
                # A debit already in an earlier file covers its invoice: not debited twice.
                for state in account.open_invoices():
                    items.append(
                        DebitItem(
                            household_id=household_id,
                            invoice_id=state.invoice.id,
                            invoice_number=state.invoice.number,
                            amount=state.uncovered,
                            mandate=mandate,
                        )
                    )
                    debits.append(
                        (household_id, state.invoice.number, state.uncovered, sequence_type)
                    )
                    payment = Payment(
                        id=f"sepa:{message}:{state.invoice.number}",
                        household_id=household_id,
                        amount=state.uncovered,
                        method=PaymentMethod.DIRECT_DEBIT,
                        received_on=day,
                        invoice_ids=(state.invoice.id,),
                        reference=state.invoice.number,
                    )
                    account = self._store_payment(tx, account, payment, notify=False)
            if not items:
                return DirectDebitReport(
                    message_id=None,
                    collection_date=day,
                    xml=None,
                    path=None,
                    debits=(),
                    skipped=tuple(skipped),
                )
            # Last step before the commit: build, validate and write the file.
            run, path = sepa.collect(
                items, collection_date=day, clock=self._ctx.clock, message_id=message
            )
            for mandate in run.mandates:
                uow.mandates.save(mandate)
            creditor = sepa.creditor
            for announcement in run.announcements:
                tx.emit(announcement)
                household = uow.households.get(announcement.household_id)
                tx.send(*self._pre_notifications(announcement, household, creditor))
        return DirectDebitReport(
            message_id=run.message_id,
            collection_date=day,
            xml=run.xml,
            path=path,
            debits=tuple(debits),
            skipped=tuple(skipped),
        )

    def _pre_notifications(
        self, event: DirectDebitAnnounced, household: Household, creditor: Creditor
    ) -> list[OutgoingMessage]:
        notifier = self._ctx.notifier
        context = {
            "amount": event.amount,
            "collection_date": event.collection_date,
            "mandate_reference": event.mandate_reference,
            "creditor_name": creditor.name
            or notifier.settings.creditor_name
            or notifier.settings.organisation,
            "creditor_identifier": creditor.creditor_id or notifier.settings.creditor_identifier,
        }
        key = f"{event.household_id}:{event.mandate_reference}:{event.collection_date.isoformat()}"
        messages: list[OutgoingMessage] = []
        for recipient in household_recipients(household):
            if any(m.to_address == recipient.address for m in messages):
                continue
            message = notifier.render(
                "direct-debit-announced",
                recipient,
                context,
                key=key,
                household_id=event.household_id,
            )
            assert message.id == message_id_for("direct-debit-announced", key, recipient.address)
            messages.append(message)
        return messages

    def record_debit_returns(
        self,
        actor: Actor,
        end_to_end_ids: Iterable[str],
        *,
        rejected_on: date | None = None,
    ) -> DebitReturns:
        """Returned or rejected debits from the bank (their end-to-end ids, the invoice
        numbers): each matching direct-debit payment is marked rejected and its invoice
        reopens (``record_payment``). Ids matching nothing are listed, not an error; an id
        listed twice, or returned twice, counts once."""
        if isinstance(end_to_end_ids, str):
            raise InvalidInputError("give a list of end-to-end ids", path="end_to_end_ids")
        ids = list(dict.fromkeys(_text(i, "end_to_end_ids") for i in end_to_end_ids))
        reopened: list[str] = []
        rejected: list[str] = []
        unknown: list[str] = []
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            day = rejected_on or paris_date(tx.now)
            for identifier in ids:
                candidates = [
                    p
                    for p in uow.payments.list(
                        reference=identifier, method=PaymentMethod.DIRECT_DEBIT.value
                    )
                    if not p.is_rejected
                ]
                if not candidates:
                    unknown.append(identifier)
                    continue
                payment = max(candidates, key=lambda p: (p.received_on, p.id))
                self._reject(uow, payment, day)
                rejected.append(payment.id)
                reopened.extend(payment.invoice_ids)
        return DebitReturns(
            reopened_invoice_ids=tuple(reopened),
            rejected_payment_ids=tuple(rejected),
            unknown_ids=tuple(unknown),
        )


def _collectable_mandates(
    uow: UnitOfWork, skipped: list[tuple[str, str]]
) -> dict[str, DirectDebitMandate]:
    """The newest active (or final) mandate of each household. A stored mandate that no
    longer reads (an IBAN valid when it was signed, refused by today's rules) does not stop
    the run: its household is added to ``skipped`` with the reason, the others are read."""
    chosen: dict[str, DirectDebitMandate] = {}
    statuses = (MandateStatus.ACTIVE.value, MandateStatus.FINAL_PENDING.value)
    try:
        found = [m for status in statuses for m in uow.mandates.list(status=status)]
    except InvalidInputError:
        found = []
        for household_id in uow.households.ids():
            try:
                mandates = list(uow.mandates.list(household_id=household_id))
            except InvalidInputError as error:
                skipped.append((household_id, _skipped_reason(uow, household_id, error)))
                continue
            found.extend(m for m in mandates if m.status.value in statuses)
    for mandate in found:
        known = chosen.get(mandate.household_id)
        if known is None or mandate.signed_on > known.signed_on:
            chosen[mandate.household_id] = mandate
    return chosen


def _skipped_reason(uow: UnitOfWork, household_id: str, error: CanteenError) -> str:
    """Why a household is not collected, naming its payer (French, for staff)."""
    text = error.message if isinstance(error, InvalidInputError) else str(error)
    text = text.removeprefix(f"{DirectDebitMandate.__name__} invalide : ")  # a stored mandate
    household = uow.households.find(household_id)
    who = household.payer.display_name if household is not None else household_id
    return f"{who} : {text}"
