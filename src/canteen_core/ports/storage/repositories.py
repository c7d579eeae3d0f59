"""The storage ports: a :class:`Storage` opens a :class:`UnitOfWork` (one transaction), which
gives the repositories (households, documents of a collection, enrollments, invoices,
reservation books, accounts and the outbox).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypedDict, TypeVar, Unpack, runtime_checkable

import attrs

from canteen_core.domain.accounts import Account, AccountStore
from canteen_core.domain.catalog import ServiceEntry, SiteEntry
from canteen_core.domain.families import Household
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.invoicing import NumberSequence
from canteen_core.domain.outbox import OutboxStore
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage.schema import AuditedNotification, Collection, T

if TYPE_CHECKING:
    from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord
    from canteen_core.domain.campaigns import Campaign, CampaignAnswer
    from canteen_core.domain.capacity import CapacityRule, WaitingEntry
    from canteen_core.domain.change_requests import ChangeRequest
    from canteen_core.domain.debit_returns import DebitReturn
    from canteen_core.domain.enrollment_requests import EnrollmentApplication
    from canteen_core.domain.enrollments import Enrollment
    from canteen_core.domain.family_papers import FamilyPaper
    from canteen_core.domain.invoicing import CreditNote, Invoice
    from canteen_core.domain.ledger import Payment, Refund
    from canteen_core.domain.mandates import DirectDebitMandate
    from canteen_core.domain.menus import WeekMenu
    from canteen_core.domain.payment_requests import StartedPayment
    from canteen_core.domain.school_years import YearClosing
    from canteen_core.domain.tariffs import TariffGrid
    from canteen_core.domain.web_state import IdempotentResponse, PortalSession
    from canteen_core.ports.audit import AuditLogRepository


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


@attrs.frozen(kw_only=True)
class AccountDocuments:
    """What a household's ledger account is rebuilt from
    (:meth:`InvoiceRepository.account_documents`): its invoices, credit notes, payments and
    refunds, each in id order."""

    invoices: tuple[Invoice, ...]
    credit_notes: tuple[CreditNote, ...]
    payments: tuple[Payment, ...]
    refunds: tuple[Refund, ...]


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

    def households_billed_until(self, day: date) -> frozenset[str]:
        """The households with an invoice issued on or before ``day``: the only ones a reminder
        run must look at (an invoice falls due no earlier than its issue date)."""
        ...

    def account_documents(self, household_id: str) -> AccountDocuments:
        """The household's invoices, credit notes, payments and refunds, each as
        ``list(household_id=household_id)`` of its repository gives them (in id order; an
        unknown household has none), read together: one statement on SQL, so one snapshot
        and one round trip where four lists cost four (every page showing an account)."""
        ...


class CapacityRepository(DocumentRepository["CapacityRule"], Protocol):
    """The capacity rules of sites' services, with a lock that makes bookings take turns."""

    def find_many(self, rule_ids: Iterable[str]) -> dict[str, CapacityRule]:
        """The rules among ``rule_ids`` that exist, by id (unknown ids are left out), in one
        query: a booking reads the rules of the services it touches, not every rule."""
        ...

    def lock(self, rule_id: str) -> CapacityRule | None:
        """The rule ``rule_id`` (or ``None``), held until the unit of work ends.

        Two units of work locking one rule run one after the other from here: a booking
        counts the stored bookings after its lock, so two concurrent bookings never both take
        the last place (PostgreSQL: ``SELECT ... FOR UPDATE`` on the rule's row; SQLite and
        the memory store run their writers one at a time already).
        """
        ...


C = TypeVar("C", SiteEntry, ServiceEntry)


class CatalogRepository(Protocol[C]):
    """The catalog's sites or services, each stored on its own and versioned.

    An entry's ``version`` is 1 when first saved and grows by one with each change; a save
    names the version it was computed from, so two staff changing one site at once cannot
    lose one of the changes.
    """

    def get(self, item_id: str) -> C:
        """The entry of ``item_id``; ``NotFoundError`` if there is none."""
        ...

    def find(self, item_id: str) -> C | None:
        """The entry of ``item_id``, or ``None``."""
        ...

    def list(self) -> Iterator[C]:
        """Every entry, by id."""
        ...

    def save(self, item: C, *, expected_version: int) -> None:
        """Store ``item`` (at ``expected_version + 1``) if the stored version is still
        ``expected_version`` (0: not stored yet).

        ``ConflictError`` if the stored version moved (or the entry exists when adding),
        ``InvalidInputError`` if ``item.version`` is not ``expected_version + 1``.
        """
        ...


class BookedFilters(TypedDict, total=False):
    """The filters of :meth:`ReservationRepository.booked`, every one optional."""

    site_id: str | None
    enrollment_ids: Iterable[str] | None
    #: ``start`` and ``end`` bound the days, inclusive.
    start: date | None
    end: date | None


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

    def booked(self, **filters: Unpack[BookedFilters]) -> Iterator[tuple[str, date]]:
        """``(enrollment_id, day)`` pairs booked (:class:`BookedFilters`), ordered by
        enrollment then day, streamed."""
        ...

    def headcount(
        self, site_id: str | Iterable[str], start: date, end: date, *, service_id: str | None = None
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
    def sites(self) -> CatalogRepository[SiteEntry]:
        """The catalog's sites with their closures, versioned."""
        ...

    @property
    def services(self) -> CatalogRepository[ServiceEntry]:
        """The catalog's services, versioned."""
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
    def family_papers(self) -> DocumentRepository[FamilyPaper]:
        """The papers households uploaded (their bytes are in the document store)."""
        ...

    @property
    def enrollment_requests(self) -> DocumentRepository[EnrollmentApplication]:
        """Families' enrollment requests, pending and decided."""
        ...

    @property
    def campaigns(self) -> DocumentRepository[Campaign]:
        """Yearly campaigns (family quotients, re-enrollment)."""
        ...

    @property
    def campaign_answers(self) -> DocumentRepository[CampaignAnswer]:
        """Each household's answers to the campaigns."""
        ...

    @property
    def payment_requests(self) -> DocumentRepository[StartedPayment]:
        """Online payments started (matched to the provider's notifications)."""
        ...

    @property
    def debit_returns(self) -> DocumentRepository[DebitReturn]:
        """Direct debits the bank returned, with their reason (from its return files)."""
        ...

    @property
    def web_sessions(self) -> DocumentRepository[PortalSession]:
        """The HTTP front end's login sessions (purged once expired)."""
        ...

    @property
    def idempotency_keys(self) -> DocumentRepository[IdempotentResponse]:
        """The HTTP front end's responses to requests with an ``Idempotency-Key``."""
        ...

    @property
    def capacities(self) -> CapacityRepository:
        """Capacity rules per site and service (and their lock)."""
        ...

    @property
    def waiting_list(self) -> DocumentRepository[WaitingEntry]:
        """Children waiting for a place, offered places, and decided entries."""
        ...

    @property
    def menus(self) -> DocumentRepository[WeekMenu]:
        """Weekly menus per site."""
        ...

    @property
    def year_closings(self) -> DocumentRepository[YearClosing]:
        """The closed school years (one closing each, by its label ``2023-2024``)."""
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
