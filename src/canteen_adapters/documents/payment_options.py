"""How a family may pay an invoice: the means a deployment offers (:class:`PaymentOptions`) and
the invoice's "Comment régler" section with the payment slip to detach."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
from fpdf.enums import XPos, YPos

from canteen_adapters.documents._layout import (
    CONTENT_WIDTH,
    MARGIN,
    MUTED,
    PAGE_WIDTH,
    DocumentPDF,
    check_date,
    fr_date,
)
from canteen_core.config.deployment import Deployment, IssuerSettings
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import Invoice
from canteen_core.domain.mandates import DirectDebitMandate

__all__ = ["PaymentOptions", "check_payment_options", "draw_how_to_pay", "draw_payment_slip"]


def _optional_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidInputError("ne doit pas être vide", path=attribute.name)


def _optional_mandate(
    _: object, attribute: attrs.Attribute[DirectDebitMandate | None], value: object
) -> None:
    if value is not None and not isinstance(value, DirectDebitMandate):
        raise InvalidInputError(
            f"expected a DirectDebitMandate, got {type(value).__name__}", path=attribute.name
        )


def _optional_plain_date(_: object, attribute: attrs.Attribute[date | None], value: object) -> None:
    if value is not None:
        check_date(value, attribute.name)


@attrs.frozen(kw_only=True)
class PaymentOptions:
    """How a family may pay, printed in the invoice's "Comment régler" section.

    Only what is given is printed: a family is never told to pay by a means the régie does
    not offer. Build it from the deployment with :meth:`for_deployment`.

    - ``online_provider`` (e.g. ``"PayZen"``; default ``None``: no online payment) on the
      family portal at ``portal_url``, open from the invoice's payment-open date (both are
      needed: online payment happens on the portal);
    - ``mandate``: the household's direct-debit mandate, if it has one. A collectable mandate
      prints "prélevé le ``debit_on``" (default: the due date) with the mandate reference (RUM)
      and a masked IBAN; without one, and when the régie collects by direct debit
      (``direct_debit``), the invoice invites the family to join it;
    - ``counter`` (default on): cash or cheque at the régie, cheques made out to ``cheque_payee``
      (default: the régie's name), at ``counter_address`` (default: the régie's address) during
      ``counter_hours``.
    """

    portal_url: str | None = attrs.field(default=None, validator=_optional_text)
    online_provider: str | None = attrs.field(default=None, validator=_optional_text)
    mandate: DirectDebitMandate | None = attrs.field(default=None, validator=_optional_mandate)
    debit_on: date | None = attrs.field(default=None, validator=_optional_plain_date)
    direct_debit: bool = False
    counter: bool = True
    cheque_payee: str | None = attrs.field(default=None, validator=_optional_text)
    counter_address: str | None = attrs.field(default=None, validator=_optional_text)
    counter_hours: str | None = attrs.field(default=None, validator=_optional_text)

    @classmethod
    def for_deployment(
        cls, deployment: Deployment, *, mandate: DirectDebitMandate | None = None
    ) -> PaymentOptions:
        """The means of payment ``deployment`` offers: online payment when it has a card
        provider (``[payment.payzen]`` or ``[payment.payfip]``) and a portal URL, direct debit
        when it has ``[payment.sepa]``, the counter always."""
        providers = {name.lower() for name in deployment.payment}
        online = next(
            (label for name, label in _ONLINE_PROVIDERS.items() if name in providers), None
        )
        return cls(
            portal_url=deployment.portal.url,
            online_provider=online,
            mandate=mandate,
            direct_debit="sepa" in providers,
        )


#: Card payment providers a deployment may name, with the name families know.
_ONLINE_PROVIDERS: dict[str, str] = {"payzen": "PayZen", "payfip": "PayFiP"}


def check_payment_options(options: object, household: Household) -> PaymentOptions:
    """``options`` (``None``: the defaults), checked against the household the invoice is for."""
    if options is None:
        return PaymentOptions()
    if not isinstance(options, PaymentOptions):
        raise InvalidInputError(
            f"expected PaymentOptions, got {type(options).__name__}", path="payment"
        )
    mandate = options.mandate
    if mandate is not None and mandate.household_id != household.id:
        raise InvalidInputError(
            f"mandate {mandate.reference} belongs to household {mandate.household_id!r}",
            path="payment.mandate",
        )
    return options


def _one_line(address: str) -> str:
    return ", ".join(part.strip() for part in address.splitlines() if part.strip())


def _masked_iban(iban: str) -> str:
    # Only the country, check digits and last four characters: enough to recognise the account.
    return f"{iban[:4]} **** **** {iban[-4:]}"


def draw_how_to_pay(
    pdf: DocumentPDF, invoice: Invoice, issuer: IssuerSettings, options: PaymentOptions
) -> None:
    """The "Comment régler" section: only the means ``options`` offers."""
    pdf.heading("Comment régler cette facture")
    number = invoice.number
    mandate = options.mandate
    if mandate is not None and mandate.collectable:
        debit_on = options.debit_on or invoice.due_date
        pdf.line_of_text("Prélèvement automatique", bold=True)
        pdf.line_of_text(
            f"Vous avez adhéré au prélèvement automatique : le montant restant dû sera prélevé "
            f"le {fr_date(debit_on)} sur le compte {_masked_iban(mandate.iban)} "
            f"(mandat n° {mandate.reference}). Vous n'avez rien à faire ; n'utilisez pas un "
            "autre moyen de paiement pour cette facture."
        )
        pdf.ln(1.5)
        return
    if options.online_provider is not None and options.portal_url:
        where = f"sur votre espace famille ({options.portal_url})"
        pdf.line_of_text(
            f"Paiement en ligne par carte bancaire ({options.online_provider})", bold=True
        )
        pdf.line_of_text(
            f"Rendez-vous {where}, rubrique « Mes factures », puis « Payer ma facture en ligne ». "
            f"Le paiement en ligne est disponible à partir du {fr_date(invoice.payment_open_date)}"
            f" avec {options.online_provider}, service de paiement sécurisé."
        )
        pdf.ln(1.5)
    if options.direct_debit:
        how = (
            "depuis votre espace famille (rubrique « Mes prélèvements ») en joignant"
            if options.portal_url
            else "auprès de la régie en lui remettant"
        )
        pdf.line_of_text("Prélèvement automatique", bold=True)
        pdf.line_of_text(
            f"Simple et sans oubli : adhérez au prélèvement automatique {how} l'autorisation de "
            "prélèvement signée. Vos prochaines factures seront prélevées à leur échéance."
        )
        pdf.ln(1.5)
    if options.counter:
        payee = options.cheque_payee or issuer.name
        address = options.counter_address or issuer.address
        where = f" ({_one_line(address)})" if address else ""
        hours = f" Horaires : {options.counter_hours}." if options.counter_hours else ""
        pdf.line_of_text("Espèces ou chèque à la régie", bold=True)
        pdf.line_of_text(
            f"Au guichet de la régie{where}, en espèces ou par chèque à l'ordre de « {payee} », "
            f"en indiquant le numéro de facture {number} au dos du chèque et en joignant le "
            f"talon ci-dessous.{hours}"
        )


def draw_payment_slip(
    pdf: DocumentPDF, invoice: Invoice, household: Household, amount_due: str
) -> None:
    """The slip to detach and join to a cash or cheque payment."""
    # Keep the slip whole: start a new page rather than cutting it in two.
    if pdf.get_y() > 297 - 22 - 42:
        pdf.add_page()
    pdf.ln(5)
    y = pdf.get_y()
    pdf.set_draw_color(*MUTED)
    pdf.set_dash_pattern(dash=1.5, gap=1.2)
    pdf.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
    pdf.set_dash_pattern()
    pdf.set_xy(MARGIN, y + 1)
    pdf.font(7.5, color=MUTED)
    pdf.cell(
        CONTENT_WIDTH,
        4,
        "✂ Talon à joindre à votre règlement (espèces ou chèque)",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(1)
    payer = invoice.payer_name or household.payer.display_name
    left = [
        ("Facture n°", invoice.number),
        ("Période", invoice.label),
        ("Payeur", payer),
    ]
    right = [
        ("Foyer n°", household.id),
        ("À régler avant le", fr_date(invoice.due_date)),
        ("Montant à régler", amount_due),
    ]
    top = pdf.get_y()
    for column, items in ((MARGIN, left), (PAGE_WIDTH / 2 + 5, right)):
        pdf.set_xy(column, top)
        for label, value in items:
            pdf.set_x(column)
            pdf.font(9)
            pdf.cell(34, 5.5, f"{label} :")
            pdf.font(9, bold=True)
            pdf.cell(50, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
