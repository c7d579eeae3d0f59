"""Login inputs through the facade, identical on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re

import pytest

from canteen_core.domain.accounts import InvalidCredentialsError, LoginThrottledError
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services import Canteen

from ._world import ADMIN, World

NEW_PASSWORD = "Cantine-Ronde-2023!"
# A forged X-Forwarded-For of about 5 KB: random IPv6 addresses (random, so that PostgreSQL
# cannot compress the key below its index size limit).
_DRAW = random.Random(7)
LONG_SOURCE = ", ".join(
    ":".join(f"{_DRAW.randrange(0x10000):04x}" for _ in range(8)) for _ in range(128)
)


def _active(canteen: Canteen) -> str:
    canteen.accounts.invite_guardian(ADMIN, "concerto", "papa")
    (record,) = [r for r in canteen.accounts.outbox(ADMIN) if r.message.kind == "invitation"]
    text = record.message.text_body
    username = re.search(r"Nom d'utilisateur : (\S+)", text)
    temporary = re.search(r"Mot de passe provisoire : (\S+)", text)
    token = re.search(r"token=(\S+)", text)
    assert username
    assert temporary
    assert token
    canteen.accounts.activate(token.group(1))
    actor = canteen.accounts.login(username.group(1), temporary.group(1)).actor
    canteen.accounts.change_password(actor, temporary.group(1), NEW_PASSWORD)
    return username.group(1)


@pytest.mark.parametrize(
    "source", [LONG_SOURCE, "203.0.113.9\x00", "203.0.113.9\ud800", "\x00" * 5000]
)
def test_wrong_passwords_from_odd_sources_are_counted(any_world: World, source: str) -> None:
    canteen = any_world.canteen
    username = _active(canteen)
    for _ in range(6):  # five free failures, the sixth locks: never a StorageError
        with pytest.raises(InvalidCredentialsError):
            canteen.accounts.login(username, "mauvais", source=source)
    # The right password does not get through the lock.
    with pytest.raises(LoginThrottledError):
        canteen.accounts.login(username, NEW_PASSWORD, source=source)


def test_a_locked_huge_source_is_locked_for_other_usernames(any_world: World) -> None:
    canteen = any_world.canteen
    for n in range(20):  # the source policy allows 20 free failures
        with pytest.raises(InvalidCredentialsError):
            canteen.accounts.login(f"personne{n}", "mauvais", source=LONG_SOURCE)
    with pytest.raises(InvalidCredentialsError):
        canteen.accounts.login("personne20", "mauvais", source=LONG_SOURCE)  # locks the source
    with pytest.raises(LoginThrottledError):
        canteen.accounts.login("personne21", "mauvais", source=LONG_SOURCE + " ")


@pytest.mark.parametrize("bad", ["pa\x00pa", "pa\ud800pa"])
def test_nul_and_lone_surrogates_are_refused_in_french(any_world: World, bad: str) -> None:
    canteen = any_world.canteen
    username = _active(canteen)
    with pytest.raises(InvalidInputError, match=r"^username: l'identifiant contient"):
        canteen.accounts.login(bad, NEW_PASSWORD)
    with pytest.raises(InvalidInputError, match=r"^password: le mot de passe contient"):
        canteen.accounts.login(username, bad)
    with pytest.raises(InvalidInputError, match=r"^login: l'identifiant contient"):
        canteen.accounts.request_password_reset(bad)
    with pytest.raises(InvalidInputError, match=r"^email: l'adresse électronique contient"):
        canteen.accounts.invite(ADMIN, email=f"{bad}@ronde.fr", display_name="Agent")
    actor = canteen.accounts.login(username, NEW_PASSWORD).actor
    with pytest.raises(InvalidInputError, match=r"^current_password: le mot de passe contient"):
        canteen.accounts.change_password(actor, bad, "Un-Autre-Mot-2024!")
    with pytest.raises(InvalidInputError, match=r"^new_password: le mot de passe contient"):
        canteen.accounts.change_password(actor, NEW_PASSWORD, f"Un-Autre-Mot-2024!{bad}")
    assert canteen.accounts.login(username, NEW_PASSWORD).account.username == username
