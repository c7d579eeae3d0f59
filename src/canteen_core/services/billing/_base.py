"""Billing options and what the billing use cases share (the issuer, the mode, announcing
an invoice, the household's e-mail recipients).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date

import attrs

from canteen_core.config.deployment import BillingMode as DeploymentBillingMode
from canteen_core.domain.actors import Actor
from canteen_core.domain.charging import ChargingPolicy
from canteen_core.domain.errors import (
    InvalidInputError,
    NotFoundError,
)
from canteen_core.domain.events import CreditNoteIssued, InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import (
    BillingMode,
    CreditNote,
    Invoice,
    InvoiceTerms,
)
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import OutgoingMessage, Recipient
from canteen_core.domain.policy import Action, is_allowed
from canteen_core.domain.reminders import (
    ArrearsRule,
    DunningSchedule,
)
from canteen_core.domain.tariffs import (
    TariffBook,
)
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.runner import ServiceBase, ServiceContext, Transaction

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")


# -- options and results -------------------------------------------------------------------------


def _batch_size(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidInputError(
            f"la taille de lot doit être un entier de 1 à 10000 (reçu « {value} »)", path="batch"
        )


def _lookback(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise InvalidInputError(
            f"{attribute.name} doit être un nombre de jours de 0 à 366 (reçu « {value} »)",
            path=attribute.name,
        )


def _months(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24:
        raise InvalidInputError(
            f"{attribute.name} doit être un nombre de mois de 0 à 24 (reçu « {value} »)",
            path=attribute.name,
        )


def _optional_rule(
    _: object, attribute: attrs.Attribute[ArrearsRule | None], value: object
) -> None:
    if value is not None and not isinstance(value, ArrearsRule):
        raise InvalidInputError("must be an ArrearsRule or None", path=attribute.name)


def _minimum(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money) or value.is_negative:
        shown = value.format_fr() if isinstance(value, Money) else value
        raise InvalidInputError(
            f"{attribute.name} doit être un montant positif ou nul (reçu « {shown} »)",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class BillingOptions:
    """How a deployment bills (the deployment file only says prepaid or post-paid).

    ``terms``: due date and online-payment opening; ``charging``: carence days and what late
    cancellations and unrecorded days cost; ``dunning``: reminder levels; ``arrears_rule``:
    block new bookings above overdue arrears (``None``: never; by default the deployment's
    ``[billing] arrears_threshold``, which the reservations service applies); ``batch_size``:
    households per transaction in billing and reminder runs; ``carence_lookback_days``: how far
    back a run looks for a justified-absence run that started before the period (so the carence
    is not charged twice for an illness spanning two months); ``online_payment_minimum``: the
    smallest balance payable online (shown in "MES FACTURES");
    ``regularisation_months``: how many months before the billed one a post-paid run checks
    again for changes to days already invoiced (régularisation; 0: never).
    """

    terms: InvoiceTerms = attrs.Factory(InvoiceTerms)
    charging: ChargingPolicy = attrs.Factory(ChargingPolicy)
    dunning: DunningSchedule = attrs.Factory(DunningSchedule)
    arrears_rule: ArrearsRule | None = attrs.field(default=None, validator=_optional_rule)
    batch_size: int = attrs.field(default=200, validator=_batch_size)
    carence_lookback_days: int = attrs.field(default=62, validator=_lookback)
    online_payment_minimum: Money = attrs.field(default=Money.of("1.00"), validator=_minimum)
    regularisation_months: int = attrs.field(default=12, validator=_months)


# -- pure helpers ----------------------------------------------------------------------------


def parse_period(period: str) -> tuple[date, date]:
    """``"2023-09"`` -> ``(2023-09-01, 2023-09-30)``; :class:`InvalidInputError` otherwise."""
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1901:
        raise InvalidInputError(
            f"mois invalide « {str(period)[:20]} » : écrivez 2023-09", path="period"
        )
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def household_recipients(household: Household) -> list[Recipient]:
    """The household's guardians that have an email address (payer first)."""
    recipients: list[Recipient] = []
    for guardian in household.guardians:
        if guardian.email:
            try:
                recipients.append(Recipient.from_guardian(guardian))
            except InvalidInputError:
                continue  # an unusable address must not block billing; the letter goes by post
    return recipients


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _household_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("identifiant de foyer attendu", path="household_id")
    return value


