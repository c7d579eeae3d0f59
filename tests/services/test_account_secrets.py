"""Secrets at rest, account side: account reads carry no secret, stored tokens open nothing."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import attrs
import pytest

from canteen_core.domain.accounts import AccountView, InvalidTokenError
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import FixedClock
from canteen_core.services import Canteen

from ._world import ADMIN, World, build_world
from .conftest import EventRecorder, make_canteen

NEW_PASSWORD = "Cantine-Ronde-2023!"


def _emailed(canteen: Canteen, address: str, kind: str, pattern: str) -> str:
    (record,) = [
        r
        for r in canteen.accounts.outbox(ADMIN)
        if r.message.to_address == address and r.message.kind == kind
    ]
    found = re.search(pattern, record.message.text_body)
    assert found
    return found.group(1)


def _assert_no_secret(value: object) -> None:
    assert isinstance(value, AccountView)
    names = {field.name for field in attrs.fields(AccountView)}
    assert not names & {"password_hash", "tokens"}
    assert "$argon2" not in repr(attrs.asdict(value))


def test_every_account_read_through_the_facade_is_secret_free(any_world: World) -> None:
    canteen = any_world.canteen
    invited = canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
    address = "maman@concerto.fr"
    username = _emailed(canteen, address, "invitation", r"Nom d'utilisateur : (\S+)")
    temporary = _emailed(canteen, address, "invitation", r"Mot de passe provisoire : (\S+)")
    token = _emailed(canteen, address, "invitation", r"token=(\S+)")
    reads: list[object] = [
        invited,
        canteen.accounts.invite(ADMIN, email="agent@ronde.fr", display_name="Agent"),
        canteen.accounts.activate(token),
    ]
    login = canteen.accounts.login(username, temporary)
    actor = login.actor
    reads += [
        login.account,
        canteen.accounts.change_password(actor, temporary, NEW_PASSWORD),
        canteen.accounts.get(actor, actor.user_id),  # one's own account
        canteen.accounts.get(ADMIN, actor.user_id),
        *canteen.accounts.list_accounts(ADMIN),
        canteen.accounts.disable(ADMIN, actor.user_id),
        canteen.accounts.enable(ADMIN, actor.user_id),
    ]
    canteen.accounts.request_password_reset(username)
    reset = _emailed(canteen, address, "password-reset", r"token=(\S+)")
    reads.append(canteen.accounts.reset_password(reset, "Un-Autre-Mot-2024!"))
    for value in reads:
        _assert_no_secret(value)
    own = canteen.accounts.get(Actor.guardian("maman", "concerto"), "maman")
    assert (own.username, own.status.value, own.must_change_password) == (username, "active", False)


def test_what_the_database_holds_cannot_follow_a_link(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    with make_canteen("sqlite", request, tmp_path, clock, recorder) as canteen:
        build_world(canteen)
        canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
        canteen.accounts.request_password_reset("maman@concerto.fr")
        emailed = _emailed(canteen, "maman@concerto.fr", "password-reset", r"token=(\S+)")
        selector, verifier = emailed.split(".")
        with sqlite3.connect(tmp_path / "x.db") as db:
            dump = "\n".join(
                repr(row)
                for table in ("accounts", "account_tokens", "throttles")
                for row in db.execute(f"SELECT * FROM {table}")
            )
            (body,) = db.execute("SELECT body FROM accounts WHERE id = 'maman'").fetchone()
        # Only the selector and a digest of the verifier are stored, never the verifier.
        assert selector in dump
        assert verifier not in dump
        stored = json.loads(body) if isinstance(body, str) else body
        digests = [t["digest"] for t in stored["tokens"] if t["selector"] == selector]
        assert len(digests) == 1
        assert len(digests[0]) == 64
        for forged in (f"{selector}.{digests[0]}", f"{selector}.{digests[0][:43]}", digests[0]):
            with pytest.raises(InvalidTokenError):
                canteen.accounts.reset_password(forged, NEW_PASSWORD)
        assert canteen.accounts.reset_password(emailed, NEW_PASSWORD).id == "maman"
