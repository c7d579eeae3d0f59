"""SEPA direct debit mandates (mandats de prélèvement) and creditor identifiers (ICS).

A household joins direct debit ("prélèvement automatique") by signing a mandate: a unique
mandate reference (RUM), the signature date, the debtor's name and IBAN (BIC optional since
SEPA end-to-end IBAN-only). Each collection carries a *sequence type*:

- ``FRST`` for the first collection of a recurrent mandate, then ``RCUR``;
- ``OOFF`` for a one-off mandate (a single collection, then the mandate is used up);
- ``FNAL`` for the last collection when the mandate is revoked with a final collection.

When the debtor changes bank account the mandate is *amended*: the next collection carries the
amendment indicator and the original IBAN so the debtor's bank can match the mandate.

IBANs and BICs are checked here, once, by schwifty (country lengths, ISO 7064 check digits,
national check digits such as the French clé RIB, SWIFT structure of a BIC): every entry point
(a mandate, an IBAN change, the creditor's settings) goes through :func:`validate_iban` and
:func:`validate_bic`. The SEPA adapter only adds the BIC lookup from schwifty's bank registry.
"""

from __future__ import annotations

import calendar
import enum
import re
from datetime import date, timedelta
from typing import Any

import attrs
from dateutil.easter import easter
from schwifty import BIC, IBAN
from schwifty.checksum import numerify
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    InvalidStructure,
    SchwiftyException,
)

from canteen_core.domain._validators import a_date, check_date, non_empty_str, optional_date
from canteen_core.domain.errors import InvalidInputError, RuleViolationError

__all__ = [
    "MANDATE_LAPSE_MONTHS",
    "DirectDebitMandate",
    "MandateAmendment",
    "MandateKind",
    "MandateStatus",
    "SequenceType",
    "check_collection_date",
    "checked_iban",
    "creditor_identifier_check_digits",
    "is_target2_business_day",
    "is_valid_creditor_identifier",
    "is_valid_iban",
    "next_target2_business_day",
    "normalize_creditor_identifier",
    "normalize_iban",
    "validate_bic",
    "validate_creditor_identifier",
    "validate_iban",
    "validate_mandate_reference",
]

#: A mandate unused for 36 months lapses (SEPA Core rulebook): a new one must be signed.
MANDATE_LAPSE_MONTHS = 36

# Creditor identifier: country, check digits, 3-character creditor business code (usually
# "ZZZ"), then the national identifier (6 characters in France: FR12ZZZ123456).
_ICS = re.compile(r"([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})")
# Characters the SEPA rulebooks allow in identifiers such as the mandate reference (no space).
_SEPA_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")
_SCHWIFTY_REASONS_FR: dict[type[SchwiftyException], str] = {
    InvalidLength: "longueur incorrecte pour ce pays",
    InvalidChecksumDigits: "clé de contrôle incorrecte",
    InvalidBBANChecksum: "clé RIB incorrecte",
    InvalidCountryCode: "pays inconnu",
    InvalidStructure: "caractères ou structure invalides",
}


def _reason_fr(error: SchwiftyException) -> str:
    for kind, reason in _SCHWIFTY_REASONS_FR.items():
        if isinstance(error, kind):
            return reason
    return "format invalide"


