"""What is stored and how it is found: the :class:`Collection` of each document type with its key
columns (:class:`Key`), and the values repositories exchange.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar, cast, get_args

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)

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


def _key(spec: str) -> Key:
    """A string key column from ``"column[:type][?]"``: ``"status"``, ``"day:date"`` (of that
    :data:`KeyType`), ``"reference?"`` (nullable)."""
    column, _, type_ = spec.removesuffix("?").partition(":")
    if type_ and type_ not in get_args(KeyType):
        raise ConfigurationError(f"key {spec!r}: no such key type {type_!r}")
    return Key(column=column, type=cast(KeyType, type_ or "str"), nullable=spec.endswith("?"))


def _keys(*specs: str | Key) -> tuple[Key, ...]:
    """Key columns, in order: strings of space-separated :func:`_key` specs
    (``"household_id day:date"``), or a :class:`Key` given whole to read another attribute
    (``Key(column="site_id", attr="site.id")``)."""
    keys: list[Key] = []
    for spec in specs:
        keys.extend([spec] if isinstance(spec, Key) else map(_key, spec.split()))
    return tuple(keys)


def _doc(
    name: str,
    ref: str,
    *keys: str | Key,
    unique: tuple[tuple[str, ...], ...] = (),
    id_attr: str = "id",
    immutable: bool = False,
) -> Collection:
    """The collection ``name`` of a :mod:`canteen_core.domain` class, declared in a line or
    two: ``ref`` is ``"module:Class"`` inside the domain package, ``keys`` as for :func:`_keys`."""
    return Collection(
        name=name,
        type_ref=f"canteen_core.domain.{ref}",
        keys=_keys(*keys),
        unique=unique,
        id_attr=id_attr,
        immutable=immutable,
    )


#: The first keys of an issued document (invoice, credit note): numbered per issuer and year.
_NUMBERED = (
    Key(column="issuer", attr="issuer_id"),
    Key(column="year", type="int", attr=_issue_year),
    *_keys("number household_id"),
)

#: The document collections every storage provides (name -> spec). Accounts and the outbox
#: have their own repositories (:class:`AccountRepository`, :class:`OutboxRepository`).
COLLECTIONS: dict[str, Collection] = {
    collection.name: collection
    for collection in (
        _doc(
            "enrollments",
            "enrollments:Enrollment",
            "household_id child_id",
            Key(column="site_id", attr="site.id"),
            Key(column="service_id", attr="service.id"),
            Key(column="first_day", type="date", attr="start"),
            Key(column="last_day", type="date", attr="end"),
        ),
        _doc(
            "change_requests",
            "change_requests:ChangeRequest",
            "household_id enrollment_id child_id day:date status",
        ),
        _doc(
            "attendance",
            "attendance:AttendanceRecord",
            "enrollment_id household_id site_id day:date presence",
            unique=(("enrollment_id", "day"),),
        ),
        _doc(
            "absences",
            "attendance:AbsenceJustification",
            "enrollment_id child_id first_day:date last_day:date",
        ),
        _doc("tariffs", "tariffs:TariffGrid", "service_id valid_from:date"),
        _doc(
            "invoices",
            "invoicing:Invoice",
            *_NUMBERED,
            "billing_key issue_date:date",
            unique=(("issuer", "number"), ("billing_key",)),
            immutable=True,
        ),
        _doc(
            "credit_notes",
            "invoicing:CreditNote",
            *_NUMBERED,
            "invoice_id issue_date:date",
            unique=(("issuer", "number"),),
            immutable=True,
        ),
        _doc("payments", "ledger:Payment", "household_id method received_on:date reference?"),
        _doc("refunds", "ledger:Refund", "household_id refunded_on:date"),
        _doc("mandates", "mandates:DirectDebitMandate", "household_id status", id_attr="reference"),
        _doc(
            "family_papers",
            "family_papers:FamilyPaper",
            "household_id child_id? kind status uploaded_at:datetime",
        ),
        _doc(
            "enrollment_requests",
            "enrollment_requests:EnrollmentApplication",
            "household_id child_id service_id status",
        ),
        _doc("campaigns", "campaigns:Campaign", "kind status"),
        _doc(
            "campaign_answers",
            "campaigns:CampaignAnswer",
            "campaign_id household_id state child_id?",
        ),
        _doc(
            "payment_requests",
            "payment_requests:StartedPayment",
            "provider transaction_id household_id?",
            Key(column="invoice_id", attr="request.invoice_id"),
            Key(column="requested_at", type="datetime", attr="request.requested_at"),
        ),
        _doc(
            "debit_returns",
            "debit_returns:DebitReturn",
            "household_id payment_id file_digest loaded_at:datetime",
        ),
        _doc("capacities", "capacity:CapacityRule", "site_id service_id"),
        _doc(
            "waiting_list",
            "capacity:WaitingEntry",
            "site_id service_id day:date enrollment_id household_id status",
        ),
        _doc("menus", "menus:WeekMenu", "site_id week:date"),
        # Kept by the storage layer itself (a port value, not a domain class).
        Collection(
            name="notifications_audit",
            type_ref="canteen_core.ports.storage:AuditedNotification",
            keys=_keys("provider transaction_id? received_at:datetime"),
        ),
        _doc(
            "web_sessions",
            "web_state:PortalSession",
            Key(column="user_id", attr="actor.user_id"),
            "expires_at:datetime",
        ),
        _doc("idempotency_keys", "web_state:IdempotentResponse", "user_id expires_at:datetime"),
        _doc("year_closings", "school_years:YearClosing", "school_year:int"),
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
