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
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.accounts import Account, AccountStore
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, RuleViolationError
from canteen_core.domain.families import Household
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.invoicing import NumberSequence
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus, OutboxRecord, OutboxStore
from canteen_core.domain.reservations import ReservationBook

if TYPE_CHECKING:
    from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord
    from canteen_core.domain.change_requests import ChangeRequest
    from canteen_core.domain.enrollments import Enrollment
    from canteen_core.domain.invoicing import CreditNote, Invoice
    from canteen_core.domain.ledger import Payment, Refund
    from canteen_core.domain.mandates import DirectDebitMandate
    from canteen_core.domain.payment_requests import StartedPayment
    from canteen_core.domain.tariffs import TariffGrid
    from canteen_core.ports.audit import AuditLogRepository

__all__ = [
    "COLLECTIONS",
    "AccountRepository",
    "AuditedNotification",
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

T = TypeVar("T")
KeyType = Literal["str", "date", "datetime", "int", "bool"]


# -- values the repositories exchange ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class AuditedNotification:
    """A payment-provider notification as received, kept for audit (whatever its verdict).

    ``fields`` are the raw name/value pairs the provider sent; ``decision`` and ``reason``
    say what canteen did with it (credited, duplicate, rejected: bad signature...).
    """

    id: str = attrs.field(validator=non_empty_str)
    provider: str = attrs.field(validator=non_empty_str)
    received_at: datetime = attrs.field(validator=aware_datetime)
    decision: str = attrs.field(validator=non_empty_str)
    reason: str = ""
    transaction_id: str | None = None
    fields: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Range:
    """An inclusive range filter for :meth:`DocumentRepository.list`: ``day=Range(a, b)``.

    Either end may be ``None`` (open).
    """

    low: object = None
    high: object = None


# -- collections: what a document repository stores --------------------------------------------


@attrs.frozen(kw_only=True)
class Key:
    """An indexed column of a document collection, read from the object by ``attr``.

    ``attr`` is an attribute path (``"payer.id"``) or a function of the object.
    """

    column: str
    type: KeyType = "str"
    attr: str | Callable[[Any], Any] | None = None
    nullable: bool = False
    # The reader, made once (every stored document reads each of its keys): ``attr`` itself,
    # or an ``operator.attrgetter`` of the path.
    _get: Callable[[Any], Any] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        source = self.attr if self.attr is not None else self.column
        getter = source if callable(source) else operator.attrgetter(source)
        object.__setattr__(self, "_get", getter)

    def read(self, obj: object) -> Any:
        """The column value for ``obj`` (enums by value)."""
        try:
            value = self._get(obj)
        except AttributeError:
            source = self.attr if self.attr is not None else self.column
            if callable(source):
                raise
            raise ConfigurationError(
                f"{type(obj).__name__} has no attribute {source!r} "
                f"(needed for the {self.column!r} column)"
            ) from None
        if type(value) is str:
            return value
        value = getattr(value, "value", value) if not isinstance(value, str) else str(value)
        if value is None and not self.nullable:
            raise InvalidInputError(f"{self.column} is required", path=self.column)
        return value


@attrs.frozen(kw_only=True)
class Collection:
    """A kind of document: its Python type, id attribute and indexed key columns.

    ``type_ref`` is ``"module:Class"``, imported when first needed; storages accept a
    ``types`` mapping to use another class (a subclass, or a stand-in while a domain module
    is being written). ``unique`` lists extra unique constraints over key columns.
    ``immutable`` documents (issued invoices and credit notes) never change once stored:
    ``save`` over a stored id and ``remove`` raise
    :class:`~canteen_core.domain.errors.RuleViolationError` on every backend.
    """

    name: str
    type_ref: str
    keys: tuple[Key, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    id_attr: str = "id"
    immutable: bool = False

    def refuse_change(self, item_id: str) -> RuleViolationError:
        """The error refusing to overwrite or remove the stored immutable ``item_id``."""
        return RuleViolationError(
            f"{self.name}: {item_id!r} is issued and never changes nor goes away; "
            "correct it with a credit note"
        )

    def resolve_type(self) -> type[Any]:
        """Import the class named by ``type_ref``."""
        module_name, _, class_name = self.type_ref.partition(":")
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, class_name)
        except (ImportError, AttributeError):
            raise ConfigurationError(
                f"collection {self.name!r} stores {self.type_ref}, which cannot be imported; "
                "pass types={...} to the storage to use another class"
            ) from None
        if not isinstance(cls, type):
            raise ConfigurationError(f"{self.type_ref} is not a class")
        return cls

    def key(self, column: str) -> Key:
        """The key column called ``column``; ``InvalidInputError`` if it is not indexed."""
        for key in self.keys:
            if key.column == column:
                return key
        valid = ", ".join(key.column for key in self.keys)
        raise InvalidInputError(
            f"{self.name} cannot be filtered by {column!r}; indexed: {valid}", path=column
        )

    def id_of(self, obj: object) -> str:
        """The object's id."""
        value: Any = obj
        for part in self.id_attr.split("."):
            value = getattr(value, part, None)
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"{type(obj).__name__} needs a string id", path=self.id_attr)
        return value

    def key_values(self, obj: object) -> dict[str, Any]:
        """Every key column's value for ``obj``."""
        return {key.column: key.read(obj) for key in self.keys}