class BillingBase(ServiceBase):
    """What every billing use case shares: the options, the issuer, the mode, the tariffs,
    and announcing an issued invoice."""

    def __init__(self, context: ServiceContext, options: BillingOptions | None = None) -> None:
        super().__init__(context)
        self.options = options or BillingOptions(
            arrears_rule=context.deployment.billing.arrears_rule
        )

    @property
    def issuer_id(self) -> str:
        """The régie that bills (``[issuer] code`` of the deployment)."""
        return self._ctx.deployment.issuer.code

    @property
    def mode(self) -> BillingMode:
        """The deployment's billing mode (``[billing] mode``)."""
        if self._ctx.deployment.billing.mode is DeploymentBillingMode.PREPAID:
            return BillingMode.PREPAID
        return BillingMode.POSTPAID

    @staticmethod
    def _run_households(uow: UnitOfWork, household_ids: Iterable[str] | None) -> list[str]:
        """The households a run bills, sorted: all of them (``None``), or the given ones,
        each checked to exist (:class:`NotFoundError` before anything is written)."""
        if household_ids is None:
            return sorted(uow.households.ids())
        subset = list(dict.fromkeys(household_ids))
        for index, household_id in enumerate(subset):
            if not isinstance(household_id, str) or not household_id:
                raise InvalidInputError("household ids are strings", path=f"household_ids[{index}]")
            if uow.households.find(household_id) is None:
                raise NotFoundError(f"unknown household {household_id!r}")
        return sorted(subset)

    def _tariff_book(self, uow: UnitOfWork) -> TariffBook:
        return TariffBook(grids=tuple(uow.tariffs.list()))

    def _family_or(self, actor: Actor, staff_action: Action, family_action: Action) -> Action:
        return staff_action if is_allowed(actor, staff_action) else family_action

    def _announce(
        self,
        tx: Transaction,
        invoice: Invoice,
        household: Household,
        event: InvoiceIssued | None = None,
    ) -> None:
        """Emit ``invoice``'s :class:`InvoiceIssued` (``event`` when already built for it at
        ``tx.now``) and queue its e-mails."""
        if event is None or event.occurred_at != tx.now:
            event = invoice.issued_event(tx.now)
        tx.emit(event)
        tx.send(*self._invoice_messages(event, invoice, household))

    def _announce_credit_notes(
        self,
        tx: Transaction,
        notes: Iterable[CreditNote],
        invoices: Mapping[str, Invoice],
        households: Mapping[str, Household],
    ) -> None:
        """Emit each credit note's :class:`CreditNoteIssued` and queue its e-mails (one path
        for every credit note: the finance office's, prepaid cancellations', régularisation's).
        ``invoices`` and ``households`` hold at least those the notes name."""
        for note in notes:
            invoice = invoices[note.invoice_id]
            event = CreditNoteIssued(
                occurred_at=tx.now,
                credit_note_id=note.id,
                number=note.number,
                invoice_id=invoice.id,
                invoice_number=invoice.number,
                household_id=note.household_id,
                total=note.total,
                reason=note.reason,
            )
            tx.emit(event)
            recipients = household_recipients(households[note.household_id])
            if recipients:
                tx.send(*self._ctx.notifier.credit_note_issued(event, recipients))

    def _invoice_messages(
        self, event: InvoiceIssued, invoice: Invoice, household: Household
    ) -> list[OutgoingMessage]:
        recipients = household_recipients(household)
        if not recipients:
            return []
        # Rendered by the outbox dispatcher at the send, not in the run's transaction.
        return self._ctx.notifier.invoice_issued(
            event,
            recipients,
            label=invoice.label,
            payable_online_from=invoice.payment_open_date,
            deferred=True,
        )
