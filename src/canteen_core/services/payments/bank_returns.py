"""The bank's return files: rejected and returned direct debits, loaded by staff.

:meth:`BankReturns.load_debit_returns` hands the file's bytes to the direct-debit adapter
(:class:`~canteen_core.ports.direct_debit.BankReturnReader`: pain.002 or camt.054, checked
against its XSD), then, in one transaction, matches each returned transaction to its debit (the
end-to-end id is the invoice number canteen wrote in the pain.008 file) and for each:

- marks the direct-debit payment rejected (it is kept: the ledger replays it as received then
  reversed, so the invoice's balance due comes back);
- stores a :class:`~canteen_core.domain.debit_returns.DebitReturn` with the bank's reason code,
  the ledger entry "Mes prélèvements" shows;
- queues the French "prélèvement rejeté" e-mail to the household.

A file is recognised by the digest of its bytes: loading it again changes nothing and the report
says so (``already_loaded``). A debit already returned by another file is listed, not returned
twice. A file naming an end-to-end id canteen never sent, or an amount that is not the debit's,
is refused as a whole: nothing changes.
"""

from __future__ import annotations

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.debit_returns import BankReturnFile, DebitReturn, ReturnedTransaction
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.ledger import Payment, PaymentMethod
from canteen_core.domain.money import Money
from canteen_core.domain.policy import Action
from canteen_core.ports.direct_debit import BankReturnReader
from canteen_core.services.billing import household_recipients
from canteen_core.services.payments._base import PaymentBase
from canteen_core.services.runner import Transaction

__all__ = ["BankReturns", "ReturnFileReport"]

#: The outbox message kind telling a family its debit was returned.
RETURN_KIND = "direct-debit-returned"


@attrs.frozen(kw_only=True)
class ReturnFileReport:
    """What loading a return file did: the debits returned now, the end-to-end ids an
    earlier file had already returned, and ``already_loaded`` when this very file was
    loaded before (then nothing changed)."""

    kind: str
    message_id: str
    already_loaded: bool
    returns: tuple[DebitReturn, ...]
    already_returned: tuple[str, ...]

    @property
    def summary(self) -> str:
        """One French line for staff: what the file did."""
        name = f"Fichier {self.kind} {self.message_id}"
        if self.already_loaded:
            return f"{name} déjà chargé : rien n'a été modifié."
        count = len(self.returns)
        if count == 0:
            text = f"{name} : aucun prélèvement rejeté"
        else:
            total = Money.sum(entry.amount for entry in self.returns)
            plural = "s" if count > 1 else ""
            text = (
                f"{name} : {count} prélèvement{plural} rejeté{plural} "
                f"({total.format_fr()}), facture{plural} rouverte{plural}"
            )
        if self.already_returned:
            text += f" ; déjà rejetés auparavant : {', '.join(self.already_returned)}"
        return text + "."

    @property
    def reopened_invoice_ids(self) -> tuple[str, ...]:
        """The invoices whose balance is due again."""
        return tuple(i for entry in self.returns for i in entry.invoice_ids)


