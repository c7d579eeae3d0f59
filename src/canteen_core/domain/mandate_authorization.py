"""The signed SEPA direct-debit authorization ("mandat de prélèvement SEPA"), as a document.

When a family signs a mandate online, canteen files the authorization it signed in the
household's document space (:class:`~canteen_core.domain.family_papers.PaperKind.SEPA_MANDATE`):
the creditor and its identifier (ICS), the unique mandate reference (RUM), the debtor, the
account (IBAN shown masked), the payment type, the date and place of signature and the legal
mention the SEPA rulebook requires. :class:`MandateAuthorization` is what such a document
says; drawing it is a plugin's job (the ``canteen_render_mandate_authorization`` hook, the
built-in one in :mod:`canteen_adapters.documents.mandate`). When the mandate's account changes
or the mandate is revoked, the document is drawn again with that mention.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.mandates import DirectDebitMandate, MandateKind
from canteen_core.domain.paperless import PostalAddress

__all__ = [
    "MandateAuthorization",
    "authorization_file_name",
    "legal_mention_fr",
    "masked_iban",
]


def masked_iban(iban: str) -> str:
    """``FR76 **** **** **** **** ***0 189``: the country, check digits and last four
    characters, in groups of four (what families and documents show of an account)."""
    hidden = iban[:4] + "*" * (len(iban) - 8) + iban[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def legal_mention_fr(creditor_name: str) -> str:
    """The mention every SEPA mandate form carries (French wording of the EPC rulebook)."""
    return (
        f"En signant ce formulaire de mandat, vous autorisez (A) {creditor_name} à envoyer des "
        "instructions à votre banque pour débiter votre compte, et (B) votre banque à débiter "
        f"votre compte conformément aux instructions de {creditor_name}. Vous bénéficiez du "
        "droit d'être remboursé par votre banque selon les conditions décrites dans la "
        "convention que vous avez passée avec elle. Une demande de remboursement doit être "
        "présentée dans les 8 semaines suivant la date de débit de votre compte pour un "
        "prélèvement autorisé. Vos droits concernant le présent mandat sont expliqués dans un "
        "document que vous pouvez obtenir auprès de votre banque."
    )


def authorization_file_name(reference: str) -> str:
    """The file name of the authorization of mandate ``reference`` (how canteen finds it
    again in the household's papers when the mandate changes)."""
    return f"mandat-sepa-{reference}.pdf"


def _expected(
    kind: type, *, optional: bool = False
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """A validator refusing anything but a ``kind`` (and ``None`` too unless ``optional``)."""

    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind) and not (optional and value is None):
            raise InvalidInputError(f"expected a {kind.__name__}", path=attribute.name)

    return check


@attrs.frozen(kw_only=True)
class MandateAuthorization:
    """What the signed authorization of ``mandate`` says.

    ``creditor_identifier`` is the ICS (``None`` when the deployment has no direct-debit
    creditor configured yet: the document then says it will be given with the first
    pre-notification). ``debtor_address`` is the household's postal address when known;
    ``place`` the place of signature (the address's town; without one the document says
    "en ligne"); ``signed_at`` the instant the family signed online. The mandate carries the
    RUM, debtor name, IBAN, BIC, payment type and, once they happen, its amendment and
    revocation.
    """

    mandate: DirectDebitMandate = attrs.field(validator=_expected(DirectDebitMandate))
    creditor_name: str = attrs.field(validator=non_empty_str)
    creditor_identifier: str | None = None
    creditor_address: str | None = None
    debtor_address: PostalAddress | None = attrs.field(
        default=None, validator=_expected(PostalAddress, optional=True)
    )
    place: str | None = None
    signed_at: datetime = attrs.field(validator=aware_datetime)

    @property
    def payment_type_fr(self) -> str:
        """ "Paiement récurrent/répétitif" or "Paiement ponctuel"."""
        if self.mandate.kind is MandateKind.RECURRENT:
            return "Paiement récurrent/répétitif"
        return "Paiement ponctuel"

    @property
    def legal_mention(self) -> str:
        """The SEPA mention with this creditor's name."""
        return legal_mention_fr(self.creditor_name)

    @property
    def file_name(self) -> str:
        """The document's file name (:func:`authorization_file_name`)."""
        return authorization_file_name(self.mandate.reference)
