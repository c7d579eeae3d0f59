"""What is stored and how it is found: the :class:`Collection` of each document type with its key
columns (:class:`Key`), and the values repositories exchange.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)

if TYPE_CHECKING:
    pass


T = TypeVar("T")

KeyType = Literal["str", "date", "datetime", "int", "bool"]


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

    def missing(self, item_id: str) -> NotFoundError:
        """The error saying no ``item_id`` is stored."""
        return NotFoundError(f"{self.name}: no {item_id!r}")

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


def _keys(*specs: str | Key) -> tuple[Key, ...]:
    """Key columns from short specs: ``"status"`` (a string column), ``"day:date"`` (of that
    :data:`KeyType`), or a :class:`Key` given whole (read from another attribute, nullable)."""
    keys = []
    for spec in specs:
        if isinstance(spec, str):
            column, _, type_ = spec.partition(":")
            if type_ and type_ not in get_args(KeyType):
                raise ConfigurationError(f"key {spec!r}: no such key type {type_!r}")
            spec = Key(column=column, type=cast(KeyType, type_ or "str"))
        keys.append(spec)
    return tuple(keys)


def _domain(ref: str) -> str:
    """The ``type_ref`` of a class of :mod:`canteen_core.domain`: ``"module:Class"``."""
    return f"canteen_core.domain.{ref}"


#: The first keys of an issued document (invoice, credit note): numbered per issuer and year.
_NUMBERED = (
    Key(column="issuer", attr="issuer_id"),
    Key(column="year", type="int", attr=_issue_year),
    *_keys("number", "household_id"),
)

#: The document collections every storage provides (name -> spec). Accounts and the outbox
#: have their own repositories (:class:`AccountRepository`, :class:`OutboxRepository`).
COLLECTIONS: dict[str, Collection] = {
    collection.name: collection
    for collection in (
        Collection(
            name="enrollments",
            type_ref=_domain("enrollments:Enrollment"),
            keys=_keys(
                "household_id",
                "child_id",
                Key(column="site_id", attr="site.id"),
                Key(column="service_id", attr="service.id"),
                Key(column="first_day", type="date", attr="start"),
                Key(column="last_day", type="date", attr="end"),
            ),
        ),
        Collection(
            name="change_requests",
            type_ref=_domain("change_requests:ChangeRequest"),
            keys=_keys("household_id", "enrollment_id", "child_id", "day:date", "status"),
        ),
        Collection(
            name="attendance",
            type_ref=_domain("attendance:AttendanceRecord"),
            keys=_keys("enrollment_id", "household_id", "site_id", "day:date", "presence"),
            unique=(("enrollment_id", "day"),),
        ),
        Collection(
            name="absences",
            type_ref=_domain("attendance:AbsenceJustification"),
            keys=_keys("enrollment_id", "child_id", "first_day:date", "last_day:date"),
        ),
        Collection(
            name="tariffs",
            type_ref=_domain("tariffs:TariffGrid"),
            keys=_keys("service_id", "valid_from:date"),
        ),
        Collection(
            name="invoices",
            type_ref=_domain("invoicing:Invoice"),
            keys=(*_NUMBERED, *_keys("billing_key", "issue_date:date")),
            unique=(("issuer", "number"), ("billing_key",)),
            immutable=True,
        ),
        Collection(
            name="credit_notes",
            type_ref=_domain("invoicing:CreditNote"),
            keys=(*_NUMBERED, *_keys("invoice_id", "issue_date:date")),
            unique=(("issuer", "number"),),
            immutable=True,
        ),
        Collection(
            name="payments",
            type_ref=_domain("ledger:Payment"),
            keys=_keys(
                "household_id",
                "method",
                "received_on:date",
                Key(column="reference", nullable=True),
            ),
        ),
        Collection(
            name="refunds",
            type_ref=_domain("ledger:Refund"),
            keys=_keys("household_id", "refunded_on:date"),
        ),
        Collection(
            name="mandates",
            type_ref=_domain("mandates:DirectDebitMandate"),
            id_attr="reference",
            keys=_keys("household_id", "status"),
        ),
        Collection(
            name="family_papers",
            type_ref=_domain("family_papers:FamilyPaper"),
            keys=_keys(
                "household_id",
                Key(column="child_id", nullable=True),
                "kind",
                "status",
                "uploaded_at:datetime",
            ),
        ),
        Collection(
            name="enrollment_requests",
            type_ref=_domain("enrollment_requests:EnrollmentApplication"),
            keys=_keys("household_id", "child_id", "service_id", "status"),
        ),
        Collection(
            name="campaigns",
            type_ref=_domain("campaigns:Campaign"),
            keys=_keys("kind", "status"),
        ),
        Collection(
            name="campaign_answers",
            type_ref=_domain("campaigns:CampaignAnswer"),
            keys=_keys(
                "campaign_id", "household_id", "state", Key(column="child_id", nullable=True)
            ),
        ),
        Collection(
            name="payment_requests",
            type_ref=_domain("payment_requests:StartedPayment"),
            keys=_keys(
                "provider",
                "transaction_id",
                Key(column="household_id", nullable=True),
                Key(column="invoice_id", attr="request.invoice_id"),
                Key(column="requested_at", type="datetime", attr="request.requested_at"),
            ),
        ),
        Collection(
            name="debit_returns",
            type_ref=_domain("debit_returns:DebitReturn"),
            keys=_keys("household_id", "payment_id", "file_digest", "loaded_at:datetime"),
        ),
        Collection(
            name="capacities",
            type_ref=_domain("capacity:CapacityRule"),
            keys=_keys("site_id", "service_id"),
        ),
        Collection(
            name="waiting_list",
            type_ref=_domain("capacity:WaitingEntry"),
            keys=_keys(
                "site_id", "service_id", "day:date", "enrollment_id", "household_id", "status"
            ),
        ),
        Collection(
            name="menus",
            type_ref=_domain("menus:WeekMenu"),
            keys=_keys("site_id", "week:date"),
        ),
        Collection(
            name="notifications_audit",
            type_ref="canteen_core.ports.storage:AuditedNotification",
            keys=_keys(
                "provider",
                Key(column="transaction_id", nullable=True),
                "received_at:datetime",
            ),
        ),
        Collection(
            name="web_sessions",
            type_ref=_domain("web_state:PortalSession"),
            keys=(
                Key(column="user_id", attr="actor.user_id"),
                Key(column="expires_at", type="datetime"),
            ),
        ),
        Collection(
            name="idempotency_keys",
            type_ref=_domain("web_state:IdempotentResponse"),
            keys=_keys("user_id", "expires_at:datetime"),
        ),
        Collection(
            name="year_closings",
            type_ref=_domain("school_years:YearClosing"),
            keys=_keys("school_year:int"),
        ),
    )
}


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
