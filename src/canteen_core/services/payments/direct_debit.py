"""Direct debit: SEPA mandates, collection runs and returned debits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date
from pathlib import Path

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import (
    CanteenError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.families import Household
from canteen_core.domain.ledger import (
    Payment,
    PaymentMethod,
)
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateKind,
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
from canteen_core.services.payments._base import (
    PaymentBase,
    _a_date,
    _paris_date,
    _sepa_id,
    _text,
)
from canteen_core.services.payments.mandate_papers import (
    authorization_paper,
    discard,
    draw_authorization,
    filed_paper,
    forget_replaced,
    refiled_paper,
)
from canteen_core.services.runner import Transaction


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


class DirectDebits(PaymentBase):
    """SEPA mandates, collections and returns."""

    # -- SEPA mandates -------------------------------------------------------------------------

    def sign_mandate(
        self,
        actor: Actor,
        household_id: str,
        *,
        iban: str,
        debtor_name: str | None = None,
        bic: str | None = None,
        signed_on: date | None = None,
        reference: str | None = None,
        kind: MandateKind | str = MandateKind.RECURRENT,
    ) -> DirectDebitMandate:
        """Join direct debit: a SEPA mandate on the household's bank account.

        ``manage_direct_debit``: the payer for their own household, or finance. The IBAN is
        checked (mod 97); the reference (RUM) is generated unless given. One collectable
        mandate per household: change its IBAN (:meth:`change_mandate_iban`) instead.

        In the same use case, the signed authorization (creditor and ICS, RUM, debtor, IBAN,
        payment type, date and place, the SEPA mention) is drawn by the
        ``canteen_render_mandate_authorization`` plugins and filed in the household's papers
        (kind ``mandat_sepa``, :mod:`.mandate_papers`); refused input stores neither.
        """
        household_id = _text(household_id, "household_id")
        ctx = self._ctx
        with ctx.use_case(
            actor, Action.MANAGE_DIRECT_DEBIT, household_id=household_id, read_only=True
        ) as tx:
            household = tx.uow.households.get(household_id)
            _check_no_active(tx.uow, household_id)
            rum = reference or _sepa_id(
                f"RUM-{ctx.deployment.issuer.code}-{tx.new_id()[:12].upper()}"
            )
            mandate = DirectDebitMandate(
                reference=validate_mandate_reference(rum),
                household_id=household_id,
                debtor_name=debtor_name or _debtor_name(household),
                iban=iban,
                signed_on=_a_date(signed_on or _paris_date(tx.now), "signed_on"),
                bic=bic,
                kind=kind,
            )
            signed_at = tx.now
        drawn = draw_authorization(
            ctx, mandate, household, signed_at=signed_at, creditor=self._creditor()
        )
        try:
            with ctx.use_case(actor, Action.MANAGE_DIRECT_DEBIT, household_id=household_id) as tx:
                uow = tx.uow
                uow.households.get(household_id)
                _check_no_active(uow, household_id)
                uow.mandates.add(mandate)
                if drawn is not None:
                    paper = filed_paper(
                        ctx, actor, mandate, drawn, paper_id=tx.new_id(), at=signed_at
                    )
                    uow.family_papers.add(paper)
                tx.audit.change(
                    f"mandate:{mandate.reference}",
                    "iban",
                    None,
                    _masked(mandate.iban),
                    household_id=household_id,
                )
                tx.audit.describe(f"Signature du mandat {mandate.reference}")
        except BaseException:
            discard(ctx, drawn, household_id)
            raise
        return mandate

    def change_mandate_iban(
        self,
        actor: Actor,
        household_id: str,
        *,
        iban: str,
        bic: str | None = None,
        changed_on: date | None = None,
    ) -> DirectDebitMandate:
        """Amend the household's collectable mandate for a new bank account (same RUM); its
        filed authorization is drawn again with the new account."""

        def audit(tx: Transaction, before: DirectDebitMandate, after: DirectDebitMandate) -> None:
            tx.audit.change(
                f"mandate:{before.reference}",
                "iban",
                _masked(before.iban),
                _masked(after.iban),
                household_id=household_id,
            )

        return self._amend(
            actor,
            household_id,
            lambda mandate, today: mandate.with_new_iban(
                iban, changed_on=changed_on or today, bic=bic
            ),
            audit,
        )

    def revoke_mandate(
        self,
        actor: Actor,
        household_id: str,
        *,
        final_collection: bool = False,
        on: date | None = None,
    ) -> DirectDebitMandate:
        """Leave direct debit: revoke the household's mandate (``final_collection``: one last
        FNAL debit is still presented). The filed authorization is drawn again, stating the
        revocation, and its paper is valid until that day."""

        def audit(tx: Transaction, before: DirectDebitMandate, after: DirectDebitMandate) -> None:
            tx.audit.change(
                f"mandate:{before.reference}",
                "status",
                before.status,
                after.status,
                household_id=household_id,
            )

        return self._amend(
            actor,
            household_id,
            lambda mandate, today: mandate.revoke(on or today, final_collection=final_collection),
            audit,
        )

    def _amend(
        self,
        actor: Actor,
        household_id: str,
        change: Callable[[DirectDebitMandate, date], DirectDebitMandate],
        audit: Callable[[Transaction, DirectDebitMandate, DirectDebitMandate], None],
    ) -> DirectDebitMandate:
        """Change the household's active mandate and re-draw its filed authorization: drawn
        from a first read, then stored if the mandate did not change meanwhile."""
        household_id = _text(household_id, "household_id")
        ctx = self._ctx
        with ctx.use_case(
            actor, Action.MANAGE_DIRECT_DEBIT, household_id=household_id, read_only=True
        ) as tx:
            mandate = self._active_mandate(tx.uow, household_id)
            changed = change(mandate, _paris_date(tx.now))
            paper = authorization_paper(tx.uow, mandate)
            household = tx.uow.households.get(household_id)
        drawn = None
        if paper is not None:
            drawn = draw_authorization(
                ctx,
                changed,
                household,
                signed_at=paper.uploaded_at,
                creditor=self._creditor(),
            )
        try:
            with ctx.use_case(actor, Action.MANAGE_DIRECT_DEBIT, household_id=household_id) as tx:
                if self._active_mandate(tx.uow, household_id) != mandate:
                    raise ConflictError("le mandat vient d'être modifié : recommencez")
                tx.uow.mandates.save(changed)
                if paper is not None and drawn is not None:
                    current = tx.uow.family_papers.get(paper.id)
                    tx.uow.family_papers.save(refiled_paper(ctx, current, changed, drawn))
                audit(tx, mandate, changed)
        except BaseException:
            discard(ctx, drawn, household_id)
            raise
        if drawn is not None:
            forget_replaced(ctx, paper)
        return changed

    def _creditor(self) -> Creditor | None:
        """The direct-debit adapter's creditor, ``None`` while direct debit is not set up."""
        try:
            return self.direct_debit_provider().creditor
        except CanteenError:
            return None

    def mandates(self, actor: Actor, household_id: str) -> list[DirectDebitMandate]:
        """The household's mandates, newest signature first (``view_payments``)."""
        with self._viewing(actor, Action.VIEW_PAYMENTS, household_id) as tx:
            found = list(tx.uow.mandates.list(household_id=household_id))
            tx.audit.read(household_id, "coordonnées bancaires (mandats SEPA)")
        return sorted(found, key=lambda m: (m.signed_on, m.reference), reverse=True)

    def _active_mandate(self, uow: UnitOfWork, household_id: str) -> DirectDebitMandate:
        """The household's collectable mandate ("introuvable" without one)."""
        uow.households.get(household_id)
        active = [m for m in uow.mandates.list(household_id=household_id) if m.collectable]
        if not active:
            raise NotFoundError("ce foyer n'a pas de mandat de prélèvement actif")
        return max(active, key=lambda m: (m.signed_on, m.reference))

    # -- SEPA collections ----------------------------------------------------------------------

    def run_direct_debit(
        self, actor: Actor, collection_date: date, *, message_id: str | None = None
    ) -> DirectDebitReport:
        """Collect every unpaid invoice of households with a collectable mandate on
        ``collection_date`` (``export_sepa``: finance, admin, system).

        Builds the pain.008.001.02 file through the ``sepa`` adapter (validated against the
        XSD, written to its ``output_dir``), records a direct-debit payment per invoice,
        advances the mandates (FRST -> RCUR) and queues the pre-notification emails. A
        collection date with too short a notice, or any invalid debit, raises and changes
        nothing (no file).
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
                for state in account.open_invoices():
                    items.append(
                        DebitItem(
                            household_id=household_id,
                            invoice_id=state.invoice.id,
                            invoice_number=state.invoice.number,
                            amount=state.balance_due,
                            mandate=mandate,
                        )
                    )
                    debits.append(
                        (household_id, state.invoice.number, state.balance_due, sequence_type)
                    )
                    payment = Payment(
                        id=f"sepa:{message}:{state.invoice.number}",
                        household_id=household_id,
                        amount=state.balance_due,
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
            day = rejected_on or _paris_date(tx.now)
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


def _check_no_active(uow: UnitOfWork, household_id: str) -> None:
    """Refuse a second collectable mandate."""
    if any(m.collectable for m in uow.mandates.list(household_id=household_id)):
        raise RuleViolationError(
            "ce foyer a déjà un mandat de prélèvement actif : modifiez ses coordonnées bancaires"
        )


def _masked(iban: str) -> str:
    """An IBAN as the audit trail keeps it: country and last four characters."""
    return f"{iban[:2]}…{iban[-4:]}"


def _debtor_name(household: Household) -> str:
    payer = household.payer
    return f"{payer.first_name} {payer.last_name.upper()}"[:70]


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
    text = text.removeprefix(f"invalid {DirectDebitMandate.__name__}: ")  # a stored mandate
    household = uow.households.find(household_id)
    who = household.payer.display_name if household is not None else household_id
    return f"{who} : {text}"
