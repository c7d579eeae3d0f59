"""Storage ports: the unit of work and its repositories, as the application services see them.

A use case opens one :class:`UnitOfWork` from a :class:`Storage`, reads and writes through its
repositories, and commits; everything is kept or nothing is::

    with storage.unit_of_work() as uow:
        household = uow.households.get("h1")
        uow.households.save(household.with_child(child))
        uow.commit()            # leaving the block without commit() rolls back

Guarantees every adapter gives (and ``tests/storage`` checks against memory, SQLite and
PostgreSQL):

* **All or nothing.** Without :meth:`UnitOfWork.commit`, or when an exception leaves the
  block, nothing is stored. A lost connection raises
  :class:`~canteen_core.domain.errors.StorageError`
  and nothing partial is kept.
* **No lost update on reservations.** Each enrollment's reservations carry a version
  (:class:`ReservationState`); saving a state loaded at a version that is no longer current
  raises :class:`~canteen_core.domain.errors.ConflictError`.
* **Gapless invoice numbers** per issuer and year: :meth:`InvoiceRepository.next_number` takes
  the next number inside the transaction; a rolled-back transaction gives its number back.
* **Exactly-once billing**: an invoice's billing key (household, period, kind) is unique in the
  database; adding a second invoice for the same key raises
  :class:`~canteen_core.domain.errors.ConflictError`, even from two concurrent runs.
* Unique identifiers: adding an object whose id exists raises ``ConflictError``; ``get`` of an
  unknown id raises :class:`~canteen_core.domain.errors.NotFoundError`.
* **Issued documents never change.** Invoices and credit notes (``immutable`` collections)
  cannot be saved over nor removed: :class:`~canteen_core.domain.errors.RuleViolationError`.
* **One rule for text.** A string holding a NUL character or a lone surrogate anywhere in a
  stored object, or an id or indexed value (username, billing key...) longer than 300
  characters, is refused with :class:`~canteen_core.domain.errors.InvalidInputError` before
  anything is written, on every backend (PostgreSQL stores neither; SQLite would). A lookup
  by such a text finds nothing or is refused the same way, never a ``StorageError``.

Documents: most aggregates are stored whole, serialized with
:mod:`canteen_core.config.serialization`,
next to a few indexed key columns used to find them (:class:`Collection`). Reservation days
are real rows (enrollment, day), for headcounts over a whole city.

One writing unit of work at a time per thread: with SQLite a second concurrent writer waits
for the first (its write lock), with the memory store a nested unit of work in the same
thread is refused with a ``StorageError``.

The rooms of this package:

* :mod:`~canteen_core.ports.storage.schema`: the stored collections and their key columns
  (:data:`COLLECTIONS`, :class:`Collection`, :class:`Key`, :class:`Range`);
* :mod:`~canteen_core.ports.storage.repositories`: :class:`Storage`, its :class:`UnitOfWork` and
  the repository ports (households, documents, enrollments, invoices, reservations, accounts,
  outbox);
* :mod:`~canteen_core.ports.storage.outbox`: :func:`outbox_store`, the outbox of a storage for
  a dispatcher.

Every name below is importable from ``canteen_core.ports.storage`` itself.
"""

from canteen_core.ports.storage.outbox import outbox_store
from canteen_core.ports.storage.repositories import (
    AccountDocuments,
    AccountRepository,
    CapacityRepository,
    CatalogRepository,
    DocumentRepository,
    EnrollmentRepository,
    HouseholdRepository,
    InvoiceRepository,
    OutboxRepository,
    ReservationRepository,
    Storage,
    UnitOfWork,
)
from canteen_core.ports.storage.schema import (
    COLLECTIONS,
    AuditedNotification,
    Collection,
    Key,
    Range,
    collection,
)

# Also used by the built-in backends, not part of the documented surface:
from canteen_core.ports.storage.schema import KeyType as KeyType
from canteen_core.ports.storage.schema import resolve_types as resolve_types

__all__ = [
    "COLLECTIONS",
    "AccountDocuments",
    "AccountRepository",
    "AuditedNotification",
    "CapacityRepository",
    "CatalogRepository",
    "Collection",
    "DocumentRepository",
    "EnrollmentRepository",
    "HouseholdRepository",
    "InvoiceRepository",
    "Key",
    "OutboxRepository",
    "Range",
    "ReservationRepository",
    "Storage",
    "UnitOfWork",
    "collection",
    "outbox_store",
]
