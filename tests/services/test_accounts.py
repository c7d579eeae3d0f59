"""Accounts through the facade: the seed's invitation, activation, forced change, outbox."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import argon2
import pytest

from canteen_adapters.mail.outbox import OutboxMailer
from canteen_core.config.deployment import (
    CalendarSettings,
    Deployment,
    IssuerSettings,
    MailSettings,
    PortalSettings,
    StorageSettings,
)
from canteen_core.domain.accounts import (
    AccountDisabledError,
    AccountNotActivatedError,
    AccountSettings,
    InvalidCredentialsError,
    InvalidTokenError,
    LoginThrottledError,
    PasswordChangeRequiredError,
    PortalNotOpenError,
)
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Zone
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.events import AccountInvited
from canteen_core.domain.outbox import DeliveryStatus
from canteen_core.services import Canteen

from ._world import ADMIN, PAYER, STAFF, SYSTEM, World, build_world
from .conftest import EventRecorder, make_canteen

NEW_PASSWORD = "Cantine-Ronde-2023!"


class CountingHasher(argon2.PasswordHasher):
    """Cheap argon2 that counts its work (salt length 10: parameters no other test uses)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=10)
        self.hashes = 0
        self.verifications = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashes += 1
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def _secrets(canteen: Canteen, address: str) -> tuple[str, str, str]:
    """(username, temporary password, activation token) from the welcome email."""
    (record,) = [
        r
        for r in canteen.accounts.outbox(ADMIN)
        if r.message.to_address == address and r.message.kind == "invitation"
    ]
    text = record.message.text_body
    username = re.search(r"Nom d'utilisateur : (\S+)", text)
    password = re.search(r"Mot de passe provisoire : (\S+)", text)
    token = re.search(r"token=(\S+)", text)
    assert username
    assert password
    assert token
    return username.group(1), password.group(1), token.group(1)


def test_invitation_activation_forced_change_then_use(
    any_world: World, recorder: EventRecorder
) -> None:
    canteen = any_world.canteen
    account = canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
    assert account.id == "maman"
    assert account.household_ids == frozenset({"concerto"})
    (event,) = recorder.of(AccountInvited)
    assert event.household_id == "concerto"
    username, temporary, token = _secrets(canteen, "maman@concerto.fr")
    assert username == "maman"

    with pytest.raises(AccountNotActivatedError):
        canteen.accounts.login(username, temporary)
    canteen.accounts.activate(token)
    with pytest.raises(InvalidTokenError):
        canteen.accounts.activate(token)  # single use
    login = canteen.accounts.login(username, temporary)
    assert login.must_change_password
    actor = login.actor
    # Nothing else is allowed until the temporary password is changed.
    with pytest.raises(PasswordChangeRequiredError):
        canteen.families.get(actor, "concerto")
    with pytest.raises(PasswordChangeRequiredError):
        canteen.reservations.book(actor, "e-alban", date(2023, 9, 11))
    assert canteen.reservations.booked_days(ADMIN, "e-alban") == ()
    with pytest.raises(InvalidInputError):
        canteen.accounts.change_password(actor, temporary, "court")
    canteen.accounts.change_password(actor, temporary, NEW_PASSWORD)
    assert canteen.families.get(actor, "concerto").id == "concerto"
    again = canteen.accounts.login(username, NEW_PASSWORD)
    assert not again.must_change_password
    assert again.actor == Actor.guardian("maman", "concerto")


def test_failed_logins_are_recorded_and_throttled(memory_world: World) -> None:
    canteen = memory_world.canteen
    canteen.accounts.invite_guardian(ADMIN, "concerto", "papa")
    username, temporary, token = _secrets(canteen, "papa@concerto.fr")
    canteen.accounts.activate(token)
    for _ in range(6):  # five free failures, the sixth locks
        with pytest.raises(InvalidCredentialsError):
            canteen.accounts.login(username, "mauvais", source="10.0.0.1")
    with pytest.raises(LoginThrottledError):
        canteen.accounts.login(username, temporary, source="10.0.0.1")


def test_password_reset_by_email(world: World) -> None:
    canteen = world.canteen
    canteen.accounts.invite_guardian(ADMIN, "voisins", "voisin")
    assert canteen.accounts.request_password_reset("personne@nulle.part") is None
    canteen.accounts.request_password_reset("jean@voisin.fr")
    (reset,) = [r for r in canteen.accounts.outbox(ADMIN) if r.message.kind == "password-reset"]
    token = re.search(r"token=(\S+)", reset.message.text_body)
    assert token
    account = canteen.accounts.reset_password(token.group(1), NEW_PASSWORD)
    assert not account.must_change_password
    username, _, _ = _secrets(canteen, "jean@voisin.fr")
    assert username == "jean"
    assert canteen.accounts.login(username, NEW_PASSWORD).actor.household_ids == {"voisins"}


