"""SEPA mandates: a household joins direct debit (signs a mandate), changes its bank account
or leaves, each time with its signed authorization drawn and filed in the household's papers.

:class:`DirectDebitMandates` is a room of
:class:`~canteen_core.services.payments.PaymentService`; the collections that use the
mandates are :mod:`canteen_core.services.payments.direct_debit`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    CanteenError,
    ConflictError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.families import Household
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateKind,
    validate_mandate_reference,
)
from canteen_core.domain.policy import Action
from canteen_core.ports.direct_debit import Creditor
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.payments._base import PaymentBase, _a_date, _sepa_id, _text
from canteen_core.services.payments.mandate_papers import (
    authorization_paper,
    discard,
    draw_authorization,
    filed_paper,
    forget_replaced,
    refiled_paper,
)
from canteen_core.services.runner import Transaction

#: Why a mandate cannot be signed where the deployment has no direct debit.
NOT_OFFERED_FR = (
    "Le prélèvement automatique n'est pas proposé sur ce portail : réglez vos factures en "
    "ligne ou auprès de la régie."
)


class DirectDebitMandates(PaymentBase):
    """SEPA mandates: sign, change the bank account, revoke, list."""

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

        A deployment without direct debit (no ``[payment.sepa]``,
        :meth:`~canteen_core.services.payments._base.PaymentBase.offers_direct_debit`) refuses
        the signature with a French :class:`RuleViolationError` once the actor is authorized:
        no debit would ever be collected on that mandate.
        """
        household_id = _text(household_id, "household_id")
        ctx = self._ctx
        with ctx.use_case(
            actor, Action.MANAGE_DIRECT_DEBIT, household_id=household_id, read_only=True
        ) as tx:
            if not self.offers_direct_debit():
                raise RuleViolationError(NOT_OFFERED_FR)
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
                signed_on=_a_date(signed_on or paris_date(tx.now), "signed_on"),
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
            changed = change(mandate, paris_date(tx.now))
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