def _issue_year(document: Any) -> int:
    return int(document.issue_date.year)


def _lower_email(account: Any) -> str:
    return str(account.email).lower()


#: The document collections every storage provides (name -> spec). Accounts and the outbox
#: have their own repositories (:class:`AccountRepository`, :class:`OutboxRepository`).
COLLECTIONS: dict[str, Collection] = {
    collection.name: collection
    for collection in (
        Collection(
            name="enrollments",
            type_ref="canteen_core.domain.enrollments:Enrollment",
            keys=(
                Key(column="household_id"),
                Key(column="child_id"),
                Key(column="site_id", attr="site.id"),
                Key(column="service_id", attr="service.id"),
                Key(column="first_day", type="date", attr="start"),
                Key(column="last_day", type="date", attr="end"),
            ),
        ),
        Collection(
            name="change_requests",
            type_ref="canteen_core.domain.change_requests:ChangeRequest",
            keys=(
                Key(column="household_id"),
                Key(column="enrollment_id"),
                Key(column="child_id"),
                Key(column="day", type="date"),
                Key(column="status"),
            ),
        ),
        Collection(
            name="attendance",
            type_ref="canteen_core.domain.attendance:AttendanceRecord",
            keys=(
                Key(column="enrollment_id"),
                Key(column="household_id"),
                Key(column="site_id"),
                Key(column="day", type="date"),
                Key(column="presence"),
            ),
            unique=(("enrollment_id", "day"),),
        ),
        Collection(
            name="absences",
            type_ref="canteen_core.domain.attendance:AbsenceJustification",
            keys=(
                Key(column="enrollment_id"),
                Key(column="child_id"),
                Key(column="first_day", type="date"),
                Key(column="last_day", type="date"),
            ),
        ),
        Collection(
            name="tariffs",
            type_ref="canteen_core.domain.tariffs:TariffGrid",
            keys=(Key(column="service_id"), Key(column="valid_from", type="date")),
        ),
        Collection(
            name="invoices",
            type_ref="canteen_core.domain.invoicing:Invoice",
            keys=(
                Key(column="issuer", attr="issuer_id"),
                Key(column="year", type="int", attr=_issue_year),
                Key(column="number"),
                Key(column="household_id"),
                Key(column="billing_key"),
                Key(column="issue_date", type="date"),
            ),
            unique=(("issuer", "number"), ("billing_key",)),
            immutable=True,
        ),
        Collection(
            name="credit_notes",
            type_ref="canteen_core.domain.invoicing:CreditNote",
            keys=(
                Key(column="issuer", attr="issuer_id"),
                Key(column="year", type="int", attr=_issue_year),
                Key(column="number"),
                Key(column="household_id"),
                Key(column="invoice_id"),
                Key(column="issue_date", type="date"),
            ),
            unique=(("issuer", "number"),),
            immutable=True,
        ),
        Collection(
            name="payments",
            type_ref="canteen_core.domain.ledger:Payment",
            keys=(
                Key(column="household_id"),
                Key(column="method"),
                Key(column="received_on", type="date"),
                Key(column="reference", nullable=True),
            ),
        ),
        Collection(
            name="refunds",
            type_ref="canteen_core.domain.ledger:Refund",
            keys=(Key(column="household_id"), Key(column="refunded_on", type="date")),
        ),
        Collection(
            name="mandates",
            type_ref="canteen_core.domain.mandates:DirectDebitMandate",
            id_attr="reference",
            keys=(Key(column="household_id"), Key(column="status")),
        ),
        Collection(
            name="payment_requests",
            type_ref="canteen_core.domain.payment_requests:StartedPayment",
            keys=(
                Key(column="provider"),
                Key(column="transaction_id"),
                Key(column="household_id", nullable=True),
                Key(column="invoice_id", attr="request.invoice_id"),
                Key(column="requested_at", type="datetime", attr="request.requested_at"),
            ),
        ),
        Collection(
            name="notifications_audit",
            type_ref="canteen_core.ports.storage:AuditedNotification",
            keys=(
                Key(column="provider"),
                Key(column="transaction_id", nullable=True),
                Key(column="received_at", type="datetime"),
            ),
        ),
    )
}