def test_portal_opening_date_holds_family_logins(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    portal = PortalSettings(url="https://famille.ronde.fr", opening_date=date(2023, 9, 4))
    canteen = make_canteen("sqlite", request, tmp_path, clock, recorder, portal=portal)
    with canteen:
        build_world(canteen)
        canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
        username, temporary, token = _secrets(canteen, "maman@concerto.fr")
        (record,) = canteen.accounts.outbox(ADMIN)
        assert "à partir du 4 septembre 2023" in record.message.text_body
        canteen.accounts.activate(token)
        with pytest.raises(PortalNotOpenError):
            canteen.accounts.login(username, temporary)
        clock.set(datetime(2023, 9, 4, 6, 0, tzinfo=UTC))
        assert canteen.accounts.login(username, temporary).must_change_password
        canteen.accounts.set_portal_opening(ADMIN, date(2023, 9, 10))
        assert canteen.accounts.portal_opens_at is not None
        with pytest.raises(PortalNotOpenError):
            canteen.accounts.login(username, temporary)


def test_outbox_is_sent_through_the_mailer(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    mailer = OutboxMailer()
    with make_canteen("sqlite", request, tmp_path, clock, recorder, mailer=mailer) as canteen:
        build_world(canteen)
        canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
        canteen.accounts.invite_guardian(ADMIN, "concerto", "papa")
        with pytest.raises(NotAuthorizedError):
            canteen.accounts.send_outbox(STAFF)
        report = canteen.accounts.send_outbox(SYSTEM)
        assert len(report.sent) == 2
        assert len(mailer.sent) == 2
        assert canteen.accounts.outbox(ADMIN, DeliveryStatus.PENDING) == []
        assert len(canteen.accounts.outbox(ADMIN, "sent")) == 2
        assert canteen.accounts.send_outbox(ADMIN).attempted == 0


def test_admin_manages_accounts(memory_world: World) -> None:
    canteen = memory_world.canteen
    with pytest.raises(NotFoundError):
        canteen.accounts.invite_guardian(ADMIN, "concerto", "nobody")
    with pytest.raises(NotFoundError):
        canteen.accounts.invite(ADMIN, email="x@y.fr", display_name="X", household_ids=["nope"])
    staff = canteen.accounts.invite(
        ADMIN, email="agent@ronde.fr", display_name="Agent", roles=["staff"], username="agent"
    )
    with pytest.raises(ConflictError):
        canteen.accounts.invite(ADMIN, email="b@ronde.fr", display_name="B", username="agent")
    assert [a.id for a in canteen.accounts.list_accounts(ADMIN)] == [staff.id]
    assert canteen.accounts.get(Actor.staff(staff.id), staff.id).username == "agent"
    with pytest.raises(NotAuthorizedError):
        canteen.accounts.get(PAYER, staff.id)
    disabled = canteen.accounts.disable(ADMIN, staff.id)
    assert disabled.status.value == "disabled"
    assert canteen.accounts.enable(ADMIN, staff.id).status.value == "invited"
    reissued = canteen.accounts.reissue_invitation(ADMIN, staff.id)
    assert reissued.id == staff.id
    assert len(canteen.accounts.outbox(ADMIN)) == 2


def test_disabled_account_may_do_nothing(memory_world: World) -> None:
    canteen = memory_world.canteen
    canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
    username, temporary, token = _secrets(canteen, "maman@concerto.fr")
    canteen.accounts.activate(token)
    actor = canteen.accounts.login(username, temporary).actor
    canteen.accounts.change_password(actor, temporary, NEW_PASSWORD)
    canteen.accounts.disable(ADMIN, "maman")
    with pytest.raises(AccountDisabledError):
        canteen.families.get(actor, "concerto")
    with pytest.raises(AccountDisabledError):
        canteen.accounts.login(username, NEW_PASSWORD)
    canteen.accounts.enable(ADMIN, "maman")
    assert canteen.families.get(actor, "concerto").id == "concerto"


def test_unknown_mailer_is_a_configuration_error(
    clock: FixedClock, recorder: EventRecorder
) -> None:
    deployment = Deployment(
        issuer=IssuerSettings(name="Régie", code="RONDE"),
        storage=StorageSettings(url="memory://"),
        calendar=CalendarSettings(zone=Zone.C),
        mail=MailSettings(adapter="pigeon"),
    )
    canteen = Canteen.from_deployment(deployment, clock=clock, plugins=[recorder])
    with (
        canteen,
        pytest.raises(ConfigurationError, match="service d'envoi d'e-mails « pigeon » introuvable"),
    ):
        canteen.accounts.send_outbox(SYSTEM)


def test_unknown_user_is_locked_like_an_existing_one(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.accounts.invite_guardian(ADMIN, "concerto", "papa")
    username, _, token = _secrets(canteen, "papa@concerto.fr")
    canteen.accounts.activate(token)
    for login in (username, "personne.inconnue"):
        for _ in range(6):  # five free failures, the sixth locks
            with pytest.raises(InvalidCredentialsError):
                canteen.accounts.login(login, "mauvais")
        with pytest.raises(LoginThrottledError, match="Réessayez dans 30 secondes"):
            canteen.accounts.login(login, "mauvais")


def test_unknown_user_logins_share_one_decoy_hash(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    hasher = CountingHasher()
    settings = AccountSettings(hasher=hasher)
    with make_canteen("memory", request, tmp_path, clock, recorder, account_settings=settings) as c:
        for n in range(4):
            with pytest.raises(InvalidCredentialsError):
                c.accounts.login(f"personne{n}", "mauvais")
    # Each call builds the account use cases anew; the decoy is hashed once per process.
    assert hasher.verifications == 4
    assert hasher.hashes <= 1
