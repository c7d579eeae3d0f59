"""The in-memory repositories: households, documents, accounts and the outbox (booked days:
:mod:`canteen_adapters.storage._memory_reservations`).

Each one reads and writes the dicts of its :class:`~canteen_adapters.storage.memory.MemoryStorage`
through the unit of work, which records an undo step for every change (see ``_set``); they
refuse what the SQL storage refuses, the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import attrs

from canteen_adapters.storage._common import (
    AccountLogic,
    OutboxLogic,
    check_account_keys,
    check_household_keys,
    check_key,
    check_text,
    existing,
    household_missing,
    throttle_key,
)
from canteen_core.domain.accounts import Account, ThrottleState
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Household, child_taken_error
from canteen_core.domain.invoicing import NumberSequence
from canteen_core.domain.outbox import DeliveryStatus, OutboxRecord
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage import COLLECTIONS, AccountDocuments, Collection, Range


class _Session(Protocol):
    """What a repository uses of its unit of work (``MemoryUnitOfWork`` is one): an undo
    step recorded for every change (``_set``, ``_delete``), and the state checks."""

    def collection_type(self, name: str) -> type[Any]:
        """The class stored by the collection ``name``."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Undo only this block's changes if it raises."""
        ...

    def _check_active(self) -> None: ...

    def _check_writable(self) -> None: ...

    def _set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None: ...

    def _delete(self, mapping: dict[Any, Any], key: Any) -> None: ...


class _Data:
    """Everything a memory storage holds."""

    def __init__(self) -> None:
        self.households: dict[str, Household] = {}
        self.child_household: dict[str, str] = {}
        self.documents: dict[str, dict[str, Any]] = {name: {} for name in COLLECTIONS}
        self.keys: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
        # collection -> unique constraint -> key values -> id
        self.unique: dict[str, dict[tuple[str, ...], dict[tuple[Any, ...], str]]] = {
            name: {columns: {} for columns in spec.unique} for name, spec in COLLECTIONS.items()
        }
        self.books: dict[str, ReservationBook] = {}
        self.counters: dict[tuple[str, int, str], int] = {}
        self.accounts: dict[str, Account] = {}
        self.usernames: dict[str, str] = {}
        self.throttles: dict[str, ThrottleState] = {}
        self.outbox: dict[str, OutboxRecord] = {}
        self.sites: dict[str, Any] = {}
        self.services: dict[str, Any] = {}
        # (commune, sequence) -> entry, and entry id -> (commune, sequence)
        self.audit: dict[tuple[str, int], Any] = {}
        self.audit_ids: dict[str, tuple[str, int]] = {}


