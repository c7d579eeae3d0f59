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
  block, nothing is stored. A lost connection raises :class:`~canteen_core.errors.StorageError`
  and nothing partial is kept.
* **No lost update on reservations.** Each enrollment's reservations carry a version
  (:class:`ReservationState`); saving a state loaded at a version that is no longer current
  raises :class:`~canteen_core.errors.ConflictError`.
* **Gapless invoice numbers** per issuer and year: :meth:`InvoiceRepository.next_number` takes
  the next number inside the transaction; a rolled-back transaction gives its number back.
* **Exactly-once billing**: an invoice's billing key (household, period, kind) is unique in the
  database; adding a second invoice for the same key raises
  :class:`~canteen_core.errors.ConflictError`, even from two concurrent runs.
* Unique identifiers: adding an object whose id exists raises ``ConflictError``; ``get`` of an
  unknown id raises :class:`~canteen_core.errors.NotFoundError`.

Documents: most aggregates are stored whole, serialized with :mod:`canteen_core.serialization`,
next to a few indexed key columns used to find them (:class:`Collection`). Reservation days
are real rows (enrollment, day), for headcounts over a whole city.

One writing unit of work at a time per thread: with SQLite a second concurrent writer waits
for the first (its write lock), with the memory store a nested unit of work in the same
thread is refused with a ``StorageError``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import attrs

from canteen_core._validators import non_empty_str
from canteen_core.errors import ConfigurationError, InvalidInputError
from canteen_core.families import Diet, Household

__all__ = [
    "COLLECTIONS",
    "Collection",
    "DocumentRepository",
    "Headcount",
    "HouseholdRepository",
    "InvoiceRepository",
    "Key",
    "Range",
    "ReservationRepository",
    "ReservationState",
    "Storage",
    "UnitOfWork",
]

T = TypeVar("T")
KeyType = Literal["str", "date", "datetime", "int", "bool"]


# -- values the repositories exchange ----------------------------------------------------------


def _dates(items: Iterable[date]) -> frozenset[date]:
    result = frozenset(items)
    for item in result:
        if not isinstance(item, date) or isinstance(item, datetime):
            raise InvalidInputError(f"expected dates, got {item!r}", path="days")
    return result


def _non_negative(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"must be a non-negative integer, got {value!r}", path="version")