def normalize_iban(value: str) -> str:
    """Upper-case ``value`` and drop spaces (the paper form ``FR76 3000 ...``)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"un IBAN est un texte, pas {type(value).__name__}", path="iban")
    return "".join(value.split()).upper()


def checked_iban(value: str, *, path: str = "iban") -> IBAN:
    """``value`` checked completely by schwifty (country, length for the country, ISO 7064
    check digits and the national check digits such as the French clé RIB), as a schwifty
    :class:`~schwifty.IBAN`; :class:`InvalidInputError` with a French reason otherwise."""
    iban = normalize_iban(value)
    try:
        return IBAN(iban, validate_bban=True)
    except SchwiftyException as error:
        raise InvalidInputError(f"IBAN {iban} invalide : {_reason_fr(error)}", path=path) from None


def is_valid_iban(value: str) -> bool:
    """Whether ``value`` (normalized or not) is a valid IBAN (see :func:`checked_iban`).

    >>> is_valid_iban("FR76 3000 6000 0112 3456 7890 189")
    True
    >>> is_valid_iban("FR04300060000112345678901")  # right checksum, wrong length for France
    False
    """
    try:
        checked_iban(value)
    except InvalidInputError:
        return False
    return True


def validate_iban(value: str, *, path: str = "iban") -> str:
    """Return the normalized IBAN or raise :class:`InvalidInputError` (see
    :func:`checked_iban`)."""
    return str(checked_iban(value, path=path).compact)


def validate_bic(value: str, *, path: str = "bic") -> str:
    """Return the upper-cased BIC (8 or 11 characters, SWIFT structure, checked by schwifty)
    or raise :class:`InvalidInputError`."""
    if not isinstance(value, str):
        raise InvalidInputError(f"un BIC est un texte, pas {type(value).__name__}", path=path)
    try:
        bic = BIC(value.strip())
        bic.validate(enforce_swift_compliance=True)
    except SchwiftyException as error:
        raise InvalidInputError(
            f"BIC {value.strip()} invalide : {_reason_fr(error)}", path=path
        ) from None
    return str(bic.compact)


def normalize_creditor_identifier(value: str) -> str:
    """Upper-case a creditor identifier and drop spaces."""
    if not isinstance(value, str):
        raise InvalidInputError(
            f"un identifiant créancier SEPA est un texte, pas {type(value).__name__}",
            path="creditor_id",
        )
    return "".join(value.split()).upper()


def creditor_identifier_check_digits(country: str, national_id: str) -> str:
    """Check digits of a creditor identifier; the business code is not part of the sum.

    The ISO 7064 mod 97-10 arithmetic is schwifty's (schwifty has no creditor identifier type;
    the EPC's rule is the IBAN's, applied to the national identifier).
    """
    return f"{98 - numerify(national_id + country + '00') % 97:02d}"


def is_valid_creditor_identifier(value: str) -> bool:
    """Whether ``value`` is a well-formed SEPA creditor identifier (ICS) with valid checksum.

    >>> is_valid_creditor_identifier("FR72ZZZ123456")
    True
    """
    ics = normalize_creditor_identifier(value)
    match = _ICS.fullmatch(ics)
    if match is None or len(ics) > 35:
        return False
    country, digits, _business_code, national_id = match.groups()
    if country == "FR" and len(national_id) != 6:
        return False  # the French ICS is always 13 characters
    return creditor_identifier_check_digits(country, national_id) == digits


def validate_creditor_identifier(value: str, *, path: str = "creditor_id") -> str:
    """Return the normalized ICS or raise :class:`InvalidInputError`."""
    if not is_valid_creditor_identifier(value):
        raise InvalidInputError(f"identifiant créancier SEPA (ICS) invalide : {value!s}", path=path)
    return normalize_creditor_identifier(value)


def _target2_closing_days(year: int) -> dict[date, str]:
    paques = easter(year)
    return {
        date(year, 1, 1): "jour de l'an",
        paques - timedelta(days=2): "Vendredi saint",
        paques + timedelta(days=1): "lundi de Pâques",
        date(year, 5, 1): "1er mai",
        date(year, 12, 25): "Noël",
        date(year, 12, 26): "lendemain de Noël",
    }


def is_target2_business_day(day: date) -> bool:
    """Whether SEPA settles on ``day``: Monday to Friday except the TARGET2 closing days (1
    January, Good Friday, Easter Monday, 1 May, 25 and 26 December).

    >>> is_target2_business_day(date(2023, 12, 25)), is_target2_business_day(date(2024, 4, 2))
    (False, True)
    """
    return day.weekday() < 5 and day not in _target2_closing_days(day.year)


def next_target2_business_day(day: date) -> date:
    """``day`` if it is a TARGET2 business day, else the first one after it."""
    while not is_target2_business_day(day):
        day += timedelta(days=1)
    return day


def check_collection_date(day: date) -> None:
    """Refuse a direct-debit collection date that is not a TARGET2 business day
    (:class:`RuleViolationError`, French, with the next business day)."""
    if is_target2_business_day(day):
        return
    reason = _target2_closing_days(day.year).get(day) or (
        "samedi" if day.weekday() == 5 else "dimanche"
    )
    following = next_target2_business_day(day + timedelta(days=1))
    raise RuleViolationError(
        f"le {day:%d/%m/%Y} ({reason}) n'est pas un jour ouvré des banques (TARGET2) : aucun "
        f"prélèvement ne peut y être réglé ; prochain jour possible : le {following:%d/%m/%Y}"
    )


def validate_mandate_reference(value: str, *, path: str = "reference") -> str:
    """Return ``value`` if it is a valid unique mandate reference (RUM), else raise.

    At most 35 characters from the SEPA set (letters, digits, ``/ - ? : ( ) . , ' +``), no
    space, not starting or ending with ``/`` and without ``//``.
    """
    if not isinstance(value, str) or not _SEPA_ID.fullmatch(value):
        shown = f" : « {value} »" if isinstance(value, str) else ""
        raise InvalidInputError(
            "une référence de mandat (RUM) a de 1 à 35 caractères parmi les lettres, les"
            f" chiffres et / - ? : ( ) . , ' + (sans espace){shown}",
            path=path,
        )
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise InvalidInputError(
            "une référence de mandat ne commence ni ne finit par / et ne contient pas // :"
            f" « {value} »",
            path=path,
        )
    return value


class SequenceType(enum.StrEnum):
    """SEPA sequence type of one collection (``SeqTp`` in pain.008)."""

    FRST = "FRST"
    RCUR = "RCUR"
    OOFF = "OOFF"
    FNAL = "FNAL"


class MandateKind(enum.StrEnum):
    """Recurrent (the usual "prélèvement automatique") or one-off."""

    RECURRENT = "recurrent"
    ONE_OFF = "one_off"


class MandateStatus(enum.StrEnum):
    """Where a mandate stands."""

    ACTIVE = "active"  # may be collected
    FINAL_PENDING = "final_pending"  # revoked; one last (FNAL) collection is still due
    REVOKED = "revoked"  # no more collections
    COMPLETED = "completed"  # one-off collected, or final collection done


def _add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    days_in_month = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, days_in_month))


def _iban(value: str) -> str:
    return validate_iban(value)


def _optional_bic(value: str | None) -> str | None:
    return None if value is None else validate_bic(value)


def _reference(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    validate_mandate_reference(value, path=attribute.name)


def _debtor_name(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    non_empty_str(_, attribute, value)
    if len(str(value)) > 70:  # EPC limit for names in SEPA messages
        raise InvalidInputError("must have at most 70 characters", path=attribute.name)


@attrs.frozen(kw_only=True)
class MandateAmendment:
    """What changed since the debtor's bank last saw the mandate (sent with the next debit)."""

    original_iban: str | None = attrs.field(
        default=None, converter=attrs.converters.optional(_iban)
    )
    original_reference: str | None = None
    changed_on: date = attrs.field(validator=a_date)


@attrs.frozen(kw_only=True)
class DirectDebitMandate:
    """A signed SEPA Core direct debit mandate of one household.

    Change it only through its methods (:meth:`with_new_iban`, :meth:`revoke`,
    :meth:`after_collection`); each returns an updated copy.
    """

    reference: str = attrs.field(validator=_reference)
    household_id: str = attrs.field(validator=non_empty_str)
    debtor_name: str = attrs.field(validator=_debtor_name)
    iban: str = attrs.field(converter=_iban)
    signed_on: date = attrs.field(validator=a_date)
    bic: str | None = attrs.field(default=None, converter=_optional_bic)
    kind: MandateKind = attrs.field(default=MandateKind.RECURRENT, converter=MandateKind)
    status: MandateStatus = attrs.field(default=MandateStatus.ACTIVE, converter=MandateStatus)
    first_collected_on: date | None = attrs.field(default=None, validator=optional_date)
    last_collected_on: date | None = attrs.field(default=None, validator=optional_date)
    revoked_on: date | None = attrs.field(default=None, validator=optional_date)
    amendment: MandateAmendment | None = None

    def __attrs_post_init__(self) -> None:
        if self.first_collected_on is not None and self.first_collected_on < self.signed_on:
            raise InvalidInputError(
                "a mandate cannot be collected before it is signed", path="first_collected_on"
            )
        if (self.first_collected_on is None) != (self.last_collected_on is None):
            raise InvalidInputError(
                "first and last collection dates go together", path="last_collected_on"
            )

    @property
    def collectable(self) -> bool:
        """Whether a debit may be presented under this mandate (status only)."""
        return self.status in {MandateStatus.ACTIVE, MandateStatus.FINAL_PENDING}

    def lapses_on(self) -> date:
        """The day the mandate lapses if not collected before (36 months after last use)."""
        start = self.last_collected_on or self.signed_on
        return _add_months(start, MANDATE_LAPSE_MONTHS)

    def next_sequence_type(self) -> SequenceType:
        """The sequence type of the next collection; raises if none may be presented."""
        if not self.collectable:
            raise RuleViolationError(
                f"mandate {self.reference} is {self.status.value}: it cannot be collected"
            )
        if self.kind is MandateKind.ONE_OFF:
            return SequenceType.OOFF
        if self.status is MandateStatus.FINAL_PENDING:
            return SequenceType.FNAL
        return SequenceType.FRST if self.first_collected_on is None else SequenceType.RCUR

    def check_collectable(self, on: date) -> SequenceType:
        """The sequence type for a collection due ``on``; raises if the mandate may not be used.

        Refuses revoked or used mandates, collections before the signature date and lapsed
        mandates (unused for :data:`MANDATE_LAPSE_MONTHS` months).
        """
        check_date(on, "on")
        sequence = self.next_sequence_type()
        if on < self.signed_on:
            raise RuleViolationError(
                f"le mandat {self.reference} est signé le {self.signed_on:%d/%m/%Y} : il ne"
                f" peut pas servir à un prélèvement du {on:%d/%m/%Y}"
            )
        if on >= self.lapses_on():
            raise RuleViolationError(
                f"le mandat {self.reference} est caduc depuis le {self.lapses_on():%d/%m/%Y}"
                f" (inutilisé pendant {MANDATE_LAPSE_MONTHS} mois) : un nouveau mandat doit"
                " être signé"
            )
        return sequence

    def after_collection(self, on: date) -> DirectDebitMandate:
        """The mandate once a collection due ``on`` was submitted (FRST -> RCUR, OOFF/FNAL used).

        The amendment, if any, has travelled with that collection and is cleared.
        """
        sequence = self.check_collectable(on)
        status = self.status
        if sequence in {SequenceType.OOFF, SequenceType.FNAL}:
            status = MandateStatus.COMPLETED
        return attrs.evolve(
            self,
            status=status,
            first_collected_on=self.first_collected_on or on,
            last_collected_on=max(on, self.last_collected_on or on),
            amendment=None,
        )

    def with_new_iban(
        self, iban: str, *, changed_on: date, bic: str | None = None
    ) -> DirectDebitMandate:
        """Amend the mandate for a new bank account (the reference stays the same).

        The next collection will carry the amendment indicator and the *original* IBAN, i.e.
        the one the debtor's bank last saw, even if the IBAN changes twice in between.
        """
        check_date(changed_on, "changed_on")
        if self.status in {MandateStatus.REVOKED, MandateStatus.COMPLETED}:
            raise RuleViolationError(
                f"mandate {self.reference} is {self.status.value}: it cannot be amended"
            )
        new_iban = validate_iban(iban)
        if new_iban == self.iban:
            raise InvalidInputError("the new IBAN is the current one", path="iban")
        original = self.iban
        if self.amendment is not None and self.amendment.original_iban is not None:
            original = self.amendment.original_iban
        amendment = (
            None
            if self.first_collected_on is None or original == new_iban
            else MandateAmendment(original_iban=original, changed_on=changed_on)
        )
        return attrs.evolve(self, iban=new_iban, bic=bic, amendment=amendment)

    def revoke(self, on: date, *, final_collection: bool = False) -> DirectDebitMandate:
        """Revoke the mandate on ``on``; with ``final_collection`` one last FNAL debit remains.

        A final collection needs a recurrent mandate already collected at least once (the
        first collection of a mandate is FRST, never FNAL).
        """
        check_date(on, "on")
        if not self.collectable:
            raise RuleViolationError(f"le mandat {self.reference} n'est plus actif")
        if on < self.signed_on:
            raise InvalidInputError("revocation before the signature date", path="on")
        if final_collection:
            if self.kind is MandateKind.ONE_OFF or self.first_collected_on is None:
                raise RuleViolationError(
                    f"le mandat {self.reference} n'a encore jamais été prélevé : pas de dernier"
                    " prélèvement (FNAL) possible"
                )
            return attrs.evolve(self, status=MandateStatus.FINAL_PENDING, revoked_on=on)
        return attrs.evolve(self, status=MandateStatus.REVOKED, revoked_on=on)
