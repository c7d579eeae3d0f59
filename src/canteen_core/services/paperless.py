"""Paperless invoices and postal addresses: who gets the PDF by e-mail, who gets paper.

``canteen.paperless`` on the facade. A household's payer consents to paperless invoices (dated,
revocable) and keeps its postal address up to date; after a billing run
:meth:`PaperlessService.deliveries` splits the issued invoices into those to e-mail (consent
given: :meth:`PaperlessService.email_invoice` queues the message with the PDF attached, through
the outbox) and those to print, sorted for the mail room by postal address. Rendering the PDFs
is an adapter's job (:mod:`canteen_adapters.documents.print_batch` does both steps).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import Invoice
from canteen_core.domain.notifications import Attachment, Recipient
from canteen_core.domain.paperless import PaperlessConsent, PostalAddress, postal_sort_key
from canteen_core.domain.policy import Action
from canteen_core.services.runner import ServiceBase

__all__ = ["InvoiceDeliveries", "PaperlessService"]


@attrs.frozen(kw_only=True)
class InvoiceDeliveries:
    """Issued invoices split by how they reach the family: ``by_email`` (paperless
    households) and ``by_post`` (the others, in mail-room order: postcode, city, street)."""

    by_email: tuple[tuple[Invoice, Household], ...] = ()
    by_post: tuple[tuple[Invoice, Household], ...] = ()

    @property
    def without_address(self) -> tuple[str, ...]:
        """Households of ``by_post`` with no postal address on file (to fix before printing)."""
        return tuple(h.id for _, h in self.by_post if h.postal_address is None)


class PaperlessService(ServiceBase):
    """Consent to paperless invoices, postal addresses, and invoice delivery."""

    def consent(self, actor: Actor, household_id: str) -> Household:
        """Consent to paperless invoices (the payer, or admin), dated now; invoices issued
        from now on come by e-mail with their PDF, not by post."""
        with self._ctx.use_case(actor, Action.UPDATE_HOUSEHOLD, household_id=household_id) as tx:
            household = tx.uow.households.get(household_id)
            if household.is_paperless:
                return household
            if not any(g.email for g in household.guardians):
                raise RuleViolationError(
                    "la facture dématérialisée demande une adresse e-mail : renseignez-la d'abord"
                )
            consent = PaperlessConsent(given_at=tx.now, given_by=actor.user_id)
            household = attrs.evolve(household, paperless=consent)
            tx.uow.households.save(household)
        return household

    def revoke(self, actor: Actor, household_id: str) -> Household:
        """Withdraw the consent (the payer, or admin), dated now: invoices go by post again."""
        with self._ctx.use_case(actor, Action.UPDATE_HOUSEHOLD, household_id=household_id) as tx:
            household = tx.uow.households.get(household_id)
            if household.paperless is None or not household.paperless.active:
                return household
            revoked = attrs.evolve(household.paperless, revoked_at=tx.now, revoked_by=actor.user_id)
            household = attrs.evolve(household, paperless=revoked)
            tx.uow.households.save(household)
        return household

    def set_postal_address(
        self, actor: Actor, household_id: str, address: PostalAddress | None
    ) -> Household:
        """Record (or clear) the household's postal address (the payer, or admin); paper
        invoices print it in the envelope window."""
        with self._ctx.use_case(actor, Action.UPDATE_HOUSEHOLD, household_id=household_id) as tx:
            household = attrs.evolve(tx.uow.households.get(household_id), postal_address=address)
            tx.uow.households.save(household)
        return household

    def deliveries(self, actor: Actor, invoice_ids: Iterable[str]) -> InvoiceDeliveries:
        """Split issued invoices into e-mail (paperless households, in the given order) and
        post (the others, sorted by postal address) (finance, admin, system)."""
        with self._ctx.use_case(actor, Action.RUN_BILLING, read_only=True) as tx:
            invoices = [tx.uow.invoices.get(invoice_id) for invoice_id in invoice_ids]
            households = tx.uow.households.find_many({i.household_id for i in invoices})
        by_email: list[tuple[Invoice, Household]] = []
        by_post: list[tuple[Invoice, Household]] = []
        for invoice in invoices:
            household = households[invoice.household_id]
            (by_email if household.is_paperless else by_post).append((invoice, household))
        by_post.sort(
            key=lambda item: (
                *postal_sort_key(item[1].postal_address, item[1].payer.display_name),
                item[0].number,
            )
        )
        return InvoiceDeliveries(by_email=tuple(by_email), by_post=tuple(by_post))

    def email_invoice(self, actor: Actor, invoice_id: str, pdf: bytes) -> int:
        """Queue the invoice's e-mail with ``pdf`` attached to the household's guardians
        (finance, admin, system); only for a paperless household. Returns the messages queued
        (sending the same invoice twice queues nothing new: the outbox keeps one per id)."""
        if not pdf.startswith(b"%PDF-"):
            raise InvalidInputError("le fichier joint doit être un PDF", path="pdf")
        with self._ctx.use_case(actor, Action.RUN_BILLING) as tx:
            invoice = tx.uow.invoices.get(invoice_id)
            household = tx.uow.households.get(invoice.household_id)
            if not household.is_paperless:
                raise RuleViolationError(
                    f"le foyer {household.id} n'a pas adhéré à la facture dématérialisée : "
                    "sa facture part par courrier"
                )
            attachment = Attachment(
                filename=f"facture-{invoice.number}.pdf".replace("/", "-"),
                content_type="application/pdf",
                content=pdf,
            )
            notifier = self._ctx.notifier
            recipients = [Recipient.from_guardian(g) for g in household.guardians if g.email]
            seen: set[str] = set()
            for recipient in recipients:
                if recipient.address in seen:
                    continue
                seen.add(recipient.address)
                message = notifier.render(
                    "invoice-pdf",
                    recipient,
                    {
                        "number": invoice.number,
                        "label": invoice.label,
                        "total": invoice.total,
                        "due_date": invoice.due_date,
                        "invoices_url": notifier.settings.link(notifier.settings.invoices_url),
                    },
                    key=f"{invoice.id}:pdf",
                    household_id=household.id,
                )
                tx.send(attrs.evolve(message, attachments=(attachment,)))
        return len(seen)
