"""Credit notes (avoirs) issued by the finance office."""

from __future__ import annotations

from collections.abc import Iterable

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.invoicing import (
    CREDIT_NOTE_PREFIX,
    CreditNote,
    InvoiceLine,
    credit_note,
)
from canteen_core.domain.ledger import check_whole_cents
from canteen_core.domain.money import Money
from canteen_core.domain.policy import Action
from canteen_core.services.billing._base import BillingBase
from canteen_core.services.billing.statements import household_account


class CreditNotes(BillingBase):
    """Credit notes on issued invoices."""

    # -- credit notes --------------------------------------------------------------------------

    def issue_credit_note(
        self,
        actor: Actor,
        invoice_id: str,
        *,
        reason: str,
        amount: Money | None = None,
        lines: Iterable[InvoiceLine] | None = None,
    ) -> CreditNote:
        """Issue a credit note (avoir) on an invoice (``issue_credit_note``: finance, admin).

        Give either ``lines`` or an ``amount`` (one line "Avoir - <reason>"); with neither, the
        whole remainder of the invoice is credited (cancelling it). Refused above what remains
        of the invoice after earlier credit notes. The ledger turns a credit on a paid invoice
        into household credit.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInputError("indiquez le motif de l'avoir", path="reason")
        if amount is not None and lines is not None:
            raise InvalidInputError(
                "indiquez des lignes ou un montant pour l'avoir, pas les deux", path="amount"
            )
        if amount is not None:
            check_whole_cents(amount)  # 0.004 would give a numbered note of 0.00
        with self._ctx.use_case(actor, Action.ISSUE_CREDIT_NOTE) as tx:
            uow = tx.uow
            invoice = uow.invoices.get(invoice_id)
            previous = list(uow.credit_notes.list(invoice_id=invoice.id))
            remaining = invoice.total - Money.sum((n.total for n in previous), invoice.currency)
            if lines is not None:
                items = tuple(lines)
            else:
                value = remaining if amount is None else amount
                if not value.is_positive:
                    raise RuleViolationError(
                        f"la facture {invoice.number} est déjà entièrement annulée par des avoirs"
                    )
                items = (
                    InvoiceLine.build(
                        service_id=invoice.lines[0].service_id,
                        description=f"Avoir – {reason.strip()}",
                        quantity=1,
                        unit_price=value,
                    ),
                )
            issue_date = max(paris_date(tx.now), invoice.issue_date)
            sequence = uow.invoices.sequence(
                self.issuer_id, issue_date.year, kind="credit_note", prefix=CREDIT_NOTE_PREFIX
            )
            note, advanced = credit_note(
                invoice,
                lines=items,
                reason=reason.strip(),
                sequence=sequence,
                issue_date=issue_date,
                previous=previous,
            )
            account = household_account(uow, invoice.household_id)
            account.add_credit_note(note)  # ledger rules checked before anything is stored
            uow.credit_notes.add(note)
            uow.invoices.save_sequence(advanced, kind="credit_note")
            household = uow.households.get(invoice.household_id)
            self._announce_credit_notes(
                tx, [note], {invoice.id: invoice}, {household.id: household}
            )
            tx.audit.change(
                f"credit_note:{note.id}",
                "total",
                None,
                note.total,
                household_id=invoice.household_id,
            )
            tx.audit.touch(f"invoice:{invoice.id}")
            tx.audit.describe(
                f"Avoir {note.number} sur la facture {invoice.number} : {reason.strip()}"
            )
        return note
