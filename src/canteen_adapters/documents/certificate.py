"""The yearly payment certificate of a household ("Attestation de paiement").

Families ask the régie for a statement of what they paid in a calendar year: for their own
accounts, for an employer or works council, for a CESU financer or for the tax return (childcare
costs of young children). :class:`PaymentCertificate` computes it from the household's
:class:`~canteen_core.domain.ledger.HouseholdAccount`; :func:`render_payment_certificate` prints it.

What counts:

- payments **received** in the year (``received_on`` from 1 January to 31 December, or to the
  issue date for a certificate of the current year) and **not rejected** (a returned direct
  debit or a bounced cheque paid nothing);
- **refunds** of household credit made in the same period are deducted: the certified total is
  what the household actually paid, net;
- the **share of each child**: each payment's allocations to invoices are split over the
  invoice's children in proportion to what was billed for them, net of credit notes, to the
  cent (largest remainder, so shares add up exactly). Lines billed to no child and money not yet
  allocated (household credit) are shown as such. Amounts paid by CESU are stated apart, since
  financers and the tax office ask for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_FLOOR, Decimal

import attrs
from fpdf.enums import Align

from canteen_adapters.documents._layout import (
    check_date,
    check_issuer,
    check_type,
    fr_date,
    fr_money,
    household_document,
)
from canteen_core.config.deployment import IssuerSettings
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import CreditNote, Invoice
from canteen_core.domain.ledger import HouseholdAccount, PaymentMethod
from canteen_core.domain.money import Money

__all__ = [
    "METHOD_LABELS_FR",
    "CertifiedPayment",
    "ChildShare",
    "PaymentCertificate",
    "render_payment_certificate",
]

#: How each payment method is written on the certificate.
METHOD_LABELS_FR: Mapping[PaymentMethod, str] = {
    PaymentMethod.CARD: "Carte bancaire (paiement en ligne)",
    PaymentMethod.DIRECT_DEBIT: "Prélèvement automatique",
    PaymentMethod.CASH: "Espèces",
    PaymentMethod.CHEQUE: "Chèque",
    PaymentMethod.CESU: "CESU",
    PaymentMethod.TRANSFER: "Virement",
}


def _method_label(method: PaymentMethod) -> str:
    return METHOD_LABELS_FR.get(method, str(method))


#: Label of the share of lines billed to no particular child.
HOUSEHOLD_SHARE_LABEL = "Prestations du foyer (sans enfant désigné)"
#: Label of money received but not yet allocated to an invoice.
CREDIT_SHARE_LABEL = "Non encore imputé (crédit du foyer)"


@attrs.frozen(kw_only=True)
class CertifiedPayment:
    """One payment (or, with a negative amount, one refund) listed on the certificate."""

    day: date
    label: str
    reference: str | None
    amount: Money


@attrs.frozen(kw_only=True)
class ChildShare:
    """What a child's share of the year's payments was (``child_id`` ``None``: not a child)."""

    child_id: str | None
    name: str
    birth_date: date | None
    amount: Money


def _year(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 < value < 10000:
        raise InvalidInputError("une année (de 1901 à 9999) est attendue", path=attribute.name)


@attrs.frozen(kw_only=True)
class PaymentCertificate:
    """The payments of one household in one calendar year, ready to print.

    ``total`` is ``received - refunded``; ``shares`` split ``received`` per child (plus household
    lines and not-yet-allocated credit), so ``sum(shares) == received``. Build it with
    :meth:`from_account`.
    """

    household_id: str
    payer_name: str
    year: int = attrs.field(validator=_year)
    period_start: date
    period_end: date
    payments: tuple[CertifiedPayment, ...]
    refunds: tuple[CertifiedPayment, ...]
    received: Money
    refunded: Money
    total: Money
    cesu: Money
    shares: tuple[ChildShare, ...]

    @classmethod
    def from_account(
        cls,
        account: HouseholdAccount,
        *,
        household: Household,
        year: int,
        as_of: date | None = None,
    ) -> PaymentCertificate:
        """The certificate of ``year`` from the household's ledger account.

        ``as_of`` (default: 31 December of ``year``) ends the period early for a certificate of
        the current year; it may not be before 1 January of ``year``. Raises
        :class:`~canteen_core.domain.errors.InvalidInputError` for an account of another household,
        a
        bad year or date.
        """
        account = check_type(account, HouseholdAccount, "account")
        household = check_type(household, Household, "household")
        if account.household_id != household.id:
            raise InvalidInputError(
                f"le compte est celui du foyer {account.household_id}, pas du foyer {household.id}",
                path="household",
            )
        _year(None, attrs.fields(cls).year, year)
        start, end = date(year, 1, 1), date(year, 12, 31)
        if as_of is not None:
            check_date(as_of, "as_of")
            if as_of < start:
                raise InvalidInputError(
                    f"une attestation pour {year} ne peut pas s'arrêter avant le début de "
                    f"l'année (le {as_of:%d/%m/%Y})",
                    path="as_of",
                )
            end = min(end, as_of)
        currency = account.currency
        zero = Money.zero(currency)
        paid = [
            payment
            for payment in account.payments
            if not payment.is_rejected and start <= payment.received_on <= end
        ]
        paid.sort(key=lambda p: (p.received_on, p.id))
        refunds = sorted(
            (r for r in account.refunds if start <= r.refunded_on <= end),
            key=lambda r: (r.refunded_on, r.id),
        )
        received = Money.sum((p.amount for p in paid), currency)
        refunded = Money.sum((r.amount for r in refunds), currency)
        return cls(
            household_id=household.id,
            payer_name=household.payer.display_name,
            year=year,
            period_start=start,
            period_end=end,
            payments=tuple(
                CertifiedPayment(
                    day=p.received_on,
                    label=_method_label(p.method),
                    reference=p.reference,
                    amount=p.amount,
                )
                for p in paid
            ),
            refunds=tuple(
                CertifiedPayment(
                    day=r.refunded_on,
                    label=f"Remboursement ({_method_label(r.method).lower()})",
                    reference=r.reference,
                    amount=-r.amount,
                )
                for r in refunds
            ),
            received=received,
            refunded=refunded,
            total=received - refunded,
            cesu=Money.sum((p.amount for p in paid if p.method is PaymentMethod.CESU), currency),
            shares=_shares(account, household, [p.id for p in paid], zero),
        )


# -- shares per child ------------------------------------------------------------------------


def _billed_per_child(
    invoice: Invoice, notes: Iterable[CreditNote], zero: Money
) -> dict[str | None, Money]:
    billed: dict[str | None, Money] = defaultdict(lambda: zero)
    for line in invoice.lines:
        billed[line.child_id] = billed[line.child_id] + line.amount
    for note in notes:
        for line in note.lines:
            billed[line.child_id] = billed[line.child_id] - line.amount
    # A child fully credited gets no share of what was paid.
    return {key: value for key, value in billed.items() if value.is_positive}


def _split(amount: Money, weights: Mapping[str | None, Money]) -> dict[str | None, Money]:
    """Split ``amount`` in proportion to ``weights`` to the cent; parts add up exactly."""
    total = sum((w.amount for w in weights.values()), Decimal(0))
    if not weights or total <= 0:
        return {None: amount}
    cents = amount.cents
    raw = {key: Decimal(cents) * w.amount / total for key, w in weights.items()}
    floors = {key: int(value.to_integral_value(rounding=ROUND_FLOOR)) for key, value in raw.items()}
    left = cents - sum(floors.values())
    # Largest remainders first; ties in a fixed order (None last) so the split is deterministic.
    order = sorted(raw, key=lambda k: (-(raw[k] - floors[k]), k is None, k or ""))
    for key in order[:left]:
        floors[key] += 1
    return {
        key: Money(Decimal(value) / 100, amount.currency) for key, value in floors.items() if value
    }


def _shares(
    account: HouseholdAccount, household: Household, payment_ids: list[str], zero: Money
) -> tuple[ChildShare, ...]:
    invoices = {invoice.id: invoice for invoice in account.invoices}
    notes: dict[str, list[CreditNote]] = defaultdict(list)
    for note in account.credit_notes:
        notes[note.invoice_id].append(note)
    per_key: dict[str | None, Money] = defaultdict(lambda: zero)
    credit = zero
    for payment_id in payment_ids:
        payment = account.payment(payment_id)
        allocated = zero
        for allocation in account.allocations_for(payment_id):
            allocated = allocated + allocation.amount
            invoice = invoices[allocation.invoice_id]
            weights = _billed_per_child(invoice, notes[invoice.id], zero)
            for key, part in _split(allocation.amount, weights).items():
                per_key[key] = per_key[key] + part
        credit = credit + (payment.amount - allocated)
    names = {line.child_id: line.child_name for i in account.invoices for line in i.lines}
    shares: list[ChildShare] = []
    for child in household.children:
        if child.id in per_key:
            shares.append(
                ChildShare(
                    child_id=child.id,
                    name=child.display_name,
                    birth_date=child.birth_date,
                    amount=per_key.pop(child.id),
                )
            )
    # Children billed in the year but no longer in the household keep their share.
    for key in sorted(k for k in per_key if k is not None):
        shares.append(
            ChildShare(
                child_id=key, name=names.get(key) or key, birth_date=None, amount=per_key[key]
            )
        )
    if None in per_key:
        shares.append(
            ChildShare(
                child_id=None, name=HOUSEHOLD_SHARE_LABEL, birth_date=None, amount=per_key[None]
            )
        )
    if credit.is_positive:
        shares.append(
            ChildShare(child_id=None, name=CREDIT_SHARE_LABEL, birth_date=None, amount=credit)
        )
    return tuple(shares)


# -- rendering -------------------------------------------------------------------------------


def render_payment_certificate(
    account: HouseholdAccount,
    *,
    household: Household,
    issuer: IssuerSettings,
    year: int,
    issued_on: date,
    place: str | None = None,
    signatory: str = "le régisseur de recettes",
) -> bytes:
    """The "Attestation de paiement" of ``household`` for ``year``, as PDF bytes.

    ``issued_on`` is the certificate's date; for the current year the certificate covers
    payments up to that day. ``place`` ("Ronde") and ``signatory`` go into the closing
    "Fait à …, le …" and the opening "Je soussigné(e) …". A household that paid nothing gets a
    certificate of 0,00 € (families ask for those too). Raises
    :class:`~canteen_core.domain.errors.InvalidInputError` for an account of another household, a
    bad
    year, an issue date before the year begins or something else than
    :class:`~canteen_core.config.deployment.IssuerSettings` as ``issuer``.
    """
    settings = check_issuer(issuer)
    check_date(issued_on, "issued_on")
    for name, what, text in (
        ("place", "le lieu", place),
        ("signatory", "le signataire", signatory),
    ):
        if (text is not None or name == "signatory") and (
            not isinstance(text, str) or not text.strip()
        ):
            raise InvalidInputError(f"{what} ne doit pas être vide", path=name)
    if isinstance(year, int) and not isinstance(year, bool) and issued_on.year < year:
        raise InvalidInputError(
            f"une attestation pour {year} ne peut pas être délivrée le {issued_on:%d/%m/%Y}",
            path="issued_on",
        )
    certificate = PaymentCertificate.from_account(
        account, household=household, year=year, as_of=issued_on
    )
    return _render(certificate, settings, issued_on=issued_on, place=place, signatory=signatory)


def _render(
    certificate: PaymentCertificate,
    issuer: IssuerSettings,
    *,
    issued_on: date,
    place: str | None,
    signatory: str,
) -> bytes:
    year = certificate.year
    pdf = household_document(
        issuer,
        kind=f"Attestation de paiement {year}",
        heading="ATTESTATION DE PAIEMENT",
        household_id=certificate.household_id,
        payer_name=certificate.payer_name,
        dated=issued_on,
    )
    partial = certificate.period_end != date(year, 12, 31)
    period = (
        f"Année {year} (règlements reçus du {fr_date(certificate.period_start)} au "
        f"{fr_date(certificate.period_end)})"
        if partial
        else f"Année {year}"
    )
    pdf.line_of_text(period, size=11, bold=True, align=Align.C, height=6)
    pdf.ln(6)
    # No article guessing ("de la Régie", "du Syndicat"...): name the régie in apposition.
    subject = f"Je soussigné(e), {signatory}, {issuer.name}"
    pdf.statement(
        f"{subject}, atteste que {certificate.payer_name}, payeur du foyer n° "
        f"{certificate.household_id}, a réglé la somme de {fr_money(certificate.total)} "
        f"entre le {fr_date(certificate.period_start)} et le {fr_date(certificate.period_end)}, "
        "au titre des prestations de restauration scolaire et d'accueil facturées par la régie."
    )
    if certificate.cesu.is_positive:
        pdf.ln(1)
        pdf.statement(
            f"Dont réglé en chèques emploi service universels (CESU) : "
            f"{fr_money(certificate.cesu)}."
        )

    pdf.heading("Répartition par enfant")
    if certificate.shares:
        pdf.data_table(
            ("Enfant", "Date de naissance", "Montant réglé"),
            [
                (
                    share.name,
                    fr_date(share.birth_date) if share.birth_date else "",
                    fr_money(share.amount),
                )
                for share in certificate.shares
            ],
            widths=(100.0, 40.0, 40.0),
            aligns=("LEFT", "LEFT", "RIGHT"),
        )
    else:
        pdf.line_of_text("Aucun règlement reçu sur la période.")

    pdf.heading("Détail des règlements")
    entries = sorted((*certificate.payments, *certificate.refunds), key=lambda e: e.day)
    if entries:
        pdf.data_table(
            ("Date", "Mode de règlement", "Référence", "Montant"),
            [(fr_date(e.day), e.label, e.reference or "", fr_money(e.amount)) for e in entries],
            widths=(25.0, 70.0, 50.0, 35.0),
            aligns=("LEFT", "LEFT", "LEFT", "RIGHT"),
        )
    else:
        pdf.line_of_text("Aucun règlement reçu sur la période.")
    pdf.ln(3)
    rows = [("Règlements reçus", fr_money(certificate.received), False)]
    if certificate.refunded.is_positive:
        rows.append(("Remboursements", f"- {fr_money(certificate.refunded)}", False))
    rows.append((f"Total réglé en {year}", fr_money(certificate.total), True))
    pdf.amount_rows(rows)

    pdf.signature(issued_on, place=place, signatory=signatory)
    return pdf.to_bytes()
