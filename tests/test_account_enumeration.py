"""User enumeration: an unknown username must cost and refuse like a wrong password.

Timings are not compared (flaky on a shared machine); argon2 work is counted instead with a
hasher that records its calls, which is what the time depends on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import argon2
import pytest

from canteen_core.domain.accounts import (
    AccountSettings,
    AuthenticationError,
    InMemoryAccountStore,
    InvalidCredentialsError,
    LoginThrottledError,
)
from canteen_core.domain.clock import FixedClock
from canteen_core.services.accounts import Accounts

NEW_PASSWORD = "Cantine-Ronde-2023"
START = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)


class CountingHasher(argon2.PasswordHasher):
    """A cheap argon2 hasher that counts the hashes and verifications it computes."""

    def __init__(self, salt_len: int) -> None:
        # A salt length no other test uses: the process-wide decoy for these parameters is
        # made by this test's hasher, so its computation is counted here.
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=salt_len)
        self.hashes = 0
        self.verifications = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashes += 1
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def _world(salt_len: int) -> tuple[InMemoryAccountStore, FixedClock, CountingHasher, str]:
    store = InMemoryAccountStore()
    clock = FixedClock(START)
    hasher = CountingHasher(salt_len)
    accounts = Accounts(store, clock=clock, settings=AccountSettings(hasher=hasher))
    invitation = accounts.invite(
        email="maman.concerto@example.fr", display_name="Madame CONCERTO", household_ids=["h1"]
    )
    accounts.activate(invitation.activation_token)
    accounts.change_password(invitation.account.id, invitation.temporary_password, NEW_PASSWORD)
    return store, clock, hasher, invitation.account.username


def _fresh(store: InMemoryAccountStore, clock: FixedClock, hasher: CountingHasher) -> Accounts:
    # The facade builds the use cases anew for every call: do the same.
    return Accounts(store, clock=clock, settings=AccountSettings(hasher=hasher))


def test_unknown_user_costs_one_verification_like_a_wrong_password() -> None:
    store, clock, hasher, username = _world(salt_len=11)
    work: dict[str, tuple[int, int]] = {}
    for label, login in (("unknown", "personne.inconnue"), ("wrong", username)):
        hasher.hashes = hasher.verifications = 0
        for attempt in range(3):
            clock.advance(hours=25)  # never locked: only the hashing work is compared
            with pytest.raises(InvalidCredentialsError):
                _fresh(store, clock, hasher).login(login, f"mauvais-{attempt}")
        work[label] = (hasher.hashes, hasher.verifications)
    # The decoy is made once per process (at most once here), then each unknown-user login
    # verifies once, exactly like a wrong password; before, every call hashed a new decoy.
    assert work["wrong"] == (0, 3)
    assert work["unknown"][1] == 3
    assert work["unknown"][0] <= 1
    hasher.hashes = hasher.verifications = 0
    clock.advance(hours=25)
    with pytest.raises(InvalidCredentialsError):
        _fresh(store, clock, hasher).login("encore.personne", "mauvais")
    assert (hasher.hashes, hasher.verifications) == (0, 1)


def _refusals(accounts: Accounts, login: str, clock: FixedClock) -> list[str]:
    seen = []
    for _ in range(9):
        try:
            accounts.login(login, "mauvais mot de passe")
        except AuthenticationError as error:
            seen.append(f"{type(error).__name__}: {error}")
        clock.advance(seconds=1)
    return seen


def test_unknown_user_is_locked_like_an_existing_one() -> None:
    store, clock, hasher, username = _world(salt_len=12)
    existing = _refusals(_fresh(store, clock, hasher), username, clock)
    clock.advance(hours=25)
    unknown = _refusals(_fresh(store, clock, hasher), "personne.inconnue", clock)
    clock.advance(hours=25)
    malformed = _refusals(_fresh(store, clock, hasher), "é!", clock)
    # Five free failures, the sixth locks: the seventh attempt is refused the same way.
    assert existing[:6] == ["InvalidCredentialsError: Identifiant ou mot de passe incorrect."] * 6
    assert existing[6].startswith("LoginThrottledError: Trop de tentatives")
    assert unknown == existing
    assert malformed == existing


def test_unknown_user_lock_is_lifted_after_the_lockout() -> None:
    store, clock, hasher, _ = _world(salt_len=13)
    accounts = _fresh(store, clock, hasher)
    for _ in range(6):
        with pytest.raises(InvalidCredentialsError):
            accounts.login("personne.inconnue", "mauvais")
    with pytest.raises(LoginThrottledError) as locked:
        accounts.login("Personne.Inconnue ", "mauvais")  # the same username as typed
    assert locked.value.retry_after == timedelta(seconds=30)
    clock.advance(seconds=30)
    with pytest.raises(InvalidCredentialsError):
        accounts.login("personne.inconnue", "mauvais")
