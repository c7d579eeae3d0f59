"""Paperless invoices ("adhésion à la facture dématérialisée") and the household's postal address.

A household that consents (:class:`PaperlessConsent`: dated, by whom, revocable) receives its
invoices by e-mail, the PDF attached; the others get them on paper, so each household has a
:class:`PostalAddress`, printed in the address window of the invoice's first page. The mail room
receives one print batch per billing run, sorted by :func:`postal_sort_key` (postcode, city,
street) so the letters come out in the order the post office wants them.
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.errors import InvalidInputError

__all__ = ["PaperlessConsent", "PostalAddress", "postal_sort_key"]

_POSTCODE = re.compile(r"\d{5}")


def _line(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 38:
        raise InvalidInputError(
            "une ligne d'adresse fait 1 à 38 caractères sur une seule ligne (norme postale)",
            path=attribute.name,
        )


def _optional_line(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        _line(_, attribute, value)  # type: ignore[arg-type]


def _postcode(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _POSTCODE.fullmatch(value):
        raise InvalidInputError("un code postal a 5 chiffres", path=attribute.name)


@attrs.frozen(kw_only=True)
class PostalAddress:
    """A French postal address (norme AFNOR NF Z10-011: at most 38 characters a line).

    ``street`` is the number and street ("12 rue des Lilas"); ``complement`` an optional line
    before it (building, "Bâtiment B"); ``city`` is printed in capitals.
    """

    street: str = attrs.field(validator=_line)
    postcode: str = attrs.field(validator=_postcode)
    city: str = attrs.field(validator=_line)
    complement: str | None = attrs.field(default=None, validator=_optional_line)

    def lines(self, recipient: str) -> tuple[str, ...]:
        """The lines of the address window: the recipient, the complement, the street, then
        ``"75012 PARIS"``."""
        lines = [recipient[:38]]
        if self.complement:
            lines.append(self.complement)
        lines.append(self.street)
        lines.append(f"{self.postcode} {self.city.upper()}")
        return tuple(lines)


@attrs.frozen(kw_only=True)
class PaperlessConsent:
    """A household's consent to paperless invoices: given at ``given_at`` by ``given_by``,
    withdrawn at ``revoked_at`` (then invoices go by post again)."""

    given_at: datetime = attrs.field(validator=aware_datetime)
    given_by: str = attrs.field(validator=non_empty_str)
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        """Whether the consent holds (given and not withdrawn)."""
        return self.revoked_at is None


def postal_sort_key(address: PostalAddress | None, name: str) -> tuple[str, str, str, str]:
    """How the mail room orders letters: postcode, city, street, then name; households
    without an address last."""
    if address is None:
        return ("99999", "", "", name)
    return (address.postcode, address.city.upper(), address.street.upper(), name)
