"""The audit log port: where a storage keeps the audit chain (``uow.audit``).

Append-only: the repository has no method to change or remove one entry. The only removal is
the retention policy's cut of a chain's oldest part (:meth:`AuditLogRepository.cut_before`),
which keeps what remains verifiable. Entries are linked by the core
(:func:`canteen_core.domain.audit.chain_entry`); the repository stores them as given.

Guarantees every adapter gives (``canteen_core.testing.audit_contract`` checks them):

* :meth:`~AuditLogRepository.head` (and :meth:`~AuditLogRepository.last`) in a writable unit
  of work **locks the commune's chain** until the unit of work ends: a concurrent writer
  waits, then sees the new head, so two transactions never link to the same entry;
* :meth:`~AuditLogRepository.head` is the last entry's sequence and hash, read without the
  entry's changes (the core links each new entry to it: the last entry of a billing run holds
  hundreds of changes);
* :meth:`~AuditLogRepository.append` joins the transaction: rolled back with it;
* a second entry with a stored ``(commune, sequence)`` or id raises
  :class:`~canteen_core.domain.errors.ConflictError`;
* an entry reads back equal to what was appended (so its hash still checks out), and a
  stored row edited behind canteen's back reads back as edited (so the check sees it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol, TypedDict, Unpack

from canteen_core.domain.audit import AuditEntry, AuditHead

__all__ = ["AuditFilters", "AuditLogRepository"]


class AuditFilters(TypedDict, total=False):
    """The filters of :meth:`AuditLogRepository.entries`, every one optional."""

    household_id: str | None
    actor_id: str | None
    action: str | None
    #: ``since`` and ``until`` bound ``recorded_at``, inclusive.
    since: datetime | None
    until: datetime | None
    #: Only the entries numbered above it (0: from the first).
    after_sequence: int


class AuditLogRepository(Protocol):
    """The audit chains of the communes a storage holds."""

    def head(self, commune: str) -> AuditHead | None:
        """The commune's chain head: its last entry's sequence and hash (``None`` before the
        first), read without the entry itself; in a writable unit of work the chain stays
        locked for this transaction. What the core links a new entry to."""
        ...

    def last(self, commune: str) -> AuditEntry | None:
        """The commune's last entry (``None`` before the first); in a writable unit of work
        the chain stays locked for this transaction, as with :meth:`head`."""
        ...

    def append(self, entry: AuditEntry) -> None:
        """Store a linked entry; ``ConflictError`` if its sequence or id is taken."""
        ...

    def entries(self, commune: str, **filters: Unpack[AuditFilters]) -> Iterator[AuditEntry]:
        """The commune's entries in sequence order, filtered (:class:`AuditFilters`), streamed."""
        ...

    def first(self, commune: str) -> AuditEntry | None:
        """The commune's oldest kept entry, or ``None``."""
        ...

    def cut_before(self, commune: str, sequence: int) -> int:
        """Remove the commune's entries numbered below ``sequence`` (retention: the oldest
        part of the chain, never one entry in the middle); returns how many went."""
        ...
