"""Returned direct debits: what a bank's return file says and what canteen keeps of it.

A bank reports debits it could not collect in two messages: the **pain.002** payment status
report (debits rejected before settlement, ``TxSts`` ``RJCT``) and the **camt.054** debit
notification (returns and refunds after settlement, the "R-transactions"). An adapter reads
either into a :class:`BankReturnFile`; the direct-debit service matches each
:class:`ReturnedTransaction` to its debit (the end-to-end id is the invoice number) and stores
one :class:`DebitReturn` per returned debit: the payment is kept, marked rejected, and the
return is the ledger entry that reverses it, with the bank's reason code.

The reason codes are the ISO 20022 external status/return reason codes
(``ExternalStatusReason1Code`` / ``ExternalReturnReason1Code``); :data:`REASON_LABELS` names the
ones the EPC SEPA Direct Debit rulebook uses, in French, for staff and families.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Final, Literal

import attrs

from canteen_core.domain._validators import a_date, aware_datetime, non_empty_str, optional_date
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money

__all__ = [
    "REASON_LABELS",
    "BankReturnFile",
    "DebitReturn",
    "ReturnKind",
    "ReturnedTransaction",
    "reason_label",
]

#: The two bank messages canteen reads.
ReturnKind = Literal["pain.002", "camt.054"]

#: ISO 20022 reason codes of SEPA direct-debit rejects and returns, in French.
REASON_LABELS: Final[Mapping[str, str]] = {
    "AC01": "numéro de compte incorrect",
    "AC04": "compte clôturé",
    "AC06": "compte bloqué",
    "AC13": "compte du débiteur non éligible (compte de consommateur)",
    "AG01": "transaction interdite sur ce type de compte",
    "AG02": "code opération invalide",
    "AM04": "provision insuffisante",
    "AM05": "opération en double",
    "BE05": "créancier non reconnu",
    "CNOR": "banque du créancier injoignable",
    "DNOR": "banque du débiteur injoignable",
    "FF01": "format de fichier invalide",
    "FOCR": "remboursement après demande d'annulation",
    "MD01": "pas de mandat",
    "MD02": "informations du mandat manquantes ou incorrectes",
    "MD06": "remboursement demandé par le débiteur",
    "MD07": "débiteur décédé",
    "MS02": "refus du débiteur",
    "MS03": "motif non communiqué par la banque",
    "RC01": "code BIC incorrect",
    "RR01": "identification du débiteur manquante (réglementation)",
    "RR02": "nom ou adresse du débiteur manquant (réglementation)",
    "RR03": "nom ou adresse du créancier manquant (réglementation)",
    "RR04": "motif réglementaire",
    "SL01": "service spécifique de la banque du débiteur",
}

_CODE = re.compile(r"[A-Z0-9]{1,4}")


def reason_label(code: str) -> str:
    """The French label of a reason ``code`` (``"AM04"`` -> ``"provision insuffisante"``);
    an unlisted code reads ``"motif XXXX"``.

    >>> reason_label("AC04")
    'compte clôturé'
    >>> reason_label("ZZ99")
    'motif ZZ99'
    """
    return REASON_LABELS.get(code, f"motif {code}")


def _reason_code(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise InvalidInputError(
            f"code motif invalide : « {value} » (1 à 4 lettres ou chiffres)", path=attribute.name
        )


def _ids(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise InvalidInputError("doit être une liste d'identifiants", path="invoice_ids")
    return tuple(str(item) for item in value)


def _optional_money(_: object, attribute: attrs.Attribute[Money | None], value: object) -> None:
    if value is not None and (not isinstance(value, Money) or not value.is_positive):
        raise InvalidInputError("doit être un montant positif", path=attribute.name)


class _ReturnReason:
    """What a returned transaction and a debit return share: the bank's reason, in French."""

    __slots__ = ()
    reason_code: str

    @property
    def reason_label(self) -> str:
        """The reason in French."""
        return reason_label(self.reason_code)


@attrs.frozen(kw_only=True)
class ReturnedTransaction(_ReturnReason):
    """One debit the bank did not collect: its end-to-end id (canteen writes the invoice
    number), the reason code, and, when the file gives them, the amount and the day."""

    end_to_end_id: str = attrs.field(validator=non_empty_str)
    reason_code: str = attrs.field(validator=_reason_code)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)
    returned_on: date | None = attrs.field(default=None, validator=optional_date)


@attrs.frozen(kw_only=True)
class BankReturnFile:
    """A bank's return file as read: its kind, message id, a digest of its bytes (the
    same file loaded twice has the same digest) and the returned transactions."""

    kind: ReturnKind
    message_id: str = attrs.field(validator=non_empty_str)
    digest: str = attrs.field(validator=non_empty_str)
    created_at: datetime | None = None
    transactions: tuple[ReturnedTransaction, ...] = ()


@attrs.frozen(kw_only=True)
class DebitReturn(_ReturnReason):
    """What canteen keeps of a returned debit: the ledger entry reversing the direct-debit
    payment ``payment_id`` (which stays, marked rejected), with the bank's reason and the
    file it came from (``file_digest``: loading that file again changes nothing)."""

    id: str = attrs.field(validator=non_empty_str)
    payment_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    end_to_end_id: str = attrs.field(validator=non_empty_str)
    invoice_ids: tuple[str, ...] = attrs.field(converter=_ids)
    amount: Money
    reason_code: str = attrs.field(validator=_reason_code)
    returned_on: date = attrs.field(validator=a_date)
    file_kind: str = attrs.field(validator=non_empty_str)
    file_message_id: str = attrs.field(validator=non_empty_str)
    file_digest: str = attrs.field(validator=non_empty_str)
    loaded_at: datetime = attrs.field(validator=aware_datetime)
    loaded_by: str = attrs.field(validator=non_empty_str)
