"""The family's papers ("Espace de stockage"): what a household uploads for staff to review.

A :class:`FamilyPaper` is one scan a household gave the commune: an attestation CAF (family
quotient), a medical certificate, a PAI, a RIB or a proof of address, with its date, the child
it concerns and, for a paper that covers a period (a medical certificate), the days it covers.
Only its description is a domain value; the bytes live in a document store
(:mod:`canteen_core.ports.document_store`), named by an opaque key.

What is accepted is decided by content, never by file name: :func:`sniff_content_type` reads
the first bytes (PDF, JPEG, PNG) and refuses anything else, a renamed executable included.
:class:`PaperLimits` bounds a file's size and a household's total.

Staff review each paper (:func:`accept_paper`, :func:`reject_paper`); what acceptance then does
(justify absences, record the family quotient, mark the PAI) is the service's
(:mod:`canteen_core.services.family_papers`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import attrs

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import (
    a_date,
    aware_datetime,
    non_empty_str,
    optional_date,
    positive_int,
)
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.money import to_decimal

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "FamilyPaper",
    "PaperKind",
    "PaperLimits",
    "PaperStatus",
    "accept_paper",
    "reject_paper",
    "size_fr",
    "sniff_content_type",
]


class PaperKind(LabelledEnum):
    """The kinds of papers a household uploads; ``label`` is the French name families and
    staff read."""

    CAF_ATTESTATION = "attestation_caf", "Attestation CAF (quotient familial)"
    MEDICAL_CERTIFICATE = "certificat_medical", "Certificat médical"
    PAI = "pai", "PAI (projet d'accueil individualisé)"
    RIB = "rib", "RIB"
    PROOF_OF_ADDRESS = "justificatif_domicile", "Justificatif de domicile"
    #: The SEPA direct-debit authorization a family signed online: filed by canteen itself
    #: (:mod:`canteen_core.domain.mandate_authorization`), never uploaded.
    SEPA_MANDATE = "mandat_sepa", "Mandat de prélèvement SEPA signé"

    @property
    def needs_child(self) -> bool:
        """Whether the paper concerns one child (a certificate, a PAI)."""
        return self in (PaperKind.MEDICAL_CERTIFICATE, PaperKind.PAI)

    @property
    def uploadable(self) -> bool:
        """Whether a family may upload a paper of this kind (not the signed mandate, which
        canteen draws and files when the family signs)."""
        return self is not PaperKind.SEPA_MANDATE

    @property
    def needs_period(self) -> bool:
        """Whether the paper covers days from ``valid_from`` to ``valid_until``."""
        return self is PaperKind.MEDICAL_CERTIFICATE

    @classmethod
    def parse(cls, value: object) -> PaperKind:
        """``value`` as a kind; :class:`InvalidInputError` (French) listing the kinds."""
        if isinstance(value, PaperKind):
            return value
        try:
            return cls(str(value))
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise InvalidInputError(
                f"type de document inconnu « {value} » (types : {known})", path="kind"
            ) from None


class PaperStatus(enum.StrEnum):
    """Where a paper is in its review."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        """The French status shown to families."""
        return {"pending": "En attente", "accepted": "Accepté", "rejected": "Refusé"}[self.value]


#: Content types accepted, by their signature (the file's first bytes).
ALLOWED_CONTENT_TYPES: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


def sniff_content_type(data: bytes) -> str:
    """The content type of ``data`` read from its first bytes (PDF, JPEG or PNG).

    Anything else (an executable renamed ``.pdf``, a text file, an empty file) raises
    :class:`InvalidInputError` in French: the name a file was given never counts.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError("le contenu du fichier est attendu (octets)", path="content")
    head = bytes(data[:16])
    if not head:
        raise InvalidInputError("le fichier est vide", path="content")
    for content_type, magic in ALLOWED_CONTENT_TYPES.items():
        if head.startswith(magic):
            return content_type
    raise InvalidInputError(
        "type de fichier refusé : seuls les PDF, JPEG et PNG sont acceptés (d'après leur contenu)",
        path="content",
    )


