"""The audit entries of an account's own steps (activation, login, password change and
reset): who acted and what changed, never a password, a hash or a token.

These steps run without an authorized actor, so the runner cannot name one: the account
service wraps the account store in a :class:`RecordingStore` (which keeps each account as
it was before the step saved it) and then calls :func:`record_step`, which names the actor
on the transaction's audit note (:meth:`~canteen_core.services.audit_trail.AuditNote.acting_as`)
and lists the changed fields. The runner writes the entry in the step's transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol

from canteen_core.domain.accounts import (
    Account,
    AccountStore,
    ThrottleState,
    normalize_username,
)
from canteen_core.domain.audit import ANONYMOUS, AccountAction
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services.audit_trail import AuditNote

__all__ = ["AUDITED_FIELDS", "RecordingStore", "find_account", "note_saved", "record_step"]

#: The account fields an entry shows before/after: no password hash, no token.
AUDITED_FIELDS = (
    "status",
    "must_change_password",
    "activated_at",
    "password_changed_at",
    "last_login_at",
)

#: Also shown for a created account (who it is for).
_CREATED_FIELDS = ("username", "roles", "household_ids")


class RecordingStore:
    """An :class:`~canteen_core.domain.accounts.AccountStore` that remembers, for each
    account saved, its version before the first save (``None``: created) and the last one."""

    def __init__(self, inner: AccountStore) -> None:
        self._inner = inner
        self.before: dict[str, Account | None] = {}
        self.after: dict[str, Account] = {}

    def get(self, account_id: str) -> Account | None:
        """As the wrapped store."""
        return self._inner.get(account_id)

    def find_by_username(self, username: str) -> Account | None:
        """As the wrapped store."""
        return self._inner.find_by_username(username)

    def find_by_email(self, email: str) -> Sequence[Account]:
        """As the wrapped store."""
        return self._inner.find_by_email(email)

    def find_by_token(self, selector: str) -> Account | None:
        """As the wrapped store."""
        return self._inner.find_by_token(selector)

    def save(self, account: Account) -> None:
        """Save, remembering the version it replaces."""
        if account.id not in self.before:
            self.before[account.id] = self._inner.get(account.id)
        self.after[account.id] = account
        self._inner.save(account)

    def throttle(self, key: str) -> ThrottleState:
        """As the wrapped store."""
        return self._inner.throttle(key)

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        """As the wrapped store."""
        self._inner.save_throttle(key, state)


class _HasAudit(Protocol):
    @property
    def audit(self) -> AuditNote: ...


def find_account(store: AccountStore, username: object) -> Account | None:
    """The account a login names (``None``: unknown or not a valid username)."""
    if not isinstance(username, str):
        return None
    with contextlib.suppress(InvalidInputError):
        return store.find_by_username(normalize_username(username))
    return None


def _only(account: Account) -> str | None:
    """The account's household when it has exactly one."""
    return next(iter(account.household_ids)) if len(account.household_ids) == 1 else None


def note_saved(note: AuditNote, store: RecordingStore) -> None:
    """List on ``note`` the audited fields each saved account changed, with its roles and
    households (an invitation, an account disabled)."""
    for account_id, after in store.after.items():
        before = store.before.get(account_id)
        fields = AUDITED_FIELDS if before is not None else (*AUDITED_FIELDS, *_CREATED_FIELDS)
        note.changes_of(f"account:{account_id}", before, after, fields, household_id=_only(after))


def record_step(
    tx: _HasAudit,
    store: RecordingStore,
    action: AccountAction,
    actor: Account | None,
    *,
    summary: str | None = None,
    target: Account | None = None,
) -> None:
    """Name who acted (``actor``; ``None``: the requester proved nothing, recorded as
    :data:`~canteen_core.domain.audit.ANONYMOUS`) and list what the step changed in each
    account it saved; ``target`` is the account a failed step was about."""
    note = tx.audit
    accounts = [*store.after.values(), *(a for a in (actor, target) if a is not None)]
    households = {household for account in accounts for household in account.household_ids}
    note.acting_as(
        actor.id if actor is not None else ANONYMOUS,
        action,
        roles=sorted(role.value for role in actor.roles) if actor is not None else (),
        household_ids=households,
    )
    for account in accounts:
        note.touch(f"account:{account.id}", household_id=_only(account))
    note_saved(note, store)
    if summary is not None:
        note.describe(summary)
