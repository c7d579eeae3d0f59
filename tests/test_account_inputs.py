"""What enters the account use cases: sources, usernames and passwords, one rule everywhere."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import argon2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.accounts import (
    AccountSettings,
    InMemoryAccountStore,
    InvalidCredentialsError,
    LoginThrottledError,
    Secret,
    check_password_strength,
    normalize_source,
)
from canteen_core.domain.accounts.throttling import MAX_SOURCE_LENGTH, source_key
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services.accounts import Accounts

CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8)
START = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)
# A forged X-Forwarded-For of about 5 KB: random IPv6 addresses (random, so that PostgreSQL
# cannot compress the key below its index size limit).
_DRAW = random.Random(7)
LONG_SOURCE = ", ".join(
    ":".join(f"{_DRAW.randrange(0x10000):04x}" for _ in range(8)) for _ in range(128)
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("  \t ", None),
        ("203.0.113.9", "203.0.113.9"),
        (" 2001:db8::1%eth0 ", "2001:db8::1%eth0"),
        ("203.0.113.9\x00", "203.0.113.9"),
        ("203.0.\x1b113.9\x7f", "203.0.113.9"),
        ("\ud800203.0.113.9\udfff", "203.0.113.9"),
        ("\x00\ud800", None),
    ],
)
def test_sources_are_cleaned_by_one_rule(raw: str | None, expected: str | None) -> None:
    assert normalize_source(raw) == expected


def test_long_sources_are_counted_under_a_bounded_key() -> None:
    key = normalize_source(LONG_SOURCE)
    assert key is not None
    assert key.startswith("sha256:")
    assert len(key) == 71
    assert normalize_source(LONG_SOURCE + " ") == key
    assert normalize_source(LONG_SOURCE + ", 198.51.100.7") != key
    with pytest.raises(InvalidInputError, match="source: l'origine de la connexion"):
        normalize_source(42)


@given(st.text(max_size=300))
def test_any_text_gives_a_short_encodable_key(raw: str) -> None:
    key = source_key(raw)
    if key is not None:
        assert len(key) <= len("source:") + max(MAX_SOURCE_LENGTH, 71)
        key.encode("utf-8")  # never a UnicodeEncodeError in a driver
        assert "\x00" not in key


def _accounts() -> tuple[Accounts, InMemoryAccountStore, FixedClock, str]:
    store = InMemoryAccountStore()
    clock = FixedClock(START)
    accounts = Accounts(store, clock=clock, settings=AccountSettings(hasher=CHEAP))
    invitation = accounts.invite(email="maman.concerto@example.fr", display_name="Maman")
    accounts.activate(invitation.activation_token)
    accounts.change_password(
        invitation.account.id, invitation.temporary_password, "Cantine-Ronde-2023"
    )
    return accounts, store, clock, invitation.account.username


def test_a_wrong_password_from_a_huge_source_still_counts() -> None:
    accounts, store, _, username = _accounts()
    for _ in range(6):
        with pytest.raises(InvalidCredentialsError):
            accounts.login(username, "mauvais", source=LONG_SOURCE)
    with pytest.raises(LoginThrottledError):
        accounts.login(username, "Cantine-Ronde-2023", source=LONG_SOURCE)
    assert all(len(key) < 100 for key in store.throttles)


BAD_TEXT = ["ab\x00cd", "ab\ud800cd", "\udfff", "x" * 10_000]


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_odd_usernames_and_passwords_are_refused_before_anything_is_read(bad: str) -> None:
    accounts, store, _, username = _accounts()
    before = dict(store.throttles)
    with pytest.raises(InvalidInputError, match=r"^username: l'identifiant "):
        accounts.login(bad, "mauvais")
    with pytest.raises(InvalidInputError, match=r"^password: le mot de passe "):
        accounts.login(username, bad)
    with pytest.raises(InvalidInputError, match=r"^password: le mot de passe "):
        accounts.login(username, Secret(bad))
    with pytest.raises(InvalidInputError, match=r"^login: l'identifiant "):
        accounts.request_password_reset(bad)
    assert store.throttles == before


@pytest.mark.parametrize(
    "bad", ["Cantine-Ronde\x00-2024", "Cantine-Ronde\ud800-2024", "Cantine\tRonde-2024"]
)
def test_new_passwords_with_control_characters_or_surrogates_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^new_password: le mot de passe contient"):
        check_password_strength(bad)
    accounts, _, _, _ = _accounts()
    (reset,) = accounts.request_password_reset("maman.concerto")
    with pytest.raises(InvalidInputError, match=r"^new_password: "):
        accounts.reset_password(reset.token, bad)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "ma\ud800man@example.fr", "^email: l'adresse électronique contient"),
        ("email", "maman\x00@example.fr", "^email: l'adresse électronique contient"),
        ("display_name", "Ma\udfffman", "^display_name: le nom affiché contient"),
        ("account_id", "id\x00", "^account_id: l'identifiant contient"),
    ],
)
def test_invitations_refuse_unencodable_text(field: str, value: str, message: str) -> None:
    accounts, store, _, _ = _accounts()
    count = len(store.accounts)
    fields: dict[str, object] = {"email": "papa@example.fr", "display_name": "Papa"}
    fields[field] = value
    with pytest.raises(InvalidInputError, match=message):
        accounts.invite(**fields)  # type: ignore[arg-type]
    assert len(store.accounts) == count
