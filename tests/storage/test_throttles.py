"""Login throttles under attack: concurrent guesses are all counted, hostile sources too.

Each guess runs as the facade runs a login: its own unit of work, committed when the login
raises an authentication error (the recorded failure must stay).
"""

from __future__ import annotations

import random
import string
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import argon2
import pytest

from canteen_adapters.storage._common import THROTTLE_KEY_LENGTH, throttle_key
from canteen_core.domain.accounts import (
    AccountSettings,
    AuthenticationError,
    InvalidCredentialsError,
    LoginThrottledError,
    ThrottleState,
)
from canteen_core.domain.accounts.throttling import source_key
from canteen_core.domain.clock import FixedClock
from canteen_core.ports.storage import Storage
from canteen_core.services.accounts import Accounts

from .conftest import OpenStorage

NOW = datetime(2023, 9, 4, 8, 0, tzinfo=UTC)
THREADS = 8
GUESSES = 6


class CountingHasher(argon2.PasswordHasher):
    """A cheap hasher counting the passwords it checks."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.checked += 1
        return super().verify(hash, password)


def _invited(storage: Storage, settings: AccountSettings) -> str:
    """The username of a fresh account."""
    with storage.unit_of_work() as uow:
        accounts = Accounts(uow.accounts, clock=FixedClock(NOW), settings=settings)
        invitation = accounts.invite(
            email="maman.concerto@example.fr", display_name="Madame CONCERTO", household_ids=["h1"]
        )
        uow.commit()
    return invitation.account.username


def _guess(storage: Storage, settings: AccountSettings, username: str, source: str) -> type:
    """One wrong guess as the facade runs it; the error class it raised."""
    with storage.unit_of_work() as uow:
        accounts = Accounts(uow.accounts, clock=FixedClock(NOW), settings=settings)
        try:
            accounts.login(username, "not the password at all", source=source)
        except AuthenticationError as error:
            uow.commit()
            return type(error)
    raise AssertionError("a wrong password logged in")


def test_concurrent_guesses_check_at_most_the_policy(open_storage: OpenStorage) -> None:
    """8 threads x 6 wrong guesses: no more passwords checked than the account policy allows
    (PostgreSQL used to check 31-36 against a policy of 6: read-then-rewrite counters)."""
    hasher = CountingHasher()
    settings = AccountSettings(hasher=hasher)
    username = _invited(open_storage(), settings)
    hasher.checked = 0
    start = threading.Barrier(THREADS)

    def attack(worker: int) -> list[type]:
        storage = open_storage()  # a storage (and connection) per thread, like processes
        start.wait()
        return [_guess(storage, settings, username, f"10.0.{worker}.{n}") for n in range(GUESSES)]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = [kind for result in pool.map(attack, range(THREADS)) for kind in result]
    allowed = settings.account_throttle.free_failures + 1
    assert hasher.checked == allowed
    assert outcomes.count(InvalidCredentialsError) == allowed
    assert outcomes.count(LoginThrottledError) == THREADS * GUESSES - allowed
    with open_storage().unit_of_work(read_only=True) as uow:
        account = uow.accounts.find_by_username(username)
        assert account is not None
        assert uow.accounts.throttle(f"account:{account.id}").failures == allowed


@pytest.mark.parametrize(
    "source",
    [
        "203.0.113.7, " * 400,
        "10.0.0.1\x00evil",
        "10.0.0.\ud800",
        "".join(random.Random(22).choices(string.ascii_letters + string.digits, k=5000)),
    ],
    ids=["5kB-forwarded-for", "nul", "lone-surrogate", "5kB-incompressible"],
)
def test_hostile_source_is_counted_and_locks(storage: Storage, source: str) -> None:
    """A source no database column takes as is (kilobytes, NUL, lone surrogate) is counted
    like any other: the source locks after its policy's failures, on every backend."""
    settings = AccountSettings(hasher=CountingHasher())
    username = _invited(storage, settings)
    policy = settings.source_throttle
    # The account would lock first: guess unknown usernames from the hostile source.
    kinds = [
        _guess(storage, settings, f"{username}{n}", source) for n in range(policy.free_failures + 2)
    ]
    assert kinds[: policy.free_failures + 1] == [InvalidCredentialsError] * (
        policy.free_failures + 1
    )
    assert kinds[-1] is LoginThrottledError
    key = source_key(source)  # the service's key (the storage bounds any key anyway)
    assert key is not None
    with storage.unit_of_work(read_only=True) as uow:
        state = uow.accounts.throttle(key)
    assert state.failures == policy.free_failures + 1
    assert state.locked_until is not None


def test_wrong_password_with_long_source_still_locks_the_account(storage: Storage) -> None:
    settings = AccountSettings(hasher=CountingHasher())
    username = _invited(storage, settings)
    # 5 kB, a client-controlled X-Forwarded-For (random: PostgreSQL compresses repeated text)
    source = "".join(random.Random(5).choices(string.hexdigits, k=5000))
    allowed = settings.account_throttle.free_failures + 1
    kinds = [_guess(storage, settings, username, source) for _ in range(allowed + 1)]
    assert kinds == [InvalidCredentialsError] * allowed + [LoginThrottledError]


def test_throttle_keys() -> None:
    assert throttle_key("source:203.0.113.7") == "source:203.0.113.7"
    assert throttle_key("account:a-1") == "account:a-1"
    long = "source:" + "9" * THROTTLE_KEY_LENGTH
    assert throttle_key(long).startswith("sha256:")
    assert len(throttle_key(long)) == len("sha256:") + 64
    assert throttle_key("source:a\x00b") != throttle_key("source:ab")
    assert throttle_key("source:\ud800") == throttle_key("source:\ud800")


def test_throttle_state_is_checked(storage: Storage) -> None:
    from canteen_core.domain.errors import InvalidInputError

    with storage.unit_of_work() as uow, pytest.raises(InvalidInputError):
        uow.accounts.save_throttle("account:a", "failures=3")  # type: ignore[arg-type]
    with storage.unit_of_work() as uow:
        uow.accounts.save_throttle("account:a", ThrottleState(failures=2, last_failure_at=NOW))
        uow.accounts.save_throttle("account:a", ThrottleState(failures=3, last_failure_at=NOW))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.accounts.throttle("account:a").failures == 3


@pytest.mark.parametrize(
    "key",
    ["source:" + "".join(random.Random(3).choices(string.hexdigits, k=5000)), "source:a\x00b"],
    ids=["5kB", "nul"],
)
def test_any_throttle_key_is_stored_alike(storage: Storage, key: str) -> None:
    """The port stores a hostile key itself (defense in depth below the service's rule)."""
    with storage.unit_of_work() as uow:
        uow.accounts.save_throttle(key, ThrottleState(failures=7, last_failure_at=NOW))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.accounts.throttle(key).failures == 7