@attrs.frozen(kw_only=True)
class ReservationState:
    """The booked days of one enrollment, at a version.

    ``version`` is what the storage had when the state was loaded (0: never saved). Save it
    back with :meth:`ReservationRepository.save`: if someone saved in between, the save
    raises :class:`~canteen_core.errors.ConflictError` instead of overwriting their change.
    ``late_days`` (a subset of ``days``) were booked after the cut-off: billing applies the
    surcharge the enrollment's policy says.
    """

    enrollment_id: str = attrs.field(validator=non_empty_str)
    days: frozenset[date] = attrs.field(default=frozenset(), converter=_dates)
    late_days: frozenset[date] = attrs.field(default=frozenset(), converter=_dates)
    version: int = attrs.field(default=0, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if not self.late_days <= self.days:
            raise InvalidInputError("late days must be booked days", path="late_days")

    def with_days(self, days: Iterable[date], late_days: Iterable[date] = ()) -> ReservationState:
        """A copy with ``days`` booked (same version: save it to make it current)."""
        return attrs.evolve(self, days=_dates(days), late_days=_dates(late_days))

    def booking(self, *days: date, late: bool = False) -> ReservationState:
        """A copy with ``days`` added (marked late if ``late``)."""
        late_days = self.late_days | set(days) if late else self.late_days
        return self.with_days(self.days | set(days), late_days)

    def cancelling(self, *days: date) -> ReservationState:
        """A copy with ``days`` removed."""
        removed = set(days)
        return self.with_days(self.days - removed, self.late_days - removed)


@attrs.frozen(kw_only=True)
class Headcount:
    """Meals expected at a site on a day for one diet and PAI flag (from reservations)."""

    site_id: str
    day: date
    diet: Diet
    pai: bool
    meals: int


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

    def read(self, obj: object) -> Any:
        """The column value for ``obj`` (enums by value)."""
        source = self.attr if self.attr is not None else self.column
        if callable(source):
            value = source(obj)
        else:
            value = obj
            for part in source.split("."):
                try:
                    value = getattr(value, part)
                except AttributeError:
                    raise ConfigurationError(
                        f"{type(obj).__name__} has no attribute {source!r} "
                        f"(needed for the {self.column!r} column)"
                    ) from None
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
    """

    name: str
    type_ref: str
    keys: tuple[Key, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    id_attr: str = "id"

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
        value = getattr(obj, self.id_attr, None)
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"{type(obj).__name__} needs a string id", path=self.id_attr)
        return value

    def key_values(self, obj: object) -> dict[str, Any]:
        """Every key column's value for ``obj``."""
        return {key.column: key.read(obj) for key in self.keys}


def _issue_year(invoice: Any) -> int:
    return int(invoice.issue_date.year)


#: The document collections every storage provides (name -> spec).
COLLECTIONS: dict[str, Collection] = {
    collection.name: collection
    for collection in (
        Collection(
            name="enrollments",
            type_ref="canteen_core.reservations:Enrollment",
            keys=(
                Key(column="household_id"),
                Key(column="child_id"),
                Key(column="site_id"),
                Key(column="service_id"),
                Key(column="first_day", type="date"),
                Key(column="last_day", type="date"),
            ),
        ),
        Collection(
            name="change_requests",
            type_ref="canteen_core.reservations:ChangeRequest",
            keys=(
                Key(column="household_id"),
                Key(column="enrollment_id"),
                Key(column="day", type="date"),
                Key(column="status"),
            ),
        ),
        Collection(
            name="attendance",
            type_ref="canteen_core.reservations:Attendance",
            keys=(
                Key(column="enrollment_id"),
                Key(column="day", type="date"),
                Key(column="status"),
            ),
            unique=(("enrollment_id", "day"),),
        ),
        Collection(
            name="tariffs",
            type_ref="canteen_core.tariffs:TariffGrid",
            keys=(Key(column="service_id"), Key(column="valid_from", type="date")),
        ),
        Collection(
            name="invoices",
            type_ref="canteen_core.invoicing:Invoice",
            keys=(
                Key(column="issuer"),
                Key(column="year", type="int", attr=_issue_year),
                Key(column="number"),
                Key(column="household_id"),
                Key(column="billing_period", nullable=True),
                Key(column="billing_kind", nullable=True),
                Key(column="status"),
                Key(column="issue_date", type="date"),
            ),
            unique=(("issuer", "number"), ("household_id", "billing_period", "billing_kind")),
        ),
        Collection(
            name="payments",
            type_ref="canteen_core.payments:Payment",
            keys=(
                Key(column="household_id"),
                Key(column="external_ref", nullable=True),
            ),
            unique=(("external_ref",),),
        ),
        Collection(
            name="accounts",
            type_ref="canteen_core.accounts:Account",
            keys=(
                Key(column="username"),
                Key(column="email", nullable=True),
                Key(column="household_id", nullable=True),
            ),
            unique=(("username",),),
        ),
        Collection(
            name="outbox",
            type_ref="canteen_core.notifications:OutboxMessage",
            keys=(
                Key(column="status"),
                Key(column="created_at", type="datetime"),
                Key(column="next_attempt_at", type="datetime", nullable=True),
            ),
        ),
        Collection(
            name="notifications_audit",
            type_ref="canteen_core.payments:ProviderNotification",
            keys=(
                Key(column="provider"),
                Key(column="external_ref", nullable=True),
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
        """Store an object, new or changed; ``ConflictError`` on a unique key of another."""
        ...

    def get(self, item_id: str) -> T:
        """The object; ``NotFoundError`` if unknown."""
        ...

    def find(self, item_id: str) -> T | None:
        """The object, or ``None``."""
        ...

    def remove(self, item_id: str) -> None:
        """Delete an object; ``NotFoundError`` if unknown."""
        ...

    def list(self, **where: object) -> Iterator[T]:
        """Objects whose key columns equal the given values (or fall in a :class:`Range`).

        Streamed in id order: ``uow.enrollments.list(site_id="ronde")``.
        """
        ...

    def count(self, **where: object) -> int:
        """How many objects :meth:`list` would give."""
        ...


class InvoiceRepository(DocumentRepository[Any], Protocol):
    """Invoices and credit notes, with gapless numbering and unique billing keys."""

    def next_number(self, issuer: str, year: int) -> int:
        """The next invoice number for ``issuer`` and ``year`` (1, 2, 3...), in this transaction.

        The counter row stays locked until commit or rollback: concurrent runs wait, and a
        rollback gives the number back, so issued numbers have no gap.
        """
        ...

    def find_by_billing_key(self, household_id: str, period: str, kind: str) -> Any | None:
        """The invoice billed for (household, period, kind), or ``None``."""
        ...


class ReservationRepository(Protocol):
    """Booked days per enrollment, versioned; headcounts per site and day."""

    def load(self, enrollment_id: str) -> ReservationState:
        """The enrollment's current state (version 0 and no days if never saved)."""
        ...

    def load_many(self, enrollment_ids: Iterable[str]) -> dict[str, ReservationState]:
        """:meth:`load` for many enrollments in one query."""
        ...

    def save(self, state: ReservationState) -> ReservationState:
        """Make ``state`` current; returns it at its new version (``state.version + 1``).

        ``ConflictError`` if the stored version is no longer ``state.version`` (someone saved
        in between), ``NotFoundError`` if the enrollment does not exist.
        """
        ...

    def save_many(self, states: Iterable[ReservationState]) -> list[ReservationState]:
        """:meth:`save` many states in batches (bulk booking); all or nothing with the uow."""
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
        self, site_id: str, start: date, end: date, *, service_id: str | None = None
    ) -> list[Headcount]:
        """Meals booked at ``site_id`` per day, diet and PAI flag, days ``start``..``end``."""
        ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction and the repositories working in it (a context manager)."""

    @property
    def households(self) -> HouseholdRepository:
        """Households with their guardians and children."""
        ...

    @property
    def enrollments(self) -> DocumentRepository[Any]:
        """Enrollments of children to services at sites."""
        ...

    @property
    def reservations(self) -> ReservationRepository:
        """Booked days per enrollment, versioned."""
        ...

    @property
    def change_requests(self) -> DocumentRepository[Any]:
        """Late changes awaiting staff (and decided ones)."""
        ...

    @property
    def attendance(self) -> DocumentRepository[Any]:
        """What happened on each day (present, absent, justified)."""
        ...

    @property
    def tariffs(self) -> DocumentRepository[Any]:
        """Dated tariff grids."""
        ...

    @property
    def invoices(self) -> InvoiceRepository:
        """Invoices and credit notes."""
        ...

    @property
    def payments(self) -> DocumentRepository[Any]:
        """Payments received (and refunds)."""
        ...

    @property
    def accounts(self) -> DocumentRepository[Any]:
        """Portal accounts."""
        ...

    @property
    def outbox(self) -> DocumentRepository[Any]:
        """Messages waiting to be sent, and sent ones."""
        ...

    @property
    def notifications_audit(self) -> DocumentRepository[Any]:
        """Every payment-provider notification received."""
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
