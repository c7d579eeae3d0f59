"""Account lifecycle: invitation, activation, first login, passwords, tokens, throttling."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import argon2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from canteen_core.domain.accounts import (
    Account,
    AccountDisabledError,
    AccountNotActivatedError,
    AccountSettings,
    AccountStatus,
    AuthenticationError,
    InMemoryAccountStore,
    InvalidCredentialsError,
    InvalidTokenError,
    LoginThrottledError,
    PasswordChangeRequiredError,
    PortalNotOpenError,
    Secret,
    ThrottlePolicy,
    ThrottleState,
    TokenAlreadyUsedError,
    TokenExpiredError,
    check_password_strength,
)
from canteen_core.domain.actors import Role
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.services.accounts import Accounts

CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8)
NEW_PASSWORD = "Cantine-Ronde-2023"
START = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)


class SeededRandom:
    """Deterministic randomness for tests (the library defaults to ``secrets``)."""

    def __init__(self, seed: int = 7) -> None:
        self._random = random.Random(seed)

    def token_bytes(self, nbytes: int) -> bytes:
        return self._random.randbytes(nbytes)

    def randbelow(self, exclusive_upper_bound: int) -> int:
        return self._random.randrange(exclusive_upper_bound)


def make(
    *, settings: AccountSettings | None = None, clock: FixedClock | None = None
) -> tuple[Accounts, InMemoryAccountStore, FixedClock]:
    store = InMemoryAccountStore()
    clock = clock or FixedClock(START)
    service = Accounts(
        store,
        clock=clock,
        settings=settings or AccountSettings(hasher=CHEAP),
        random=SeededRandom(),
    )
    return service, store, clock


def invite(service: Accounts, email: str = "maman.concerto@example.fr", **kw: object) -> object:
    return service.invite(
        email=email,
        display_name="Madame CONCERTO Maman",
        household_ids=["h1"],
        **kw,  # type: ignore[arg-type]
    )


def active_account(service: Accounts) -> tuple[Account, str]:
    """An activated account whose temporary password has been changed to NEW_PASSWORD."""
    invitation = service.invite(
        email="maman.concerto@example.fr", display_name="Madame CONCERTO", household_ids=["h1"]
    )
    service.activate(invitation.activation_token)
    account = service.change_password(
        invitation.account.id, invitation.temporary_password, NEW_PASSWORD
    )
    return account, account.username


# -- invitation ------------------------------------------------------------------------------


def test_invite_creates_an_account_with_a_hashed_temporary_password() -> None:
    service, store, _ = make()
    invitation = service.invite(
        email="Maman.Concerto@Example.FR",
        display_name="Madame CONCERTO Maman",
        household_ids=["h1"],
    )
    account = invitation.account
    assert store.get(account.id) == account
    assert account.username == "maman.concerto"
    assert account.email == "Maman.Concerto@example.fr"
    assert account.status is AccountStatus.INVITED
    assert account.must_change_password
    assert account.roles == {Role.GUARDIAN}
    assert account.actor().household_ids == {"h1"}
    password = invitation.temporary_password.reveal()
    assert len(password) == 14
    assert any(c.isupper() for c in password)
    assert any(c.islower() for c in password)
    assert any(c.isdigit() for c in password)
    assert not set(password) & set("0O1lI")
    assert account.password_hash.startswith("$argon2id$")
    assert password not in account.password_hash
    # The token is stored only as a digest.
    selector, verifier = invitation.activation_token.reveal().split(".")
    stored = account.token(selector)
    assert stored is not None
    assert verifier not in stored.digest
    assert stored.expires_at == START + timedelta(days=14)
    assert invitation.event.account_id == account.id
    assert invitation.event.household_id == "h1"
    assert invitation.event.username == "maman.concerto"


def test_secrets_never_show_in_repr() -> None:
    service, _, _ = make()
    invitation = service.invite(email="a.b@example.fr", display_name="A B")
    password = invitation.temporary_password.reveal()
    token = invitation.activation_token.reveal()
    for text in (repr(invitation), str(invitation), repr(invitation.account), f"{invitation}"):
        assert password not in text
        assert token not in text
        assert token.split(".")[1] not in text
        assert invitation.account.password_hash not in text
    assert str(invitation.temporary_password) == "********"
    assert Secret("x") == Secret("x")
    assert Secret("x") != Secret("y")
    with pytest.raises(TypeError):
        hash(Secret("x"))


def test_default_random_source_gives_distinct_secrets() -> None:
    store = InMemoryAccountStore()
    service = Accounts(store, clock=FixedClock(START), settings=AccountSettings(hasher=CHEAP))
    one = service.invite(email="a@example.fr", display_name="A")
    two = service.invite(email="b@example.fr", display_name="B")
    assert one.temporary_password != two.temporary_password
    assert one.activation_token.reveal() != two.activation_token.reveal()


def test_usernames_are_derived_unique_or_refused_when_taken() -> None:
    service, store, _ = make()
    first = service.invite(email="jo@example.fr", display_name="Jo")
    second = service.invite(email="jo@example.org", display_name="Jo bis")
    assert (first.account.username, second.account.username) == ("jo0", "jo02")
    explicit = service.invite(email="c@example.fr", display_name="C", username="  Marie.D ")
    assert explicit.account.username == "marie.d"
    before = dict(store.accounts)
    with pytest.raises(ConflictError):
        service.invite(email="d@example.fr", display_name="D", username="marie.d")
    assert store.accounts == before


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a b@example.fr"}, "email"),
        ({"email": "a@localhost"}, "email"),
        ({"display_name": "  "}, "display_name"),
        ({"username": "é"}, "username"),
        ({"roles": ["pope"]}, "roles"),
        ({"roles": []}, "roles"),
    ],
)
def test_invite_rejects_bad_input_and_changes_nothing(kwargs: dict[str, object], path: str) -> None:
    service, store, _ = make()
    arguments: dict[str, object] = {"email": "ok@example.fr", "display_name": "Ok"}
    arguments.update(kwargs)
    with pytest.raises(InvalidInputError) as caught:
        service.invite(**arguments)  # type: ignore[arg-type]
    assert caught.value.path == path
    assert store.accounts == {}


# -- activation and first login ---------------------------------------------------------------


def test_full_lifecycle_first_login_forces_a_password_change() -> None:
    service, store, clock = make()
    invitation = service.invite(
        email="maman.concerto@example.fr", display_name="Madame CONCERTO", household_ids=["h1"]
    )
    account_id = invitation.account.id
    temporary = invitation.temporary_password

    with pytest.raises(AccountNotActivatedError, match="pas encore activé"):
        service.login("maman.concerto", temporary)
    activated = service.activate(invitation.activation_token.reveal())
    assert activated.status is AccountStatus.ACTIVE
    assert activated.activated_at == START

    clock.advance(minutes=5)
    login = service.login("Maman.Concerto", temporary.reveal(), source="192.0.2.1")
    assert login.must_change_password
    assert login.actor.user_id == account_id
    assert login.actor.household_ids == {"h1"}
    assert store.get(account_id).last_login_at == clock.now()  # type: ignore[union-attr]
    assert login.account.previous_login_at is None  # the first login: no previous one
    first_login = clock.now()
    # Nothing else is allowed until the password is changed.
    with pytest.raises(PasswordChangeRequiredError, match="mot de passe provisoire"):
        service.require_usable(account_id)

    # A weak, unchanged or username-containing password is refused and nothing changes.
    before = store.get(account_id)
    for weak, message in [
        ("court", "au moins 12"),
        ("abcdefghijklm", "trois types"),
        (temporary.reveal(), "différent"),
        ("Maman.Concerto-2023", "nom d'utilisateur"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            service.change_password(account_id, temporary, weak)
        assert store.get(account_id) == before
    with pytest.raises(InvalidCredentialsError):
        service.change_password(account_id, "wrong password", NEW_PASSWORD)
    assert store.get(account_id).password_hash == before.password_hash  # type: ignore[union-attr]

    changed = service.change_password(account_id, temporary, NEW_PASSWORD)
    assert not changed.must_change_password
    assert changed.password_changed_at == clock.now()
    assert service.require_usable(account_id) == changed
    with pytest.raises(InvalidCredentialsError):
        service.login("maman.concerto", temporary)
    clock.advance(hours=3)
    again = service.login("maman.concerto", NEW_PASSWORD)
    assert not again.must_change_password
    # "Dernière connexion le ..." is the login before this one, never the one being made.
    assert (again.account.previous_login_at, again.account.last_login_at) == (
        first_login,
        clock.now(),
    )


def test_activation_token_is_single_use() -> None:
    service, _, _ = make()
    invitation = service.invite(email="a@example.fr", display_name="A")
    service.activate(invitation.activation_token)
    with pytest.raises(TokenAlreadyUsedError, match="déjà été utilisé"):
        service.activate(invitation.activation_token)


def test_activation_token_expires() -> None:
    service, store, clock = make()
    invitation = service.invite(email="a@example.fr", display_name="A")
    clock.advance(days=14)
    with pytest.raises(TokenExpiredError, match="expiré"):
        service.activate(invitation.activation_token)
    assert store.get(invitation.account.id).status is AccountStatus.INVITED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # wrong verifier
        lambda t: "x" + t[1:] if t[0] != "x" else "y" + t[1:],  # unknown selector
        lambda t: t.replace(".", ""),  # malformed
        lambda t: "",
        lambda t: 42,
    ],
)
def test_tampered_tokens_are_invalid(mangle: object) -> None:
    service, store, _ = make()
    invitation = service.invite(email="a@example.fr", display_name="A")
    before = dict(store.accounts)
    with pytest.raises(InvalidTokenError, match="pas valide"):
        service.activate(mangle(invitation.activation_token.reveal()))  # type: ignore[operator]
    assert store.accounts == before


def test_reissued_invitation_revokes_the_old_link_and_password() -> None:
    service, _, _ = make()
    first = service.invite(email="a@example.fr", display_name="A")
    second = service.reissue_invitation(first.account.id)
    assert second.temporary_password != first.temporary_password
    with pytest.raises(InvalidTokenError):
        service.activate(first.activation_token)
    service.activate(second.activation_token)
    with pytest.raises(InvalidCredentialsError):
        service.login(first.account.username, first.temporary_password)
    assert service.login(first.account.username, second.temporary_password).must_change_password
    with pytest.raises(ConflictError):
        service.reissue_invitation(first.account.id)
    with pytest.raises(NotFoundError):
        service.reissue_invitation("nobody")


# -- portal opening date ---------------------------------------------------------------------


def test_family_logins_wait_for_the_portal_opening_date() -> None:
    settings = AccountSettings(hasher=CHEAP, portal_opens_at=date(2023, 8, 21))
    service, _, clock = make(settings=settings, clock=FixedClock(datetime(2023, 8, 1, tzinfo=UTC)))
    family = service.invite(email="a@example.fr", display_name="A", household_ids=["h1"])
    staff = service.invite(email="s@example.fr", display_name="S", roles=[Role.STAFF])
    service.activate(family.activation_token)
    service.activate(staff.activation_token)

    with pytest.raises(PortalNotOpenError) as caught:
        service.login(family.account.username, family.temporary_password)
    assert str(caught.value) == (
        "L'espace famille n'est pas encore ouvert : la connexion sera possible "
        "à partir du 21 août 2023."
    )
    assert caught.value.code == "portal_not_open"
    # A wrong password before the opening says nothing more than "incorrect".
    with pytest.raises(InvalidCredentialsError):
        service.login(family.account.username, "wrong")
    # Staff prepare the portal before it opens.
    assert service.login(staff.account.username, staff.temporary_password)

    # 21 August 00:00 in Paris is 20 August 22:00 UTC.
    clock.set(datetime(2023, 8, 20, 21, 59, tzinfo=UTC))
    with pytest.raises(PortalNotOpenError):
        service.login(family.account.username, family.temporary_password)
    clock.set(datetime(2023, 8, 20, 22, 0, tzinfo=UTC))
    assert service.login(family.account.username, family.temporary_password)


def test_opening_at_a_time_says_the_time() -> None:
    opens = datetime(2023, 8, 21, 9, 30, tzinfo=PARIS)
    service, _, _ = make(settings=AccountSettings(hasher=CHEAP, portal_opens_at=opens))
    family = service.invite(email="a@example.fr", display_name="A", household_ids=["h1"])
    with pytest.raises(PortalNotOpenError, match="à partir du 21 août 2023 à 9 h 30"):
        service.login(family.account.username, family.temporary_password)


def test_opening_date_must_be_aware() -> None:
    with pytest.raises(InvalidInputError, match="naive"):
        AccountSettings(portal_opens_at=datetime(2023, 8, 21))


# -- throttling ------------------------------------------------------------------------------


def test_repeated_failures_lock_the_account_exponentially() -> None:
    service, store, clock = make()
    account, username = active_account(service)
    for _ in range(5):  # five free failures
        with pytest.raises(InvalidCredentialsError):
            service.login(username, "wrong password")
    with pytest.raises(InvalidCredentialsError):
        service.login(username, "wrong password")  # sixth: locks for 30 s
    with pytest.raises(LoginThrottledError, match="Réessayez dans 30 secondes") as caught:
        service.login(username, NEW_PASSWORD)  # even the right password waits
    assert caught.value.retry_after == timedelta(seconds=30)
    clock.advance(seconds=30)
    with pytest.raises(InvalidCredentialsError):
        service.login(username, "wrong password")  # seventh: 60 s
    clock.advance(seconds=59)
    with pytest.raises(LoginThrottledError, match="1 seconde"):
        service.login(username, NEW_PASSWORD)
    clock.advance(seconds=1)
    assert service.login(username, NEW_PASSWORD)
    # Success clears the account's counter.
    assert store.throttle(f"account:{account.id}") == ThrottleState()


def test_failures_are_forgotten_after_a_quiet_day() -> None:
    service, store, clock = make()
    account, username = active_account(service)
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            service.login(username, "wrong")
    clock.advance(days=1)
    with pytest.raises(InvalidCredentialsError):
        service.login(username, "wrong")
    assert store.throttle(f"account:{account.id}").failures == 1
    assert service.login(username, NEW_PASSWORD)


def test_a_source_guessing_many_usernames_is_locked() -> None:
    service, _, clock = make()
    _, username = active_account(service)
    for n in range(20):
        with pytest.raises(InvalidCredentialsError):
            service.login(f"someone{n}", "guess", source="203.0.113.9")
    with pytest.raises(InvalidCredentialsError):
        service.login("someone-else", "guess", source="203.0.113.9")
    with pytest.raises(LoginThrottledError):
        service.login(username, NEW_PASSWORD, source="203.0.113.9")
    # Other sources are not affected, and the lock ends.
    assert service.login(username, NEW_PASSWORD, source="198.51.100.1")
    clock.advance(seconds=10)
    assert service.login(username, NEW_PASSWORD, source="203.0.113.9")


def test_unknown_user_and_wrong_password_look_the_same() -> None:
    service, _, _ = make()
    _, username = active_account(service)
    with pytest.raises(InvalidCredentialsError) as unknown:
        service.login("nobody", "x")
    with pytest.raises(InvalidCredentialsError) as wrong:
        service.login(username, "x")
    with pytest.raises(InvalidCredentialsError) as malformed:
        service.login("é!", "x")
    assert str(unknown.value) == str(wrong.value) == str(malformed.value)
    assert str(wrong.value) == "Identifiant ou mot de passe incorrect."
    assert isinstance(wrong.value, NotAuthorizedError)


def test_login_rejects_non_string_input() -> None:
    service, _, _ = make()
    with pytest.raises(InvalidInputError, match="password"):
        service.login("user", None)  # type: ignore[arg-type]


@given(
    free=st.integers(0, 10),
    base=st.integers(1, 120),
    cap=st.integers(1, 10_000),
    failures=st.lists(st.integers(0, 100), min_size=2, max_size=2),
)
def test_lockout_grows_and_stays_capped(
    free: int, base: int, cap: int, failures: list[int]
) -> None:
    policy = ThrottlePolicy(
        free_failures=free, base_lockout=timedelta(seconds=base), max_lockout=timedelta(seconds=cap)
    )
    low, high = sorted(failures)
    assert policy.lockout_after(low) <= policy.lockout_after(high) <= timedelta(seconds=cap)
    assert (policy.lockout_after(high) > timedelta(0)) == (high > free)


# -- rehash ----------------------------------------------------------------------------------


def test_hash_is_upgraded_at_login_when_parameters_change() -> None:
    service, store, clock = make()
    account, username = active_account(service)
    old_hash = store.get(account.id).password_hash  # type: ignore[union-attr]
    assert "m=8," in old_hash
    stronger = argon2.PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    upgraded = Accounts(
        store, clock=clock, settings=AccountSettings(hasher=stronger), random=SeededRandom(3)
    )
    upgraded.login(username, NEW_PASSWORD)
    new_hash = store.get(account.id).password_hash  # type: ignore[union-attr]
    assert new_hash != old_hash
    assert "m=16,t=2" in new_hash
    assert not stronger.check_needs_rehash(new_hash)
    # A failed login does not touch the hash; a second success keeps the upgraded one.
    with pytest.raises(InvalidCredentialsError):
        upgraded.login(username, "wrong")
    upgraded.login(username, NEW_PASSWORD)
    assert store.get(account.id).password_hash == new_hash  # type: ignore[union-attr]


# -- password reset --------------------------------------------------------------------------


def test_password_reset_by_emailed_token() -> None:
    service, store, clock = make()
    account, username = active_account(service)
    assert service.request_password_reset("nobody@example.fr") == []
    assert service.request_password_reset("nobody") == []
    (reset,) = service.request_password_reset("MAMAN.CONCERTO@example.fr")
    assert reset.account.id == account.id
    assert reset.expires_at == clock.now() + timedelta(hours=1)
    with pytest.raises(InvalidInputError, match="au moins 12"):
        service.reset_password(reset.token, "short")
    changed = service.reset_password(reset.token, "Nouveau-Mot-2024")
    assert not changed.must_change_password
    assert service.login(username, "Nouveau-Mot-2024")
    with pytest.raises(InvalidCredentialsError):
        service.login(username, NEW_PASSWORD)
    with pytest.raises(TokenAlreadyUsedError):
        service.reset_password(reset.token, "Encore-Un-Autre-2024")
    # Activation tokens are not reset tokens, and vice versa.
    (again,) = service.request_password_reset(username)
    with pytest.raises(InvalidTokenError):
        service.activate(again.token)
    assert store.get(account.id).status is AccountStatus.ACTIVE  # type: ignore[union-attr]


def test_reset_token_expires_and_a_new_request_revokes_the_old() -> None:
    service, _, clock = make()
    _, username = active_account(service)
    (first,) = service.request_password_reset(username)
    (second,) = service.request_password_reset(username)
    with pytest.raises(InvalidTokenError):
        service.reset_password(first.token, "Nouveau-Mot-2024")
    clock.advance(hours=1)
    with pytest.raises(TokenExpiredError):
        service.reset_password(second.token, "Nouveau-Mot-2024")
    assert service.login(username, NEW_PASSWORD)


def test_changing_the_password_revokes_pending_reset_links() -> None:
    service, _, _ = make()
    account, username = active_account(service)
    (reset,) = service.request_password_reset(username)
    service.change_password(account.id, NEW_PASSWORD, "Autre-Mot-De-Passe-9")
    with pytest.raises(InvalidTokenError):
        service.reset_password(reset.token, "Encore-Un-Autre-2024")
    assert service.login(username, "Autre-Mot-De-Passe-9")


def test_reset_lifts_a_lockout_and_activates_an_invited_account() -> None:
    service, store, _ = make()
    invitation = service.invite(email="a@example.fr", display_name="A", household_ids=["h1"])
    username = invitation.account.username
    for _ in range(6):
        with pytest.raises(InvalidCredentialsError):
            service.login(username, "wrong")
    with pytest.raises(LoginThrottledError):
        service.login(username, invitation.temporary_password)
    (reset,) = service.request_password_reset(username)
    account = service.reset_password(reset.token, "Nouveau-Mot-2024")
    assert account.status is AccountStatus.ACTIVE
    with pytest.raises(InvalidTokenError):
        service.activate(invitation.activation_token)  # no longer needed
    login = service.login(username, "Nouveau-Mot-2024")
    assert not login.must_change_password
    assert service.require_usable(account.id) == store.get(account.id)


def test_disabled_accounts_cannot_log_in_reset_or_act() -> None:
    service, _, _ = make()
    account, username = active_account(service)
    service.disable(account.id)
    with pytest.raises(AccountDisabledError, match="désactivé"):
        service.login(username, NEW_PASSWORD)
    with pytest.raises(AccountDisabledError):
        service.require_usable(account.id)
    assert service.request_password_reset(username) == []
    enabled = service.enable(account.id)
    assert enabled.status is AccountStatus.ACTIVE
    assert service.login(username, NEW_PASSWORD)


def test_require_usable_refuses_unknown_and_invited_accounts() -> None:
    service, _, _ = make()
    invitation = service.invite(email="a@example.fr", display_name="A")
    with pytest.raises(AccountNotActivatedError):
        service.require_usable(invitation.account.id)
    with pytest.raises(NotFoundError):
        service.require_usable("nope")
    with pytest.raises(AuthenticationError):
        service.change_password(invitation.account.id, invitation.temporary_password, NEW_PASSWORD)


@given(st.text(min_size=12, max_size=40))
def test_password_rule_accepts_only_strong_enough(password: str) -> None:
    try:
        check_password_strength(password, username="marie")
    except InvalidInputError as error:
        refused: InvalidInputError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.path == "new_password"
    else:
        kinds = sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )
        assert kinds >= 3 or len(password) >= 16
        assert "marie" not in password.lower()


class ActivationTokens(RuleBasedStateMachine):
    """Activation links work once, before they expire, and only the latest one."""

    def __init__(self) -> None:
        super().__init__()
        self.service, self.store, self.clock = make()
        self.links: list[tuple[str, str]] = []  # (account id, token) in issue order
        self.latest: dict[str, str] = {}
        self.expires: dict[str, datetime] = {}
        self.activated: set[str] = set()
        self.count = 0

    @rule()
    def invite(self) -> None:
        self.count += 1
        invitation = self.service.invite(email=f"p{self.count}@example.fr", display_name="P")
        account_id, token = invitation.account.id, invitation.activation_token.reveal()
        self.links.append((account_id, token))
        self.latest[account_id] = token
        self.expires[token] = invitation.expires_at

    @precondition(lambda self: self.links)
    @rule(data=st.data())
    def reissue(self, data: st.DataObject) -> None:
        account_id, _ = data.draw(st.sampled_from(self.links))
        if account_id in self.activated:
            with pytest.raises(ConflictError):
                self.service.reissue_invitation(account_id)
            return
        invitation = self.service.reissue_invitation(account_id)
        token = invitation.activation_token.reveal()
        self.links.append((account_id, token))
        self.latest[account_id] = token
        self.expires[token] = invitation.expires_at

    @rule(days=st.integers(0, 10))
    def wait(self, days: int) -> None:
        self.clock.advance(days=days)

    @precondition(lambda self: self.links)
    @rule(data=st.data())
    def activate(self, data: st.DataObject) -> None:
        account_id, token = data.draw(st.sampled_from(self.links))
        if self.latest[account_id] != token:
            expected: type[Exception] | None = InvalidTokenError
        elif account_id in self.activated:
            expected = TokenAlreadyUsedError
        elif self.clock.now() >= self.expires[token]:
            expected = TokenExpiredError
        else:
            expected = None
        if expected is None:
            assert self.service.activate(token).status is AccountStatus.ACTIVE
            self.activated.add(account_id)
        else:
            with pytest.raises(expected):
                self.service.activate(token)

    @invariant()
    def statuses_match(self) -> None:
        for account_id in self.latest:
            account = self.store.get(account_id)
            assert account is not None
            active = account.status is AccountStatus.ACTIVE
            assert active is (account_id in self.activated)


TestActivationTokens = ActivationTokens.TestCase
TestActivationTokens.settings = settings(max_examples=30, stateful_step_count=15, deadline=None)