class _Households:
    def __init__(self, uow: _Session, data: _Data) -> None:
        self._uow = uow
        self._data = data

    def add(self, household: Household) -> None:
        self._uow._check_writable()
        if not isinstance(household, Household):
            raise InvalidInputError(f"expected a Household, got {type(household).__name__}")
        if household.id in self._data.households:
            raise ConflictError(f"household {household.id!r} already exists")
        self._store(household)

    def add_many(self, households: Iterable[Household]) -> None:
        with self._uow.savepoint():  # all or nothing, like one SQL batch
            for household in households:
                self.add(household)

    def save(self, household: Household) -> None:
        self._uow._check_writable()
        if not isinstance(household, Household):
            raise InvalidInputError(f"expected a Household, got {type(household).__name__}")
        self._store(household)

    def _store(self, household: Household) -> None:
        check_household_keys(household)
        check_text(household, "household")
        data = self._data
        for child in household.children:
            owner = data.child_household.get(child.id)
            if owner is not None and owner != household.id:
                raise child_taken_error(child.id, owner)
        previous = data.households.get(household.id)
        if previous is not None:
            kept = {child.id for child in household.children}
            for child in previous.children:
                if child.id not in kept:
                    self._uow._delete(data.child_household, child.id)
        for child in household.children:
            self._uow._set(data.child_household, child.id, household.id)
        self._uow._set(data.households, household.id, household)

    def get(self, household_id: str) -> Household:
        return existing(self.find(household_id), household_missing(household_id))

    def find(self, household_id: str) -> Household | None:
        self._uow._check_active()
        return self._data.households.get(household_id)

    def remove(self, household_id: str) -> None:
        self._uow._check_writable()
        household = self.get(household_id)
        keys = self._data.keys["enrollments"]
        if any(values["household_id"] == household_id for values in keys.values()):
            raise ConflictError(f"household {household_id!r} still has enrollments")
        for child in household.children:
            self._uow._delete(self._data.child_household, child.id)
        self._uow._delete(self._data.households, household_id)

    def find_many(self, household_ids: Iterable[str]) -> dict[str, Household]:
        self._uow._check_active()
        households = self._data.households
        return {hid: households[hid] for hid in dict.fromkeys(household_ids) if hid in households}

    def child_ids(self, household_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        return {
            household_id: frozenset(child.id for child in household.children)
            for household_id, household in self.find_many(household_ids).items()
        }

    def ids(self) -> Iterator[str]:
        self._uow._check_active()
        yield from sorted(self._data.households)

    def all(self) -> Iterator[Household]:
        self._uow._check_active()
        for household_id in sorted(self._data.households):
            yield self._data.households[household_id]

    def count(self) -> int:
        self._uow._check_active()
        return len(self._data.households)

    def of_guardian(self, guardian_id: str) -> list[Household]:
        return [
            household
            for household in self.all()
            if any(guardian.id == guardian_id for guardian in household.guardians)
        ]

    def of_child(self, child_id: str) -> Household | None:
        self._uow._check_active()
        household_id = self._data.child_household.get(child_id)
        return None if household_id is None else self._data.households[household_id]


def _plain(wanted: object) -> object:
    """A filter value as stored in the key columns (enums by value)."""
    return getattr(wanted, "value", wanted) if not isinstance(wanted, str) else wanted


def _matches(values: dict[str, Any], where: dict[str, object]) -> bool:
    for column, wanted in where.items():
        value = values[column]
        if isinstance(wanted, Range):
            if value is None:
                return False
            if wanted.low is not None and value < wanted.low:
                return False
            if wanted.high is not None and value > wanted.high:
                return False
        elif isinstance(wanted, tuple | list | set | frozenset):
            if value not in {_plain(item) for item in wanted}:
                return False
        elif value != _plain(wanted):
            return False
    return True


class _Documents:
    def __init__(self, uow: _Session, data: _Data, collection: Collection) -> None:
        self._uow = uow
        self._data = data
        self.collection = collection
        self._docs = data.documents[collection.name]
        self._keys = data.keys[collection.name]
        self._unique = data.unique[collection.name]

    def _check_type(self, item: object) -> None:
        cls = self._uow.collection_type(self.collection.name)
        if not isinstance(item, cls):
            raise InvalidInputError(
                f"{self.collection.name} stores {cls.__name__}, got {type(item).__name__}"
            )

    def _store(self, item: Any, *, new: bool) -> None:
        self._uow._check_writable()
        self._check_type(item)
        item_id = self.collection.id_of(item)
        values = self.collection.key_values(item)
        # The same refusals as the SQL storage, before anything is written.
        check_key(item_id, f"{self.collection.name}.id")
        for column, value in values.items():
            check_key(value, f"{self.collection.name}.{column}")
        check_text(item, self.collection.name)
        if new and item_id in self._docs:
            raise ConflictError(f"{self.collection.name}: {item_id!r} already exists")
        if self.collection.immutable and item_id in self._docs:
            raise self.collection.refuse_change(item_id)
        for columns, index in self._unique.items():
            key = tuple(values[column] for column in columns)
            if None in key:
                continue  # like SQL: NULLs never collide
            owner = index.get(key)
            if owner is not None and owner != item_id:
                raise ConflictError(
                    f"{self.collection.name}: {', '.join(columns)} = {key} is already used "
                    f"by {owner!r}"
                )
        old_values = self._keys.get(item_id)
        if old_values is not None:
            for columns, index in self._unique.items():
                self._uow._delete(index, tuple(old_values[column] for column in columns))
        for columns, index in self._unique.items():
            key = tuple(values[column] for column in columns)
            if None not in key:
                self._uow._set(index, key, item_id)
        self._uow._set(self._keys, item_id, values)
        self._uow._set(self._docs, item_id, item)

    def _store_many(self, items: Iterable[Any], *, new: bool) -> None:
        with self._uow.savepoint():  # all or nothing, like one SQL batch
            for item in items:
                self._store(item, new=new)

    def add(self, item: Any) -> None:
        self._store(item, new=True)

    def add_many(self, items: Iterable[Any]) -> None:
        self._store_many(items, new=True)

    def save(self, item: Any) -> None:
        self._store(item, new=False)

    def save_many(self, items: Iterable[Any]) -> None:
        self._store_many(items, new=False)

    def get(self, item_id: str) -> Any:
        return existing(self.find(item_id), self.collection.missing(item_id))

    def find(self, item_id: str) -> Any | None:
        self._uow._check_active()
        return self._docs.get(item_id)

    def remove(self, item_id: str) -> None:
        self._uow._check_writable()
        if item_id not in self._docs:
            raise self.collection.missing(item_id)
        if self.collection.immutable:
            raise self.collection.refuse_change(item_id)
        values = self._keys[item_id]
        for columns, index in self._unique.items():
            self._uow._delete(index, tuple(values[column] for column in columns))
        self._uow._delete(self._keys, item_id)
        self._uow._delete(self._docs, item_id)

    def list(self, **where: object) -> Iterator[Any]:
        self._uow._check_active()
        for column in where:
            self.collection.key(column)
        for item_id in sorted(self._docs):
            if _matches(self._keys[item_id], where):
                yield self._docs[item_id]

    def count(self, **where: object) -> int:
        return sum(1 for _ in self.list(**where))


class _Enrollments(_Documents):
    def _store(self, item: Any, *, new: bool) -> None:
        self._check_type(item)
        household_id = self.collection.key("household_id").read(item)
        if household_id not in self._data.households:
            raise ConflictError(f"enrollment for unknown household {household_id!r}")
        super()._store(item, new=new)

    def find_many(self, enrollment_ids: Iterable[str]) -> dict[str, Any]:
        self._uow._check_active()
        return {
            enrollment_id: self._docs[enrollment_id]
            for enrollment_id in dict.fromkeys(enrollment_ids)
            if enrollment_id in self._docs
        }

    def remove(self, item_id: str) -> None:
        book = self._data.books.get(item_id)
        if book is not None and book.bits:
            raise ConflictError(f"enrollment {item_id!r} has reservations; cancel them first")
        super().remove(item_id)
        self._uow._delete(self._data.books, item_id)


class _Invoices(_Documents):
    def sequence(
        self, issuer_id: str, year: int, *, kind: str = "invoice", prefix: str = ""
    ) -> NumberSequence:
        self._uow._check_writable()
        last = self._data.counters.get((issuer_id, year, kind), 0)
        return NumberSequence(issuer_id=issuer_id, year=year, last_used=last, prefix=prefix)

    def save_sequence(self, sequence: NumberSequence, *, kind: str = "invoice") -> None:
        self._uow._check_writable()
        key = (sequence.issuer_id, sequence.year, kind)
        stored = self._data.counters.get(key, 0)
        if sequence.last_used < stored:
            raise ConflictError(
                f"numbering of {sequence.issuer_id} {sequence.year} is at {stored}; "
                f"it cannot go back to {sequence.last_used}"
            )
        self._uow._set(self._data.counters, key, sequence.last_used)

    def next_number(self, issuer_id: str, year: int, *, kind: str = "invoice") -> int:
        sequence = self.sequence(issuer_id, year, kind=kind)
        self.save_sequence(attrs.evolve(sequence, last_used=sequence.last_used + 1), kind=kind)
        return sequence.last_used + 1

    def find_by_billing_key(self, billing_key: str) -> Any | None:
        self._uow._check_active()
        item_id = self._unique[("billing_key",)].get((billing_key,))
        return None if item_id is None else self._docs[item_id]

    def billed_keys(self, keys: Iterable[str]) -> frozenset[str]:
        self._uow._check_active()
        index = self._unique[("billing_key",)]
        return frozenset(key for key in keys if (key,) in index)

    def account_documents(self, household_id: str) -> AccountDocuments:
        # The other collections' documents as their repositories list them.
        notes, payments, refunds = (
            tuple(
                _Documents(self._uow, self._data, COLLECTIONS[name]).list(household_id=household_id)
            )
            for name in ("credit_notes", "payments", "refunds")
        )
        return AccountDocuments(
            invoices=tuple(self.list(household_id=household_id)),
            credit_notes=notes,
            payments=payments,
            refunds=refunds,
        )

    def households_billed_until(self, day: date) -> frozenset[str]:
        self._uow._check_active()
        return frozenset(
            invoice.household_id for invoice in self._docs.values() if invoice.issue_date <= day
        )


class _Accounts(AccountLogic):
    def __init__(self, uow: _Session, data: _Data) -> None:
        self._uow = uow
        self._data = data

    def get(self, account_id: str) -> Account | None:
        self._uow._check_active()
        return self._data.accounts.get(account_id)

    def find_by_username(self, username: str) -> Account | None:
        self._uow._check_active()
        account_id = self._data.usernames.get(username)
        return None if account_id is None else self._data.accounts[account_id]

    def find_by_email(self, email: str) -> Sequence[Account]:
        wanted = email.lower()
        return [account for account in self.list() if account.email.lower() == wanted]

    def find_by_token(self, selector: str) -> Account | None:
        return next((account for account in self.list() if account.token(selector)), None)

    def _write(self, account: Account) -> None:
        self._uow._check_writable()
        check_account_keys(account)
        check_text(account, "account")
        previous = self._data.accounts.get(account.id)
        if previous is not None and previous.username != account.username:
            self._uow._delete(self._data.usernames, previous.username)
        self._uow._set(self._data.usernames, account.username, account.id)
        self._uow._set(self._data.accounts, account.id, account)

    def remove(self, account_id: str) -> None:
        self._uow._check_writable()
        account = self._data.accounts.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id!r} not found")
        self._uow._delete(self._data.usernames, account.username)
        self._uow._delete(self._data.accounts, account_id)

    def throttle(self, key: str) -> ThrottleState:
        # Units of work run one at a time: the key is held until this one ends.
        self._uow._check_active()
        return self._data.throttles.get(throttle_key(key), ThrottleState())

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        self._uow._check_writable()
        if not isinstance(state, ThrottleState):
            raise InvalidInputError(f"expected ThrottleState, got {type(state).__name__}")
        self._uow._set(self._data.throttles, throttle_key(key), state)

    def list(self) -> Iterator[Account]:
        self._uow._check_active()
        for account_id in sorted(self._data.accounts):
            yield self._data.accounts[account_id]