def size_fr(size: int) -> str:
    """``"4,2 Mo"``, or ``"180 ko"`` under a megabyte."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} ko"
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0") + " Mo"


@attrs.frozen(kw_only=True)
class PaperLimits:
    """How large one file and one household's papers may be, in bytes."""

    max_bytes: int = attrs.field(default=5 * 1024 * 1024, validator=positive_int)
    household_quota: int = attrs.field(default=50 * 1024 * 1024, validator=positive_int)

    def check(self, size: int, used: int) -> None:
        """Refuse a file of ``size`` bytes when it is too large, or when the household,
        already using ``used`` bytes, would go over its quota (French errors)."""
        if size > self.max_bytes:
            raise InvalidInputError(
                f"fichier trop volumineux ({size_fr(size)}) : {size_fr(self.max_bytes)} au plus",
                path="content",
            )
        if used + size > self.household_quota:
            raise RuleViolationError(
                f"espace de stockage plein : {size_fr(used)} utilisés sur "
                f"{size_fr(self.household_quota)}, ce fichier ({size_fr(size)}) ne tient pas"
            )


def _kind(value: object) -> PaperKind:
    return PaperKind.parse(value)


def _status(value: PaperStatus | str) -> PaperStatus:
    return PaperStatus(value)


def _optional_quotient(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


@attrs.frozen(kw_only=True)
class FamilyPaper:
    """One paper of a household: its kind, date, the child it concerns, where its bytes are.

    ``issued_on`` is the paper's own date; ``valid_from``/``valid_until`` the days it covers
    (a medical certificate: required; others: optional). ``family_quotient`` is the value an
    attestation CAF states (EUR/month), recorded on acceptance. ``store`` names the document
    store and ``blob_key`` the opaque key of the bytes in it. ``file_name`` is shown, never
    used to find the file.
    """

    id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    kind: PaperKind = attrs.field(converter=_kind)
    issued_on: date = attrs.field(validator=a_date)
    child_id: str | None = None
    valid_from: date | None = attrs.field(default=None, validator=optional_date)
    valid_until: date | None = attrs.field(default=None, validator=optional_date)
    family_quotient: Decimal | None = attrs.field(default=None, converter=_optional_quotient)
    file_name: str = attrs.field(validator=non_empty_str)
    content_type: str = attrs.field(validator=non_empty_str)
    size: int = attrs.field(validator=positive_int)
    sha256: str = attrs.field(validator=non_empty_str)
    store: str = attrs.field(validator=non_empty_str)
    blob_key: str = attrs.field(validator=non_empty_str)
    uploaded_by: str = attrs.field(validator=non_empty_str)
    uploaded_at: datetime = attrs.field(validator=aware_datetime)
    status: PaperStatus = attrs.field(default=PaperStatus.PENDING, converter=_status)
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    rejection_reason: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind.needs_child and self.child_id is None:
            raise InvalidInputError(
                f"un {self.kind.label.lower()} concerne un enfant : indiquez lequel",
                path="child_id",
            )
        if self.kind.needs_period and (self.valid_from is None or self.valid_until is None):
            raise InvalidInputError(
                "un certificat médical indique la période qu'il couvre (du ... au ...)",
                path="valid_from",
            )
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until < self.valid_from
        ):
            raise InvalidInputError("la période se termine avant de commencer", path="valid_until")
        if self.family_quotient is not None and self.family_quotient < 0:
            raise InvalidInputError(
                "le quotient familial ne peut être négatif", path="family_quotient"
            )
        if self.kind is PaperKind.CAF_ATTESTATION and self.family_quotient is None:
            raise InvalidInputError(
                "une attestation CAF indique le quotient familial", path="family_quotient"
            )


def _check_pending(paper: FamilyPaper) -> None:
    if paper.status is not PaperStatus.PENDING:
        raise RuleViolationError(f"ce document a déjà été examiné ({paper.status.label.lower()})")


def accept_paper(paper: FamilyPaper, *, reviewer: str, at: datetime) -> FamilyPaper:
    """``paper`` accepted by ``reviewer`` at ``at``; a paper already reviewed is refused."""
    _check_pending(paper)
    return attrs.evolve(paper, status=PaperStatus.ACCEPTED, reviewed_by=reviewer, reviewed_at=at)


def reject_paper(paper: FamilyPaper, *, reviewer: str, at: datetime, reason: str) -> FamilyPaper:
    """``paper`` rejected with ``reason`` (required: the family is told why)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("indiquez la raison du refus", path="reason")
    _check_pending(paper)
    return attrs.evolve(
        paper,
        status=PaperStatus.REJECTED,
        reviewed_by=reviewer,
        reviewed_at=at,
        rejection_reason=" ".join(reason.split()),
    )