class BankReturns(PaymentBase):
    """Loading the bank's pain.002 and camt.054 return files."""

    def read_return_file(self, data: bytes) -> BankReturnFile:
        """Read a return file through the direct-debit adapter (nothing is stored).

        :class:`InvalidInputError` (French, the line at fault) for a file that is not XML or
        not a valid pain.002.001.03 / camt.054.001.02 message; :class:`ConfigurationError`
        when the adapter reads no return files."""
        provider = self.direct_debit_provider()
        if not isinstance(provider, BankReturnReader):
            raise ConfigurationError(
                f"payment provider {self.options.sepa_provider!r} does not read return files",
                path="provider",
            )
        return provider.read_returns(data)

    def load_debit_returns(self, actor: Actor, data: bytes) -> ReturnFileReport:
        """Load a bank return file (``record_payment``: finance, admin): each rejected or
        returned debit reopens its invoice, records the bank's reason and tells the family.

        Idempotent: the same file loaded again changes nothing (``already_loaded``). A bad
        file, an unknown end-to-end id or an amount that is not the debit's raises
        :class:`InvalidInputError` and changes nothing."""
        parsed = self.read_return_file(data)
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            if next(iter(uow.debit_returns.list(file_digest=parsed.digest)), None) is not None:
                return ReturnFileReport(
                    kind=parsed.kind,
                    message_id=parsed.message_id,
                    already_loaded=True,
                    returns=(),
                    already_returned=(),
                )
            matched, already = self._match(tx, parsed)
            today = paris_date(tx.now)
            returns: list[DebitReturn] = []
            for returned, payment in matched:
                rejected = self._reject(uow, payment, returned.returned_on or today)
                assert rejected.rejected_on is not None
                entry = DebitReturn(
                    id=f"{parsed.digest[:24]}:{payment.id}",
                    payment_id=payment.id,
                    household_id=payment.household_id,
                    end_to_end_id=returned.end_to_end_id,
                    invoice_ids=payment.invoice_ids,
                    amount=payment.amount,
                    reason_code=returned.reason_code,
                    returned_on=rejected.rejected_on,
                    file_kind=parsed.kind,
                    file_message_id=parsed.message_id,
                    file_digest=parsed.digest,
                    loaded_at=tx.now,
                    loaded_by=actor.user_id,
                )
                uow.debit_returns.add(entry)
                tx.audit.change(
                    f"payment:{payment.id}",
                    "rejected_on",
                    None,
                    entry.returned_on.isoformat(),
                    household_id=payment.household_id,
                )
                self._notify_return(tx, entry)
                returns.append(entry)
            if returns:
                tx.audit.describe(
                    f"Chargement du fichier de retour {parsed.kind} {parsed.message_id} : "
                    f"{len(returns)} prélèvement(s) rejeté(s)"
                )
        return ReturnFileReport(
            kind=parsed.kind,
            message_id=parsed.message_id,
            already_loaded=False,
            returns=tuple(returns),
            already_returned=tuple(already),
        )

    def debit_returns(self, actor: Actor, household_id: str) -> list[DebitReturn]:
        """The household's returned debits, newest first (``view_payments``)."""
        with self._viewing(actor, Action.VIEW_PAYMENTS, household_id) as tx:
            found = list(tx.uow.debit_returns.list(household_id=household_id))
        return sorted(found, key=lambda r: (r.returned_on, r.id), reverse=True)

    def _match(
        self, tx: Transaction, parsed: BankReturnFile
    ) -> tuple[list[tuple[ReturnedTransaction, Payment]], list[str]]:
        """Each returned transaction with its debit; the ids already returned. Raises (and so
        changes nothing) for unknown ids and amounts that are not the debit's."""
        matched: list[tuple[ReturnedTransaction, Payment]] = []
        already: list[str] = []
        unknown: list[str] = []
        seen: set[str] = set()
        for returned in parsed.transactions:
            if returned.end_to_end_id in seen:
                continue
            seen.add(returned.end_to_end_id)
            debits = list(
                tx.uow.payments.list(
                    reference=returned.end_to_end_id, method=PaymentMethod.DIRECT_DEBIT.value
                )
            )
            live = [p for p in debits if not p.is_rejected]
            if not debits:
                unknown.append(returned.end_to_end_id)
                continue
            if not live:
                already.append(returned.end_to_end_id)
                continue
            payment = max(live, key=lambda p: (p.received_on, p.id))
            if returned.amount is not None and returned.amount != payment.amount:
                raise InvalidInputError(
                    f"le prélèvement {returned.end_to_end_id} était de "
                    f"{payment.amount.format_fr()}, le fichier en retourne "
                    f"{returned.amount.format_fr()} : rien n'a été modifié",
                    path="file",
                )
            matched.append((returned, payment))
        if unknown:
            raise InvalidInputError(
                "identifiants de bout en bout inconnus (aucun prélèvement envoyé) : "
                f"{', '.join(unknown)} ; rien n'a été modifié",
                path="file",
            )
        return matched, already

    def _notify_return(self, tx: Transaction, entry: DebitReturn) -> None:
        household = tx.uow.households.get(entry.household_id)
        numbers = [tx.uow.invoices.get(i).number for i in entry.invoice_ids]
        context = {
            "amount": entry.amount,
            "returned_on": entry.returned_on,
            "invoice_numbers": numbers,
            "reason_code": entry.reason_code,
            "reason_label": entry.reason_label,
            "invoices_url": self._ctx.notifier.settings.link(
                self._ctx.notifier.settings.invoices_url
            ),
        }
        sent: set[str] = set()
        for recipient in household_recipients(household):
            if recipient.address in sent:
                continue
            sent.add(recipient.address)
            tx.send(
                self._ctx.notifier.render(
                    RETURN_KIND,
                    recipient,
                    context,
                    key=entry.id,
                    household_id=entry.household_id,
                )
            )
