"""What goes into a pain.008.001.02 file: the creditor, the SEPA character set, the XML
message and its check against the official ISO 20022 schema (shipped with ``sepaxml``).

The rules of a collection (which debits, mandates and dates are acceptable) live in
:mod:`canteen_adapters.payment.sepa`, which checks every debit before this module writes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from importlib.resources import as_file, files
from typing import Any, Final

import attrs
from lxml import etree
from schwifty import IBAN

from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.errors import (
    ConfigurationError,
    InvalidInputError,
)
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    SequenceType,
    checked_iban,
    validate_bic,
    validate_creditor_identifier,
)
from canteen_core.domain.money import CENT, EUR, Money
from canteen_core.ports.direct_debit import DebitItem

__all__ = [
    "PAIN_008_NAMESPACE",
    "CheckedDebit",
    "SepaCreditor",
    "bic_for",
    "load_pain008_schema",
    "pain008_xml",
    "sepa_text",
    "validate_pain008",
]

PAIN_008_NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
# The Latin character set every SEPA bank must accept.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_schema: etree.XMLSchema | None = None


def sepa_text(value: str, max_length: int) -> str:
    """``value`` in the SEPA Latin character set (accents removed), at most ``max_length``.

    >>> sepa_text("Éloïse Müller & fils", 70)
    'Eloise Muller fils'
    """
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    cleaned = " ".join(_NOT_SEPA.sub(" ", ascii_text).split())
    return cleaned[:max_length].strip()


def bic_for(iban: IBAN, bic: str | None, *, path: str) -> str | None:
    """The given BIC (checked) or the one schwifty's bank registry gives for ``iban``."""
    if bic is not None:
        return validate_bic(bic, path=path)
    found = iban.bic
    return None if found is None else str(found.compact)


def load_pain008_schema() -> etree.XMLSchema:
    """The official pain.008.001.02 schema, loaded once from the ``sepaxml`` package data."""
    global _schema
    if _schema is None:
        resource = files("sepaxml").joinpath("schemas", "pain.008.001.02.xsd")
        with as_file(resource) as path:
            _schema = etree.XMLSchema(etree.parse(str(path)))
    return _schema


def validate_pain008(xml: bytes) -> None:
    """Raise :class:`InvalidInputError` unless ``xml`` is valid against pain.008.001.02."""
    try:
        document = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        raise InvalidInputError(f"XML mal formé : {error}", path="xml") from None
    schema = load_pain008_schema()
    if not schema.validate(document):
        first = schema.error_log.filter_from_errors()[0]
        raise InvalidInputError(
            f"le fichier SEPA ne respecte pas pain.008.001.02 (ligne {first.line}) : "
            f"{first.message}",
            path="xml",
        )