# -- repositories ------------------------------------------------------------------------------


class HouseholdRepository(Protocol):
    """Households with their guardians and children (a child belongs to one household)."""

    def add(self, household: Household) -> None:
        """Store a new household; ``ConflictError`` if its id or one of its children exists."""
        ...

    def add_many(self, households: Iterable[Household]) -> None:
        """Store many new households in a few batched statements (imports); all or nothing."""
        ...

    def save(self, household: Household) -> None:
        """Store a household, new or changed (children removed from it are dropped)."""
        ...

    def get(self, household_id: str) -> Household:
        """The household; ``NotFoundError`` if unknown."""
        ...

    def find(self, household_id: str) -> Household | None:
        """The household, or ``None``."""
        ...

    def remove(self, household_id: str) -> None:
        """Delete a household; ``NotFoundError`` if unknown, ``ConflictError`` if in use."""
        ...

    def find_many(self, household_ids: Iterable[str]) -> dict[str, Household]:
        """The households among ``household_ids`` that exist, by id, in a few queries (a
        billing batch); unknown ids are left out."""
        ...

    def child_ids(self, household_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """The ids of the children of each of ``household_ids`` that exists (unknown ids are
        left out): a bulk staff call checks enrollments against them without loading whole
        households."""
        ...

    def ids(self) -> Iterator[str]:
        """Every household id, in id order, without loading the households (a run over the
        whole city keeps ids only, then loads one batch at a time)."""
        ...

    def all(self) -> Iterator[Household]:
        """Every household, by id, streamed."""
        ...

    def count(self) -> int:
        """How many households there are."""
        ...

    def of_guardian(self, guardian_id: str) -> list[Household]:
        """The households ``guardian_id`` is payer or co-representative of."""
        ...

    def of_child(self, child_id: str) -> Household | None:
        """The household a child belongs to, or ``None``."""
        ...


class DocumentRepository(Protocol[T]):
    """Objects of one :class:`Collection`, stored whole, found by id or by key columns."""

    @property
    def collection(self) -> Collection:
        """What this repository stores."""
        ...

    def add(self, item: T) -> None:
        """Store a new object; ``ConflictError`` if its id or a unique key exists."""
        ...

    def add_many(self, items: Iterable[T]) -> None:
        """Store many new objects at once (one batch); ``ConflictError`` as :meth:`add`."""
        ...

    def save(self, item: T) -> None:
        """Store an object, new or changed; ``ConflictError`` on a unique key of another;
        ``RuleViolationError`` over a stored object of an ``immutable`` collection."""
        ...

    def get(self, item_id: str) -> T:
        """The object; ``NotFoundError`` if unknown."""
        ...

    def find(self, item_id: str) -> T | None:
        """The object, or ``None``."""
        ...

    def remove(self, item_id: str) -> None:
        """Delete an object; ``NotFoundError`` if unknown; ``RuleViolationError`` in an
        ``immutable`` collection (issued invoices and credit notes stay)."""
        ...

    def list(self, **where: object) -> Iterator[T]:
        """Objects whose key columns equal the given values (or fall in a :class:`Range`,
        or equal one of a tuple, list or set of values: ``household_id=("h1", "h2")``).

        Streamed in id order: ``uow.enrollments.list(site_id="ronde")``. A collection of
        values is one ``IN`` query (batch loads); keep it to a few thousand values.
        """
        ...

    def count(self, **where: object) -> int:
        """How many objects :meth:`list` would give."""
        ...


class EnrollmentRepository(DocumentRepository["Enrollment"], Protocol):
    """Enrollments, with a bulk read by id (a family's children, a school's rentrée)."""

    def find_many(self, enrollment_ids: Iterable[str]) -> dict[str, Enrollment]:
        """The enrollments among ``enrollment_ids`` that exist, by id (unknown ids are
        left out); one ``IN`` query per few hundred ids."""
        ...


class InvoiceRepository(DocumentRepository["Invoice"], Protocol):
    """Invoices, with gapless numbering per issuer and year and unique billing keys.

    Numbering follows :class:`~canteen_core.domain.invoicing.NumberSequence`: a use case takes the
    issuer's sequence with :meth:`sequence` (locking it until commit or rollback: a concurrent
    billing run waits), numbers its documents, stores them and the advanced sequence with
    :meth:`save_sequence`, and commits. A rollback gives the numbers back: no gap.
    """

    def sequence(
        self, issuer_id: str, year: int, *, kind: str = "invoice", prefix: str = ""
    ) -> NumberSequence:
        """The numbering state of ``issuer_id``/``year``/``kind``, locked for this transaction."""
        ...

    def save_sequence(self, sequence: NumberSequence, *, kind: str = "invoice") -> None:
        """Store an advanced sequence; ``ConflictError`` if it would go backwards."""
        ...

    def next_number(self, issuer_id: str, year: int, *, kind: str = "invoice") -> int:
        """Take the next number (1, 2, 3...) of the sequence in this transaction."""
        ...

    def find_by_billing_key(self, billing_key: str) -> Invoice | None:
        """The invoice billed under ``billing_key``, or ``None``."""
        ...

    def billed_keys(self, keys: Iterable[str]) -> frozenset[str]:
        """Which of ``keys`` are already billed (what a billing run must skip)."""
        ...


class ReservationRepository(Protocol):
    """Each enrollment's :class:`~canteen_core.domain.reservations.ReservationBook`, versioned.

    Booked days are stored as rows ``(enrollment_id, day)`` (with the site, for headcounts);
    a book is rebuilt with the enrollment's first day as origin.
    """

    def load(self, enrollment_id: str) -> ReservationBook:
        """The enrollment's book (empty at version 0 if never saved).

        ``NotFoundError`` if the enrollment does not exist.
        """
        ...

    def load_many(
        self, enrollment_ids: Iterable[str], *, between: tuple[date, date] | None = None
    ) -> dict[str, ReservationBook]:
        """:meth:`load` for many enrollments in a few queries.

        ``between=(first, last)``: only the booked days of that range are needed (a billing
        run reads a month of a year-long book); days outside it may be left out, so such a
        book is for reading only, never to be saved back.
        """
        ...

    def save(self, book: ReservationBook, *, expected_version: int) -> None:
        """Store ``book`` if the stored version is still ``expected_version``.

        ``expected_version`` is the version of the book the change was computed from.
        ``ConflictError`` if someone saved in between (nothing is lost: reload and redo),
        ``NotFoundError`` if the enrollment does not exist. Saving a book whose version did
        not move only checks for a conflict.
        """
        ...

    def save_many(self, items: Iterable[tuple[ReservationBook, int]]) -> None:
        """:meth:`save` many ``(book, expected_version)`` pairs in batches (bulk booking).

        All or nothing: on ``ConflictError`` none of them is stored.
        """
        ...

    def booked(
        self,
        *,
        site_id: str | None = None,
        enrollment_ids: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Iterator[tuple[str, date]]:
        """``(enrollment_id, day)`` pairs booked, ordered by enrollment then day, streamed."""
        ...

    def headcount(
        self,
        site_id: str | Iterable[str],
        start: date,
        end: date,
        *,
        service_id: str | None = None,
    ) -> tuple[KitchenCount, ...]:
        """Meals by diet and PAI baskets at ``site_id``, one count per day ``start``..``end``.

        ``site_id`` may be a collection of site ids (a caterer's order, a whole city): one
        grouped query, counts ordered by site (in the order given) then day.
        """
        ...


class AccountRepository(AccountStore, Protocol):
    """Portal accounts (the :class:`~canteen_core.domain.accounts.AccountStore` port) and throttles.

    ``save`` raises ``ConflictError`` when the username belongs to another account.

    Throttles: in a writable unit of work, ``throttle(key)`` holds ``key`` until the unit of
    work ends, so a concurrent unit of work reading the same key waits for it (a login's
    check, password verification and recorded failure are one step per key, and concurrent
    guesses check no more passwords than the policy allows). Keys are stored as given when
    short and printable, else under their SHA-256 digest (the same rule on every backend):
    a client-controlled source of any length or content is counted, never refused.
    """

    def list(self) -> Iterator[Account]:
        """Every account, by id."""
        ...

    def remove(self, account_id: str) -> None:
        """Delete an account with its tokens (a household's erasure, the retention of
        inactive accounts); ``NotFoundError`` if unknown."""
        ...


class OutboxRepository(OutboxStore, Protocol):
    """The outbox (the :class:`~canteen_core.domain.outbox.OutboxStore` port) in this transaction.

    ``add`` joins the use case's transaction: a message is queued only if the change that
    caused it commits. For a dispatcher, whose every step must commit on its own, wrap the
    storage with :func:`outbox_store`.
    """


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction and the repositories working in it (a context manager)."""

    @property
    def households(self) -> HouseholdRepository:
        """Households with their guardians and children."""
        ...

    @property
    def enrollments(self) -> EnrollmentRepository:
        """Enrollments of children to services at sites."""
        ...

    @property
    def reservations(self) -> ReservationRepository:
        """Reservation books, versioned."""
        ...

    @property
    def change_requests(self) -> DocumentRepository[ChangeRequest]:
        """Late changes awaiting staff (and decided ones)."""
        ...

    @property
    def attendance(self) -> DocumentRepository[AttendanceRecord]:
        """Attendance records (one per enrollment and day)."""
        ...

    @property
    def absences(self) -> DocumentRepository[AbsenceJustification]:
        """Justified absences (medical certificates)."""
        ...

    @property
    def tariffs(self) -> DocumentRepository[TariffGrid]:
        """Dated tariff grids."""
        ...

    @property
    def invoices(self) -> InvoiceRepository:
        """Invoices, their numbering and billing keys."""
        ...

    @property
    def credit_notes(self) -> DocumentRepository[CreditNote]:
        """Credit notes (numbered with ``kind="credit_note"``)."""
        ...

    @property
    def payments(self) -> DocumentRepository[Payment]:
        """Payments received."""
        ...

    @property
    def refunds(self) -> DocumentRepository[Refund]:
        """Refunds paid back to households."""
        ...

    @property
    def mandates(self) -> DocumentRepository[DirectDebitMandate]:
        """SEPA direct-debit mandates (by reference)."""
        ...

    @property
    def accounts(self) -> AccountRepository:
        """Portal accounts and login throttles."""
        ...

    @property
    def outbox(self) -> OutboxRepository:
        """Messages waiting to be sent, and sent ones."""
        ...

    @property
    def notifications_audit(self) -> DocumentRepository[AuditedNotification]:
        """Every payment-provider notification received."""
        ...

    @property
    def payment_requests(self) -> DocumentRepository[StartedPayment]:
        """Online payments started (matched to the provider's notifications)."""
        ...

    @property
    def audit(self) -> AuditLogRepository:
        """The audit chains (append-only; see :mod:`canteen_core.ports.audit`)."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Keep everything done so far; later changes start a new transaction."""
        ...

    def rollback(self) -> None:
        """Drop everything done since the last commit."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside undoes only what the block did.

        Lets a billing run skip one household's ``ConflictError`` and go on.
        """
        ...


@runtime_checkable
class Storage(Protocol):
    """An opened storage backend: a factory of units of work."""

    @property
    def name(self) -> str:
        """The backend's name (``"memory"``, ``"sql"``)."""
        ...

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work (enter it with ``with``). ``read_only`` ones may not write."""
        ...

    def close(self) -> None:
        """Release connections; the storage cannot be used afterwards."""
        ...


def collection(name: str) -> Collection:
    """The :class:`Collection` called ``name``."""
    try:
        return COLLECTIONS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown collection {name!r}; known: {', '.join(sorted(COLLECTIONS))}"
        ) from None


def resolve_types(types: Mapping[str, type[Any]] | None) -> dict[str, type[Any] | None]:
    """Collection name -> class override (``None``: import ``type_ref`` when first needed)."""
    overrides = dict(types or {})
    for name in overrides:
        collection(name)
    return {name: overrides.get(name) for name in COLLECTIONS}


class _CommittingOutbox:
    """An :class:`~canteen_core.domain.outbox.OutboxStore` where every call is its own
    transaction.
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def add(self, messages: Iterable[OutgoingMessage]) -> list[str]:
        with self._storage.unit_of_work() as uow:
            added = uow.outbox.add(messages)
            uow.commit()
            return added

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxRecord]:
        with self._storage.unit_of_work() as uow:
            claimed = uow.outbox.claim_due(now, limit=limit, lease=lease)
            uow.commit()
            return claimed

    def renew(self, message_id: str, *, claim: str | None, now: datetime) -> bool:
        with self._storage.unit_of_work() as uow:
            renewed = uow.outbox.renew(message_id, claim=claim, now=now)
            uow.commit()
            return renewed

    def mark_sent(self, message_id: str, *, sent_at: datetime, claim: str | None = None) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.mark_sent(message_id, sent_at=sent_at, claim=claim)
            uow.commit()

    def mark_failed(
        self,
        message_id: str,
        *,
        error: str,
        failed_at: datetime,
        next_attempt_at: datetime | None,
        claim: str | None = None,
    ) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.mark_failed(
                message_id,
                error=error,
                failed_at=failed_at,
                next_attempt_at=next_attempt_at,
                claim=claim,
            )
            uow.commit()

    def get(self, message_id: str) -> OutboxRecord | None:
        with self._storage.unit_of_work(read_only=True) as uow:
            return uow.outbox.get(message_id)

    def records(self, status: DeliveryStatus | None = None) -> Sequence[OutboxRecord]:
        with self._storage.unit_of_work(read_only=True) as uow:
            return list(uow.outbox.records(status))

    def requeue(self, message_id: str, *, now: datetime) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.requeue(message_id, now=now)
            uow.commit()


def outbox_store(storage: Storage) -> OutboxStore:
    """The storage's outbox for a dispatcher: each call commits on its own.

    >>> dispatcher = Dispatcher(store=outbox_store(storage), mailer=mailer)  # doctest: +SKIP
    """
    return _CommittingOutbox(storage)
