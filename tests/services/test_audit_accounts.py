"""An account's own steps leave audit entries (issue #19): activation, login, a refused login,
a password change (and a refused one), a reset request and its completion; each names the
account as actor (``anonyme`` when the requester proved nothing), its household and what
changed, and no entry ever holds a password, a hash or a token. A throttled attempt or an
invalid link changes nothing and leaves nothing. Memory, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest

from canteen_core.domain.accounts import (
    InvalidCredentialsError,
    InvalidTokenError,
    LoginThrottledError,
)
from canteen_core.domain.audit import ANONYMOUS, AuditEntry, action_label
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.policy import Action

from ._world import ADMIN, World
from .test_accounts import NEW_PASSWORD, _secrets


def _new(world: World, seen: int) -> list[AuditEntry]:
    return world.canteen.audit.entries(ADMIN)[seen:]


def _count(world: World) -> int:
    return len(world.canteen.audit.entries(ADMIN))


def _no_secret(entries: list[AuditEntry], *secrets: str) -> None:
    stored = json.dumps([e.details() for e in entries], ensure_ascii=False)
    for secret in secrets:
        assert secret not in stored
    assert "argon2" not in stored  # no password hash
    assert "password_hash" not in stored
    assert "tokens" not in stored


def test_each_account_step_leaves_one_entry_without_secrets(
    any_world: World, clock: FixedClock
) -> None:
    canteen = any_world.canteen
    canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
    (invited,) = canteen.audit.entries(ADMIN, action="invite_account")
    assert invited.household_ids == ("concerto",)
    assert "account:maman" in invited.entity_ids
    username, temporary, token = _secrets(canteen, "maman@concerto.fr")
    seen = _count(any_world)

    canteen.accounts.activate(token)
    (activated,) = _new(any_world, seen)
    assert (activated.actor_id, activated.actor_roles) == ("maman", ("guardian",))
    assert activated.action == "activate_account"
    assert activated.household_ids == ("concerto",)
    assert activated.summary == "Activation du compte"
    status = {c.field: (c.before, c.after) for c in activated.changes}
    assert status["status"] == ("invited", "active")

    seen = _count(any_world)
    with pytest.raises(InvalidCredentialsError):
        canteen.accounts.login(username, "mauvais-mot-de-passe", source="10.0.0.9")
    (refused,) = _new(any_world, seen)
    assert refused.action == "failed_login"
    assert refused.actor_id == ANONYMOUS  # a wrong password proves nothing
    assert refused.actor_roles == ()
    assert refused.household_ids == ("concerto",)
    assert refused.entity_ids == ("account:maman",)
    assert refused.summary.startswith("Connexion refusée : ")

    seen = _count(any_world)
    login = canteen.accounts.login(username, temporary)
    (logged,) = _new(any_world, seen)
    assert (logged.actor_id, logged.action) == ("maman", "log_in")
    assert [c.field for c in logged.changes] == ["last_login_at"]

    seen = _count(any_world)
    with pytest.raises(InvalidCredentialsError):
        canteen.accounts.change_password(login.actor, "pas-le-bon", NEW_PASSWORD)
    (wrong,) = _new(any_world, seen)
    assert (wrong.actor_id, wrong.action) == ("maman", "change_password")
    assert wrong.changes == ()
    assert "refusé" in wrong.summary

    seen = _count(any_world)
    canteen.accounts.change_password(login.actor, temporary, NEW_PASSWORD)
    (changed,) = _new(any_world, seen)
    assert (changed.actor_id, changed.action) == ("maman", "change_password")
    fields = {c.field: (c.before, c.after) for c in changed.changes}
    assert fields["must_change_password"] == (True, False)
    assert fields["password_changed_at"][0] is None

    seen = _count(any_world)
    canteen.accounts.request_password_reset("maman@concerto.fr")
    (asked,) = _new(any_world, seen)
    assert (asked.actor_id, asked.action) == (ANONYMOUS, "request_password_reset")
    assert asked.household_ids == ("concerto",)
    assert [c.field for c in asked.changes] == ["reset_link_expires_at"]
    (mail,) = [r for r in canteen.accounts.outbox(ADMIN) if r.message.kind == "password-reset"]
    found = re.search(r"token=(\S+)", mail.message.text_body)
    assert found
    reset_token = found.group(1)

    seen = _count(any_world)
    clock.advance(minutes=5)
    canteen.accounts.reset_password(reset_token, "Autre-Mot-De-Passe-2023!")
    (reset,) = _new(any_world, seen)
    assert (reset.actor_id, reset.action) == ("maman", "reset_password")
    assert any(c.field == "password_changed_at" for c in reset.changes)

    seen = _count(any_world)
    canteen.accounts.logout(login.actor)
    (left,) = _new(any_world, seen)
    assert (left.actor_id, left.action) == ("maman", "log_out")
    assert left.household_ids == ("concerto",)
    assert left.changes == ()
    with pytest.raises(InvalidInputError):
        canteen.accounts.logout("maman")  # type: ignore[arg-type]

    steps = canteen.audit.entries(ADMIN, actor_id="maman")
    assert canteen.audit.entries(ADMIN, action="log_in") == [logged]
    assert [e.action for e in steps] == [
        "activate_account",
        "log_in",
        "change_password",
        "change_password",
        "reset_password",
        "log_out",
    ]
    everything = canteen.audit.entries(ADMIN)
    _no_secret(
        everything,
        temporary,
        NEW_PASSWORD,
        "Autre-Mot-De-Passe-2023!",
        "mauvais-mot-de-passe",
        token,
        token.split(".")[-1],
        reset_token,
        reset_token.split(".")[-1],
    )
    assert canteen.audit.verify(ADMIN).intact


def test_steps_that_change_nothing_leave_nothing(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.accounts.invite_guardian(ADMIN, "concerto", "papa")
    username, temporary, token = _secrets(canteen, "papa@concerto.fr")
    canteen.accounts.activate(token)
    seen = _count(any_world)
    with pytest.raises(InvalidTokenError):
        canteen.accounts.activate(token)  # used: rolled back
    with pytest.raises(InvalidTokenError):
        canteen.accounts.reset_password("faux.jeton", NEW_PASSWORD)
    assert canteen.accounts.request_password_reset("personne@nulle.part") is None
    assert _new(any_world, seen) == []
    for _ in range(6):  # five free failures, the sixth locks
        with pytest.raises(InvalidCredentialsError):
            canteen.accounts.login(username, "mauvais", source="10.0.0.1")
    seen = _count(any_world)
    with pytest.raises(LoginThrottledError):
        canteen.accounts.login(username, temporary, source="10.0.0.1")
    assert _new(any_world, seen) == []


def test_an_unknown_username_is_logged_without_the_name(any_world: World) -> None:
    canteen = any_world.canteen
    seen = _count(any_world)
    with pytest.raises(InvalidCredentialsError):
        canteen.accounts.login("Mot2Passe-tape-ici", "mauvais")
    (entry,) = _new(any_world, seen)
    assert (entry.actor_id, entry.action) == (ANONYMOUS, "failed_login")
    assert entry.household_ids == entry.entity_ids == ()
    assert "identifiant inconnu" in entry.summary
    _no_secret([entry], "Mot2Passe-tape-ici", "mauvais")


def test_every_action_has_a_french_label() -> None:
    for action in Action:
        assert action_label(action.value) != action.value
    assert action_label("run_billing") == "Facturation"
