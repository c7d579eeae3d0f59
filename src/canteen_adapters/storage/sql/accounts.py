"""The accounts repository: portal accounts, their token selectors and the login throttles."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from canteen_adapters.storage._common import AccountLogic, check_account_keys, throttle_key
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.driver import (
    _db_message,
    _dialect_insert,
    _Driver,
    _Session,
    _translate,
)
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.accounts import Account, ThrottleState
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError

#: The body as text on both dialects: the key of :func:`_account_of`.
_ACCOUNT_BODY = "SELECT CAST(body AS TEXT) FROM accounts WHERE id = ?"


@lru_cache(maxsize=4096)
def _account_of(body: str) -> Account:
    """The account a stored body holds. Every use case reads its actor's account, and it
    rarely changes: parsing and structuring each read cost about as much as the round trip.
    An account is immutable and its body says all of it, so equal text is an equal account."""
    return structure(json.loads(body), Account)


# Built once: portal sign-ins read accounts by username (see _HOUSEHOLD_INSERT).
_ACCOUNT_BY_USERNAME = sa.select(t.accounts.c.body).where(
    t.accounts.c.username == sa.bindparam("username")
)
_THROTTLE = sa.select(t.throttles.c.body).where(t.throttles.c.key == sa.bindparam("key"))
#: ``pg_advisory_xact_lock(class, number)``: held until the transaction ends.
_HOLD_THROTTLE = sa.text("SELECT pg_advisory_xact_lock(1667329652, :lock)")  # class: b"cant"


def _lock_number(key: str) -> int:
    """A signed 32-bit number for ``key``'s advisory lock (two keys sharing one only wait)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


class _Accounts(AccountLogic):
    def __init__(self, uow: _Session) -> None:
        self._uow = uow

    def _one(
        self, statement: sa.Select[Any], params: dict[str, Any] | None = None
    ) -> Account | None:
        connection = self._uow.connection()
        with _translate("cannot read accounts"):
            body = connection.execute(statement, params).scalars().first()
        return None if body is None else structure(body, Account)

    def get(self, account_id: str) -> Account | None:
        # Every use case reads the acting user's account: one driver statement (see _Driver).
        connection = self._uow.connection()
        with _translate("cannot read accounts"):
            driver = _Driver(connection)
            rows = driver.fetch(driver.sql(_ACCOUNT_BODY), [account_id])
        return None if not rows else _account_of(rows[0][0])

    def find_by_username(self, username: str) -> Account | None:
        return self._one(_ACCOUNT_BY_USERNAME, {"username": username})

    def find_by_email(self, email: str) -> Sequence[Account]:
        connection = self._uow.connection()
        with _translate("cannot read accounts"):
            bodies = connection.execute(
                sa.select(t.accounts.c.body)
                .where(t.accounts.c.email == email.lower())
                .order_by(t.accounts.c.id)
            ).scalars()
            return [structure(body, Account) for body in bodies]

    def find_by_token(self, selector: str) -> Account | None:
        return self._one(
            sa.select(t.accounts.c.body)
            .join(t.account_tokens, t.account_tokens.c.account_id == t.accounts.c.id)
            .where(t.account_tokens.c.selector == selector)
        )

    def _write(self, account: Account) -> None:
        check_account_keys(account)
        connection = self._uow.writable()
        values = {
            "body": unstructure(account),
            "username": account.username,
            "email": account.email.lower(),
        }
        tokens = [
            {"selector": token.selector, "account_id": account.id} for token in account.tokens
        ]
        with _translate(f"cannot save account {account.id!r}"):
            try:
                with connection.begin_nested():
                    updated = connection.execute(
                        sa.update(t.accounts).where(t.accounts.c.id == account.id).values(**values)
                    ).rowcount
                    if not updated:
                        connection.execute(sa.insert(t.accounts).values(id=account.id, **values))
                    connection.execute(
                        sa.delete(t.account_tokens).where(
                            t.account_tokens.c.account_id == account.id
                        )
                    )
                    if tokens:
                        connection.execute(sa.insert(t.account_tokens), tokens)
            except sa.exc.IntegrityError as exc:
                raise ConflictError(
                    f"account {account.id!r}: username or token already used ({_db_message(exc)})"
                ) from exc

    def remove(self, account_id: str) -> None:
        """Delete an account and its tokens (a household's erasure); ``NotFoundError`` if
        unknown."""
        connection = self._uow.writable()
        with _translate(f"cannot remove account {account_id!r}"), connection.begin_nested():
            connection.execute(
                sa.delete(t.account_tokens).where(t.account_tokens.c.account_id == account_id)
            )
            gone = connection.execute(
                sa.delete(t.accounts).where(t.accounts.c.id == account_id)
            ).rowcount
        if not gone:
            raise NotFoundError(f"account {account_id!r} not found")

    def throttle(self, key: str) -> ThrottleState:
        """The state of ``key``, held until the unit of work ends when it is writable.

        A login reads its counters, checks the password, then records the failure: on
        PostgreSQL a transaction-scoped advisory lock on the key makes concurrent logins on
        one key take turns (SQLite's ``BEGIN IMMEDIATE`` already runs writers one at a time),
        so no more passwords are checked than the policy allows.
        """
        stored = throttle_key(key)
        connection = self._uow.connection()
        with _translate("cannot read throttles"):
            if not self._uow.read_only and connection.dialect.name == "postgresql":
                connection.execute(_HOLD_THROTTLE, {"lock": _lock_number(stored)})
            body = connection.execute(_THROTTLE, {"key": stored}).scalar_one_or_none()
        return ThrottleState() if body is None else structure(body, ThrottleState)

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        if not isinstance(state, ThrottleState):
            raise InvalidInputError(f"expected ThrottleState, got {type(state).__name__}")
        stored = throttle_key(key)
        connection = self._uow.writable()
        body = unstructure(state)
        # One statement: a concurrent first failure of the same key cannot make it fail.
        insert = _dialect_insert(connection, t.throttles).values(key=stored, body=body)
        # The primary key: (tenant_id, key) on PostgreSQL (see tenancy), key on SQLite.
        keys = ["tenant_id", "key"] if connection.dialect.name == "postgresql" else ["key"]
        upsert = insert.on_conflict_do_update(
            index_elements=keys, set_={"body": insert.excluded.body}
        )
        with _translate("cannot save throttles"), connection.begin_nested():
            connection.execute(upsert)

    def list(self) -> Iterator[Account]:
        statement = sa.select(t.accounts.c.body).order_by(t.accounts.c.id)
        for row in self._uow.stream(statement, "cannot read accounts"):
            yield structure(row.body, Account)
