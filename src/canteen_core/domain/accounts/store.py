"""The account store port (:class:`AccountStore`) and a dict-backed one for tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from canteen_core.domain.accounts.model import Account
from canteen_core.domain.accounts.throttling import ThrottleState
from canteen_core.domain.errors import ConflictError

__all__ = ["AccountStore", "InMemoryAccountStore"]


class AccountStore(Protocol):
    """Where accounts and throttle counters live (the storage adapter implements it).

    Lookups by username are exact on the normalized username; by email, case-insensitive on
    the domain as stored. ``find_by_token`` looks up the account holding a token ``selector``
    (index it). Throttle keys look like ``"account:<id>"`` and ``"source:<ip>"``.
    """

    def get(self, account_id: str) -> Account | None:
        """The account with ``account_id``, or ``None``."""
        ...

    def find_by_username(self, username: str) -> Account | None:
        """The account with the normalized ``username``, or ``None``."""
        ...

    def find_by_email(self, email: str) -> Sequence[Account]:
        """Accounts with ``email`` (several guardians may share one address)."""
        ...

    def find_by_token(self, selector: str) -> Account | None:
        """The account holding a token with ``selector``, or ``None``."""
        ...

    def save(self, account: Account) -> None:
        """Insert or replace ``account`` (by id). Usernames are unique."""
        ...

    def throttle(self, key: str) -> ThrottleState:
        """The throttle state for ``key`` (a fresh state when unknown)."""
        ...

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        """Store the throttle state for ``key``."""
        ...


class InMemoryAccountStore:
    """An :class:`AccountStore` in a dict, for tests and notebooks."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.throttles: dict[str, ThrottleState] = {}

    def get(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def find_by_username(self, username: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.username == username), None)

    def find_by_email(self, email: str) -> Sequence[Account]:
        wanted = email.lower()
        return [a for a in self.accounts.values() if a.email.lower() == wanted]

    def find_by_token(self, selector: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.token(selector)), None)

    def save(self, account: Account) -> None:
        other = self.find_by_username(account.username)
        if other is not None and other.id != account.id:
            raise ConflictError(f"username {account.username!r} is already taken")
        self.accounts[account.id] = account

    def throttle(self, key: str) -> ThrottleState:
        return self.throttles.get(key, ThrottleState())

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        self.throttles[key] = state