def _name(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    non_empty_str(_, attribute, value)
    if not sepa_text(str(value), 70):
        raise InvalidInputError(
            "aucun caractère utilisable dans un fichier SEPA", path=attribute.name
        )


def _creditor_iban(value: str) -> str:
    return str(checked_iban(value, path="creditor_iban").compact)


def _ics(value: str) -> str:
    return validate_creditor_identifier(value)


def _creditor_bic(value: str) -> str:
    return validate_bic(value, path="creditor_bic")


@attrs.frozen(kw_only=True)
class SepaCreditor:
    """The collecting creditor (the régie): name, account, BIC and creditor identifier (ICS).

    Use :meth:`of` to look the BIC up from the IBAN when it is not given.
    """

    name: str = attrs.field(validator=_name)
    iban: str = attrs.field(converter=_creditor_iban)
    creditor_id: str = attrs.field(converter=_ics)
    bic: str = attrs.field(converter=_creditor_bic)

    @classmethod
    def of(cls, *, name: str, iban: str, creditor_id: str, bic: str | None = None) -> SepaCreditor:
        """Build a creditor; without ``bic`` it comes from schwifty's bank registry."""
        if bic is None:
            bic = bic_for(checked_iban(iban, path="creditor_iban"), None, path="creditor_bic")
            if bic is None:
                raise ConfigurationError(
                    "aucun BIC connu pour l'IBAN du créancier : renseignez creditor_bic",
                    path="creditor_bic",
                )
        return cls(name=name, iban=iban, creditor_id=creditor_id, bic=bic)

    @classmethod
    def from_mapping(cls, settings: Mapping[str, object]) -> SepaCreditor:
        """Build from the ``[payment.sepa]`` section of a deployment file."""

        def text(name: str) -> str | None:
            value = settings.get(name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigurationError(
                    f"[payment.sepa] {name} doit être un texte non vide",
                    path=f"payment.sepa.{name}",
                )
            return value

        missing = [
            name for name in ("creditor_name", "creditor_iban", "creditor_id") if not text(name)
        ]
        if missing:
            raise ConfigurationError(
                "prélèvement SEPA non configuré : renseignez "
                + ", ".join(missing)
                + " dans la section [payment.sepa] du fichier de déploiement",
                path="payment.sepa",
            )
        try:
            return cls.of(
                name=text("creditor_name") or "",
                iban=text("creditor_iban") or "",
                creditor_id=text("creditor_id") or "",
                bic=text("creditor_bic"),
            )
        except ConfigurationError:
            raise
        except InvalidInputError as error:
            where = f"{error.path} : " if error.path else ""
            raise ConfigurationError(
                f"[payment.sepa] {where}{error.message}", path="payment.sepa"
            ) from None


def _element(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _path(parent: etree._Element, tags: str, text: str) -> etree._Element:
    node = parent
    for tag in tags.split("/"):
        node = _element(node, tag)
    node.text = text
    return node


def _agent(parent: etree._Element, tag: str, bic: str | None) -> None:
    institution = _element(_element(parent, tag), "FinInstnId")
    if bic is None:
        _path(institution, "Othr/Id", "NOTPROVIDED")  # IBAN-only, allowed by the EPC
    else:
        _element(institution, "BIC", bic)


def _amount(money: Money) -> str:
    return f"{money.amount.quantize(CENT)}"


@attrs.frozen
class CheckedDebit:
    """A debit whose mandate and bank details passed the checks: ready to be written."""

    item: DebitItem
    mandate: DirectDebitMandate
    sequence: SequenceType
    iban: str
    bic: str | None


def pain008_xml(
    creditor: SepaCreditor,
    *,
    message_id: str,
    created_at: datetime,
    collection_date: date,
    blocks: Sequence[tuple[str, SequenceType, Sequence[CheckedDebit]]],
) -> bytes:
    """The pain.008.001.02 message: a group header, then one payment information block
    ``(id, sequence type, debits)`` after another (validate it with :func:`validate_pain008`)."""
    root = etree.Element("Document", nsmap={None: PAIN_008_NAMESPACE})
    initiation = _element(root, "CstmrDrctDbtInitn")
    header = _element(initiation, "GrpHdr")
    _element(header, "MsgId", message_id)
    _element(header, "CreDtTm", created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    _element(header, "NbOfTxs", str(sum(len(members) for _, _, members in blocks)))
    _element(
        header,
        "CtrlSum",
        _amount(Money.sum(entry.item.amount for _, _, members in blocks for entry in members)),
    )
    _path(header, "InitgPty/Nm", sepa_text(creditor.name, 70))

    for group_id, sequence, members in blocks:
        total = Money.sum(entry.item.amount for entry in members)
        block = _element(initiation, "PmtInf")
        _element(block, "PmtInfId", group_id)
        _element(block, "PmtMtd", "DD")
        _element(block, "BtchBookg", "true")
        _element(block, "NbOfTxs", str(len(members)))
        _element(block, "CtrlSum", _amount(total))
        type_info = _element(block, "PmtTpInf")
        _path(type_info, "SvcLvl/Cd", "SEPA")
        _path(type_info, "LclInstrm/Cd", "CORE")
        _element(type_info, "SeqTp", sequence.value)
        _element(block, "ReqdColltnDt", collection_date.isoformat())
        _path(block, "Cdtr/Nm", sepa_text(creditor.name, 70))
        _path(block, "CdtrAcct/Id/IBAN", creditor.iban)
        _agent(block, "CdtrAgt", creditor.bic)
        _element(block, "ChrgBr", "SLEV")
        scheme = _path(block, "CdtrSchmeId/Id/PrvtId/Othr/Id", creditor.creditor_id).getparent()
        assert scheme is not None
        _path(scheme, "SchmeNm/Prtry", "SEPA")
        for entry in members:
            item, mandate = entry.item, entry.mandate
            transaction = _element(block, "DrctDbtTxInf")
            _path(transaction, "PmtId/EndToEndId", item.invoice_number)
            _element(transaction, "InstdAmt", _amount(item.amount)).set("Ccy", EUR)
            mandate_info = _path(
                transaction, "DrctDbtTx/MndtRltdInf/MndtId", mandate.reference
            ).getparent()
            assert mandate_info is not None
            _element(mandate_info, "DtOfSgntr", mandate.signed_on.isoformat())
            amendment = mandate.amendment
            _element(mandate_info, "AmdmntInd", "true" if amendment else "false")
            if amendment is not None:
                details = _element(mandate_info, "AmdmntInfDtls")
                if amendment.original_reference is not None:
                    _element(details, "OrgnlMndtId", amendment.original_reference)
                if amendment.original_iban is not None:
                    _path(details, "OrgnlDbtrAcct/Id/IBAN", amendment.original_iban)
            _agent(transaction, "DbtrAgt", entry.bic)
            _path(transaction, "Dbtr/Nm", sepa_text(mandate.debtor_name, 70) or "DEBITEUR")
            _path(transaction, "DbtrAcct/Id/IBAN", entry.iban)
            remittance = item.remittance_info or f"Facture {item.invoice_number}"
            _path(transaction, "RmtInf/Ustrd", sepa_text(remittance, 140))
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml
