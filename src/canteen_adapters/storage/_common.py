"""Logic shared by the memory and SQL adapters: the storage's life, the outbox and account
stores.

Each adapter supplies a few primitive reads and writes; the state transitions (what a claim,
a send or a failure does to an :class:`~canteen_core.domain.outbox.OutboxRecord`) are written once
here so the two adapters cannot disagree.
"""

from __future__ import annotations

import abc
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar, Unpack

import attrs

from canteen_core.domain.accounts import Account, ThrottleState
from canteen_core.domain.catalog import ServiceEntry, SiteEntry
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from canteen_core.domain.families import Household
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import (
    DeliveryStatus,
    FailedAttempt,
    OutboxRecord,
    erasure_accounts,
    new_records,
)
from canteen_core.ports.storage import COLLECTIONS, resolve_types

__all__ = [
    "KEY_LENGTH",
    "THROTTLE_KEY_LENGTH",
    "AccountLogic",
    "OutboxLogic",
    "StorageBase",
    "check_account_keys",
    "check_household_keys",
    "check_key",
    "check_text",
    "collection_type",
    "existing",
    "household_missing",
    "json_text",
    "throttle_key",
]

#: The longest id or key column value stored (characters): PostgreSQL refuses an index entry
#: over 2,704 bytes, and two such values of 4-byte characters share some indexes.
KEY_LENGTH = 300

#: The longest throttle key stored as given; longer ones are stored under their digest.
THROTTLE_KEY_LENGTH = 200

Found = TypeVar("Found")


def collection_type(types: dict[str, type[Any] | None], name: str) -> type[Any]:
    """The class collection ``name`` stores: from ``types`` (a storage's overrides and the
    classes it already resolved; ``None`` for one not resolved yet), else resolved from its
    collection and remembered there."""
    cls = types.get(name)
    if cls is None:
        cls = types[name] = COLLECTIONS[name].resolve_type()
    return cls


#: The unit of work a storage opens.
UnitOfWorkT = TypeVar("UnitOfWorkT")


class StorageBase(abc.ABC, Generic[UnitOfWorkT]):
    """What every storage shares: the classes its collections store (``types`` overrides) and
    its life: once closed, it opens no unit of work."""

    #: The storage as "the ... storage is closed" names it.
    _what: ClassVar[str]

    def __init__(self, types: dict[str, type[Any]] | None) -> None:
        self._types = resolve_types(types)
        self._closed = False

    @abc.abstractmethod
    def _new_unit_of_work(self, *, read_only: bool) -> UnitOfWorkT:
        """A unit of work of this open storage."""

    @abc.abstractmethod
    def _dispose(self) -> None:
        """Free what the storage holds (when it is closed)."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWorkT:
        """A unit of work; enter it with ``with``."""
        if self._closed:
            raise StorageError(f"the {self._what} storage is closed")
        return self._new_unit_of_work(read_only=read_only)

    def close(self) -> None:
        """Close the storage (see :meth:`_dispose`)."""
        self._closed = True
        self._dispose()

    def _type(self, name: str) -> type[Any]:
        return collection_type(self._types, name)


def existing(found: Found | None, missing: NotFoundError) -> Found:
    """What ``find`` found; ``missing`` raised if nothing (a repository's ``get``)."""
    if found is None:
        raise missing
    return found


def household_missing(household_id: str) -> NotFoundError:
    """The error saying no household ``household_id`` is stored."""
    return NotFoundError(f"no household {household_id!r}")


def throttle_key(key: str) -> str:
    """The key a throttle state is stored under, the same on every backend.

    A key is made from client input (``"source:<address>"``, where a portal may pass a
    client-controlled header): a short key of printable text is kept as given; a longer one,
    or one with a NUL byte or a lone surrogate, is stored as ``"sha256:<hex digest>"`` of
    its UTF-8 bytes (surrogates passed through), so a hostile source is still counted (and
    locked) instead of failing the write.
    """
    if not isinstance(key, str):
        raise InvalidInputError(f"a throttle key is text, got {type(key).__name__}", path="key")
    if len(key) <= THROTTLE_KEY_LENGTH and key.isprintable():
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


def check_key(value: object, what: str) -> None:
    """Refuse a key (an id, a username, a column a repository indexes) longer than
    :data:`KEY_LENGTH`: the same refusal on every backend, before anything is written."""
    if isinstance(value, str) and len(value) > KEY_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(value)} characters long; at most {KEY_LENGTH} are stored", path=what
        )


def check_household_keys(household: Household) -> None:
    """:func:`check_key` on a household's id and the ids of its children and guardians."""
    check_key(household.id, "household.id")
    check_key(household.payer.id, "household.payer.id")
    if household.co_representative is not None:
        check_key(household.co_representative.id, "household.co_representative.id")
    for child in household.children:
        check_key(child.id, "household.children.id")


def check_account_keys(account: Account) -> None:
    """:func:`check_key` on an account's id, username, email and token selectors."""
    check_key(account.id, "account.id")
    check_key(account.username, "account.username")
    check_key(account.email, "account.email")
    for token in account.tokens:
        check_key(token.selector, "account.tokens.selector")


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not Unicode text)"
    return None


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in attrs.fields(cls))
    return names


def check_text(data: object, what: str) -> None:
    """Refuse ``data`` (a domain object or its unstructured form) holding a string with a NUL
    character or a lone surrogate anywhere, with :class:`InvalidInputError`.

    PostgreSQL stores neither (and SQLite would store them, Python's ``sqlite3`` refusing
    surrogates with a raw error): every backend refuses them the same way, before writing.
    """
    stack: list[tuple[object, str]] = [(data, what)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            problem = _bad_text(value)
            if problem is not None:
                raise InvalidInputError(f"text cannot be stored: it holds {problem}", path=path)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                stack.append((key, path))
                stack.append((item, f"{path}.{key}"))
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
        elif attrs.has(type(value)):
            stack.extend(
                (getattr(value, name), f"{path}.{name}") for name in _field_names(type(value))
            )


#: How ``json.dumps`` writes a NUL or a surrogate (a lone one, or half of a valid pair).
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:0000|d[89a-f])")


def json_text(data: Any) -> str:
    """``json.dumps(data)``, refusing (:func:`check_text`) strings no database stores alike.

    A NUL is written ``\\u0000`` and a surrogate ``\\ud800`` to ``\\udfff``: a text without
    either (nearly every body) costs one search for a backslash and, when there is one, a
    regular expression scan; when the scan finds one, the data is walked (a valid surrogate
    pair, an emoji, is kept).
    """
    text = json.dumps(data)
    # A body without a backslash (most) costs one memchr; else one regular expression scan.
    if "\\" in text and _ESCAPED_UNSTORABLE.search(text):
        check_text(data, "body")
    return text


class OutboxLogic(abc.ABC):
    """The :class:`~canteen_core.domain.outbox.OutboxStore` port over adapter primitives."""

    @abc.abstractmethod
    def _read(self, message_id: str, *, lock: bool = False) -> OutboxRecord | None:
        """The record of ``message_id``; with ``lock``, locked until the unit of work ends
        (a concurrent claim or renewal of the message waits), where the database can."""

    def _read_many(self, ids: list[str], *, lock: bool = False) -> dict[str, OutboxRecord]:
        """The records of ``ids`` that exist, by id (locked as :meth:`_read` does); an
        adapter that can read them in one query does."""
        found = {message_id: self._read(message_id, lock=lock) for message_id in ids}
        return {message_id: record for message_id, record in found.items() if record}

    @abc.abstractmethod
    def _insert(self, records: list[OutboxRecord]) -> None: ...

    @abc.abstractmethod
    def _update(self, record: OutboxRecord) -> None: ...

    def _update_many(self, records: list[OutboxRecord]) -> None:
        """:meth:`_update` each record; an adapter that can write them in one statement
        does."""
        for record in records:
            self._update(record)

    @abc.abstractmethod
    def _existing_ids(self, ids: list[str]) -> set[str]: ...

    @abc.abstractmethod
    def _due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxRecord]:
        """Pending records due at ``now`` and claims older than ``lease``, oldest due first,
        locked against concurrent dispatchers where the database can."""

    @abc.abstractmethod
    def _all(self, status: DeliveryStatus | None) -> list[OutboxRecord]: ...

    @abc.abstractmethod
    def _delete(self, ids: list[str]) -> None: ...

    def add(self, messages: Iterable[OutgoingMessage]) -> list[str]:
        """Queue messages (due at their ``created_at``); ids already queued are ignored."""
        fresh = new_records(messages, self._existing_ids)
        if fresh:
            self._insert(fresh)
        return [record.id for record in fresh]

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxRecord]:
        """Claim up to ``limit`` due messages: status ``sending``, attempts + 1."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"limit must be a positive integer, got {limit!r}")
        claimed = [record.claimed(now) for record in self._due(now, limit, lease)]
        self._update_many(claimed)
        return claimed

    def _existing(self, message_id: str) -> OutboxRecord:
        """The record of ``message_id``, locked (its state is about to change)."""
        record = self._read(message_id, lock=True)
        if record is None:
            raise NotFoundError(f"no outbox message {message_id!r}")
        return record

    def renew(self, message_id: str, *, claim: str | None, now: datetime) -> bool:
        """Start the lease of ``claim`` again at ``now`` if it still holds the message."""
        record = self._read(message_id, lock=True)
        if record is None or not record.holds(claim):
            return False
        self._update(record.renewed(now))
        return True

    def renew_many(self, claims: Mapping[str, str | None], *, now: datetime) -> set[str]:
        """Start the lease of each claim (message id -> token) again at ``now`` if it still
        holds its message; the ids renewed."""
        records = self._read_many(sorted(claims), lock=True)
        renewed = [
            record.renewed(now)
            for message_id, record in records.items()
            if record.holds(claims[message_id])
        ]
        self._update_many(renewed)
        return {record.id for record in renewed}

    def mark_sent(self, message_id: str, *, sent_at: datetime, claim: str | None = None) -> None:
        """Record a successful send (bodies dropped); a sent message is left as it is."""
        record = self._existing(message_id)
        if record.status is not DeliveryStatus.SENT:
            self._update(record.sent(sent_at))

    def mark_sent_many(self, sent: Mapping[str, datetime]) -> None:
        """Record successful sends (message id -> when), as :meth:`mark_sent` does each;
        ids no longer in the outbox are skipped."""
        records = self._read_many(sorted(sent), lock=True)
        self._update_many(
            [
                record.sent(sent[message_id])
                for message_id, record in records.items()
                if record.status is not DeliveryStatus.SENT
            ]
        )

    def mark_failed(self, message_id: str, **failure: Unpack[FailedAttempt]) -> None:
        """Record a failed attempt: pending again at ``next_attempt_at``, or dead; ignored on
        a sent message or when ``claim`` no longer holds the message."""
        record = self._existing(message_id)
        failed = record.failed(**failure)
        if failed is not record:
            self._update(failed)

    def get(self, message_id: str) -> OutboxRecord | None:
        """The record of ``message_id``, or ``None``."""
        return self._read(message_id)

    def records(self, status: DeliveryStatus | None = None) -> Sequence[OutboxRecord]:
        """All records (with ``status``), oldest first."""
        return sorted(self._all(status), key=lambda r: (r.message.created_at, r.id))

    def requeue(self, message_id: str, *, now: datetime) -> None:
        """Make a dead message pending again, due ``now``, attempts reset."""
        self._update(self._existing(message_id).requeued(now))

    def remove_household(self, household_id: str, *, account_ids: Iterable[str] = ()) -> int:
        """Remove the messages about ``household_id`` or to ``account_ids``; how many went."""
        accounts = erasure_accounts(household_id, account_ids)
        gone = [r.id for r in self._all(None) if r.concerns(household_id, accounts)]
        if gone:
            self._delete(gone)
        return len(gone)


class AccountLogic(abc.ABC):
    """The :class:`~canteen_core.domain.accounts.AccountStore` port over adapter primitives."""

    @abc.abstractmethod
    def get(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    def find_by_username(self, username: str) -> Account | None: ...

    @abc.abstractmethod
    def find_by_email(self, email: str) -> Sequence[Account]: ...

    @abc.abstractmethod
    def find_by_token(self, selector: str) -> Account | None: ...

    @abc.abstractmethod
    def _write(self, account: Account) -> None: ...

    @abc.abstractmethod
    def throttle(self, key: str) -> ThrottleState: ...

    @abc.abstractmethod
    def save_throttle(self, key: str, state: ThrottleState) -> None: ...

    @abc.abstractmethod
    def list(self) -> Iterator[Account]: ...

    def save(self, account: Account) -> None:
        """Insert or replace ``account``; ``ConflictError`` if its username is taken."""
        if not isinstance(account, Account):
            raise InvalidInputError(f"expected Account, got {type(account).__name__}")
        other = self.find_by_username(account.username)
        if other is not None and other.id != account.id:
            raise ConflictError(f"username {account.username!r} is already taken")
        self._write(account)


def check_catalog_entry(item: object, cls: type, expected_version: object, what: str) -> str:
    """Check a catalog entry about to be saved at ``expected_version`` (type, version, id
    length, text); its id. The same refusals on every backend, before anything is written."""
    if not isinstance(item, cls):
        raise InvalidInputError(
            f"{what} : {cls.__name__} attendu, reçu {type(item).__name__}", path=what
        )
    if type(expected_version) is not int or expected_version < 0:
        raise InvalidInputError(
            f"version attendue invalide : {expected_version!r}", path="expected_version"
        )
    version = getattr(item, "version", None)
    if version != expected_version + 1:
        raise InvalidInputError(
            f"{what} : la version enregistrée doit être {expected_version + 1}, pas {version}",
            path="version",
        )
    item_id = str(getattr(item, "id", ""))
    check_key(item_id, f"{what}.id")
    check_text(item, what)
    return item_id


#: How each catalog entry is named in errors, and the text for an unknown id, by class name.
_CATALOG_WORDS = {
    "SiteEntry": ("site", "site inconnu"),
    "ServiceEntry": ("prestation", "prestation inconnue"),
}


def catalog_word(cls: type) -> str:
    """``"site"`` or ``"prestation"``: what a catalog repository of ``cls`` stores."""
    return _CATALOG_WORDS[cls.__name__][0]


def catalog_unknown(cls: type, item_id: object) -> NotFoundError:
    """The error for an unknown catalog id: ``site inconnu « nowhere »``."""
    return NotFoundError(f"{_CATALOG_WORDS[cls.__name__][1]} « {item_id} »")


def catalog_conflict(what: str, item_id: str, current: int, expected: int) -> ConflictError:
    """The error for a catalog entry whose stored version is not the expected one."""
    if expected == 0:
        return ConflictError(f"{what} « {item_id} » existe déjà")
    return ConflictError(
        f"{what} « {item_id} » a changé entre-temps (version {current}, attendue {expected}) : "
        "rechargez et recommencez"
    )


#: A catalog entry type.
CatalogEntry = TypeVar("CatalogEntry", bound=SiteEntry | ServiceEntry)


class CatalogBase(abc.ABC, Generic[CatalogEntry]):
    """What the catalog repositories of every backend share: the stored class ``cls`` and its
    French name, and :meth:`get` over the backend's ``find``."""

    _cls: type[CatalogEntry]

    def __init__(self, cls: type[CatalogEntry]) -> None:
        self._cls = cls
        self._what = catalog_word(cls)

    @abc.abstractmethod
    def find(self, item_id: str) -> CatalogEntry | None:
        """The entry of ``item_id``, or ``None`` (each backend reads its own storage)."""

    def get(self, item_id: str) -> CatalogEntry:
        """The entry of ``item_id``; ``NotFoundError`` (French) if there is none."""
        return existing(self.find(item_id), catalog_unknown(self._cls, item_id))