class _Outbox(OutboxLogic):
    def __init__(self, uow: _Session, data: _Data) -> None:
        self._uow = uow
        self._data = data

    def _read(self, message_id: str, *, lock: bool = False) -> OutboxRecord | None:
        # Units of work run one at a time: nothing to lock.
        self._uow._check_active()
        return self._data.outbox.get(message_id)

    def _insert(self, records: list[OutboxRecord]) -> None:
        self._uow._check_writable()
        check_text(records, "outbox")
        for record in records:
            self._uow._set(self._data.outbox, record.id, record)

    def _update(self, record: OutboxRecord) -> None:
        self._insert([record])

    def _existing_ids(self, ids: list[str]) -> set[str]:
        self._uow._check_active()
        return {message_id for message_id in ids if message_id in self._data.outbox}

    def _due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxRecord]:
        self._uow._check_writable()
        return sorted(
            (record for record in self._data.outbox.values() if record.is_due(now, lease)),
            key=lambda r: (r.next_attempt_at, r.message.created_at, r.id),
        )[:limit]

    def _all(self, status: DeliveryStatus | None) -> list[OutboxRecord]:
        self._uow._check_active()
        return [r for r in self._data.outbox.values() if status is None or r.status is status]

    def _delete(self, ids: list[str]) -> None:
        self._uow._check_writable()
        for message_id in ids:
            self._uow._delete(self._data.outbox, message_id)
