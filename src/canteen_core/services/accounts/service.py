"""Portal accounts and email delivery: the seed's steps 1 and 2.

``canteen.accounts`` on the facade. The commune invites a guardian (account + welcome email
with username, temporary password and activation link, queued in the outbox in the same
transaction); the guardian activates, logs in and must change the temporary password before
anything else. :meth:`AccountService.send_outbox` sends what is queued through the mailer the
deployment names.

Login, activation and password reset run before anyone is authenticated: they are the only
use cases that do not go through :func:`canteen_core.domain.policy.authorize` (they check a secret
instead). Changing one's own password needs no policy grant either: the account is the
actor's own, and it is the one thing allowed while the password must change.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from datetime import date, datetime

import attrs

from canteen_core.domain._validators import enum_member
from canteen_core.domain.accounts import (
    AccountView,
    AuthenticationError,
    InvalidCredentialsError,
    Invitation,
    Login,
    LoginThrottledError,
    Secret,
)
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.audit import AccountAction
from canteen_core.domain.errors import (
    CanteenError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.mail_secrets import SealedSecretsError, open_message
from canteen_core.domain.notifications import Recipient
from canteen_core.domain.outbox import DeliveryStatus, Dispatcher, DispatchReport, OutboxRecord
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import UnitOfWork, outbox_store
from canteen_core.services.accounts.audited import (
    RecordingStore,
    find_account,
    note_saved,
    record_step,
)
from canteen_core.services.accounts.use_cases import Accounts
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["AccountService"]


class AccountService(ServiceBase):
    """Invitations, activation, login, passwords, the portal opening date, the outbox."""

    #: Checked by the account rules (their own French messages; an odd ``source`` is
    #: normalised and still counted, never refused): see canteen_core.services.inputs.
    _checked_by_use_case = frozenset(
        {"username", "password", "login", "email", "current_password", "new_password", "source"}
    )

    def _recorded(self, uow: UnitOfWork) -> tuple[Accounts, RecordingStore]:
        """The account use cases over ``uow``'s repository, remembering what they save (for
        the audit entry of an account's own step: :mod:`.audited`)."""
        store = RecordingStore(uow.accounts)
        ctx = self._ctx
        return Accounts(store, clock=ctx.clock, settings=ctx.account_settings), store

    # -- the commune ---------------------------------------------------------------------------

    def invite(
        self,
        actor: Actor,
        *,
        email: str,
        display_name: str,
        roles: Iterable[Role | str] = (Role.GUARDIAN,),
        household_ids: Iterable[str] = (),
        username: str | None = None,
        account_id: str | None = None,
    ) -> AccountView:
        """Create an account and queue its welcome email (admin), in one transaction.

        The email carries the username, a temporary password and the activation link (and
        the portal opening date when set). ``AccountInvited`` fires after commit.
        """
        households = tuple(household_ids)
        with self._ctx.use_case(actor, Action.INVITE_ACCOUNT) as tx:
            for household_id in households:
                tx.uow.households.get(household_id)  # NotFoundError for an unknown household
            accounts, store = self._recorded(tx.uow)
            invitation = accounts.invite(
                email=email,
                display_name=display_name,
                username=username,
                roles=roles,
                household_ids=households,
                account_id=account_id,
            )
            return self._invited(tx, store, invitation)

    def invite_guardian(
        self, actor: Actor, household_id: str, guardian_id: str, *, username: str | None = None
    ) -> AccountView:
        """Invite a household's payer (role guardian) or co-representative, with the
        guardian's email and name; the account id is the guardian id, so the logged-in actor
        is the guardian the households name."""
        with self._ctx.use_case(actor, Action.INVITE_ACCOUNT) as tx:
            household = tx.uow.households.get(household_id)
            others = [h.id for h in tx.uow.households.of_guardian(guardian_id)]
            guardian = next((g for g in household.guardians if g.id == guardian_id), None)
            if guardian is None:
                raise NotFoundError(f"no guardian {guardian_id!r} in household {household_id!r}")
            if guardian.email is None:
                raise InvalidInputError(
                    f"le responsable {guardian_id} n'a pas d'adresse électronique", path="email"
                )
            role = Role.GUARDIAN if household.payer.id == guardian_id else Role.CO_REPRESENTATIVE
            accounts, store = self._recorded(tx.uow)
            invitation = accounts.invite(
                email=guardian.email,
                display_name=guardian.display_name,
                username=username,
                roles=(role,),
                household_ids=sorted({household_id, *others}),
                account_id=guardian_id,
            )
            return self._invited(tx, store, invitation, Recipient.from_guardian(guardian))

    def reissue_invitation(self, actor: Actor, account_id: str) -> AccountView:
        """New temporary password and activation link for an account not yet activated."""
        with self._ctx.use_case(actor, Action.INVITE_ACCOUNT) as tx:
            accounts, store = self._recorded(tx.uow)
            invitation = accounts.reissue_invitation(account_id)
            tx.audit.touch(f"account:{account_id}")
            return self._invited(tx, store, invitation)

    def _invited(
        self,
        tx: Transaction,
        store: RecordingStore,
        invitation: Invitation,
        recipient: Recipient | None = None,
    ) -> AccountView:
        """Audit the invited account, queue its welcome email and fire ``AccountInvited``
        (after commit)."""
        note_saved(tx.audit, store)
        opens_at = self._ctx.account_settings.portal_opens_at
        tx.send(self._ctx.notifier.invitation(invitation, recipient=recipient, opens_at=opens_at))
        tx.emit(invitation.event)
        return invitation.account.view()

    def disable(self, actor: Actor, account_id: str) -> AccountView:
        """Disable an account (admin): no login until :meth:`enable`."""
        return self._switch(actor, account_id, enabled=False)

    def enable(self, actor: Actor, account_id: str) -> AccountView:
        """Re-enable a disabled account (admin)."""
        return self._switch(actor, account_id, enabled=True)

    def _switch(self, actor: Actor, account_id: str, *, enabled: bool) -> AccountView:
        with self._ctx.use_case(actor, Action.MANAGE_ACCOUNTS) as tx:
            accounts, store = self._recorded(tx.uow)
            switch = accounts.enable if enabled else accounts.disable
            account = switch(account_id)
            note_saved(tx.audit, store)
            step = "Réactivation" if enabled else "Désactivation"
            tx.audit.describe(f"{step} du compte {account.username}")
            return account.view()

    def list_accounts(self, actor: Actor) -> list[AccountView]:
        """Every account (admin)."""
        with self._ctx.use_case(actor, Action.MANAGE_ACCOUNTS, read_only=True) as tx:
            return [account.view() for account in tx.uow.accounts.list()]

    def get(self, actor: Actor, account_id: str) -> AccountView:
        """One account: one's own, or any for an admin."""
        if isinstance(actor, Actor) and actor.user_id == account_id:
            with self._ctx.public_use_case() as tx:
                account = tx.uow.accounts.get(account_id)
        else:
            with self._ctx.use_case(actor, Action.MANAGE_ACCOUNTS, read_only=True) as tx:
                account = tx.uow.accounts.get(account_id)
        if account is None:
            raise NotFoundError(f"no account {account_id!r}")
        return account.view()

    # -- the portal opening date ------------------------------------------------------------

    @property
    def portal_opens_at(self) -> datetime | None:
        """When family logins open (``None``: open)."""
        return self._ctx.account_settings.portal_opens_at

    def set_portal_opening(self, actor: Actor, opens_on: date | datetime | None) -> None:
        """Hold family logins until ``opens_on`` (a date means midnight in Paris; admin).

        Applies to this running canteen; make it permanent with ``[portal] opening_date``
        in the deployment file.
        """
        with self._ctx.use_case(actor, Action.MANAGE_ACCOUNTS, read_only=True):
            settings = attrs.evolve(self._ctx.account_settings, portal_opens_at=opens_on)
        self._ctx.account_settings = settings

    # -- the family (not yet authenticated) -------------------------------------------------

    def activate(self, token: str | Secret) -> AccountView:
        """Follow the activation link (single use, expiring); audited as the account's own
        step."""
        with self._ctx.public_use_case() as tx:
            accounts, store = self._recorded(tx.uow)
            account = accounts.activate(token)
            record_step(tx, store, AccountAction.ACTIVATE_ACCOUNT, account)
            return account.view()

    def login(self, username: str, password: str | Secret, *, source: str | None = None) -> Login:
        """Check credentials; returns the :class:`~canteen_core.domain.accounts.Login` whose
        ``actor`` the portal passes to every other call. Failed attempts are recorded and
        throttled (per account and per ``source`` address) even though the call raises.

        A login and a refused one leave an audit entry (a wrong password's actor is
        ``anonyme``: the requester proved nothing); a throttled attempt changes nothing and
        leaves none.
        """
        with self._ctx.public_use_case(commit_on=(AuthenticationError,)) as tx:
            accounts, store = self._recorded(tx.uow)
            try:
                login = accounts.login(username, password, source=source)
            except LoginThrottledError:
                raise
            except AuthenticationError as error:
                target = find_account(tx.uow.accounts, username)
                proven = None if isinstance(error, InvalidCredentialsError) else target
                reason = " ".join(str(error).split()).rstrip(".")
                record_step(
                    tx,
                    store,
                    AccountAction.FAILED_LOGIN,
                    proven,
                    target=target,
                    summary=f"Connexion refusée : {reason}"
                    + ("" if target is not None else " (identifiant inconnu)"),
                )
                raise
            account = store.after[login.account.id]
            record_step(tx, store, AccountAction.LOG_IN, account)
            return login

    def logout(self, actor: Actor) -> None:
        """Record in the audit trail that ``actor`` ended its portal session (the portal
        drops the session itself). Nothing is recorded for an account erased meanwhile."""
        if not isinstance(actor, Actor):
            raise InvalidInputError("expected an acting Actor", path="actor")
        with self._ctx.public_use_case() as tx:
            account = tx.uow.accounts.get(actor.user_id)
            if account is not None:
                _, store = self._recorded(tx.uow)
                record_step(tx, store, AccountAction.LOG_OUT, account)

    def change_password(
        self, actor: Actor, current_password: str | Secret, new_password: str | Secret
    ) -> AccountView:
        """Change one's own password (the temporary one at first login): the only use case
        allowed while the password must change. Audited, a wrong current password too."""
        if not isinstance(actor, Actor):
            raise InvalidInputError("expected an acting Actor", path="actor")
        with self._ctx.public_use_case(commit_on=(AuthenticationError,)) as tx:
            own = tx.uow.accounts.get(actor.user_id)
            if own is None:
                raise NotAuthorizedError("Ce compte n'existe pas sur le portail.")
            accounts, store = self._recorded(tx.uow)
            try:
                account = accounts.change_password(actor.user_id, current_password, new_password)
            except InvalidCredentialsError:
                record_step(
                    tx,
                    store,
                    AccountAction.CHANGE_PASSWORD,
                    own,
                    summary="Changement de mot de passe refusé : mot de passe actuel erroné",
                )
                raise
            record_step(tx, store, AccountAction.CHANGE_PASSWORD, account)
            return account.view()

    def request_password_reset(self, login: str) -> None:
        """Email a reset link to the account(s) matching ``login`` (username or email).

        Returns nothing either way: the portal answers "si un compte existe, un courriel a
        été envoyé" and reveals no account. Each link sent is audited (actor ``anonyme``:
        anyone may ask), without the link's token.
        """
        with self._ctx.public_use_case() as tx:
            accounts, store = self._recorded(tx.uow)
            resets = accounts.request_password_reset(login)
            for reset in resets:
                tx.send(self._ctx.notifier.password_reset(reset))
            if resets:
                record_step(tx, store, AccountAction.REQUEST_PASSWORD_RESET, None)
                for reset in resets:
                    tx.audit.change(
                        f"account:{reset.account.id}",
                        "reset_link_expires_at",
                        None,
                        reset.expires_at,
                    )

    def reset_password(self, token: str | Secret, new_password: str | Secret) -> AccountView:
        """Set a new password from an emailed reset link (single use, expiring); audited as
        the account's own step (following the link proves the address)."""
        with self._ctx.public_use_case() as tx:
            accounts, store = self._recorded(tx.uow)
            account = accounts.reset_password(token, new_password)
            record_step(tx, store, AccountAction.RESET_PASSWORD, account)
            return account.view()

    # -- the outbox ----------------------------------------------------------------------------

    def send_outbox(self, actor: Actor, *, max_batches: int = 100) -> DispatchReport:
        """Send the queued emails through the deployment's mailer (system, admin).

        Failures are retried later with backoff and never undo anything; each step commits on
        its own, so a crash loses nothing.
        """
        with self._ctx.use_case(actor, Action.SEND_OUTBOX, read_only=True):
            pass  # authorization only: the dispatcher commits each step itself
        dispatcher = Dispatcher(
            outbox_store(self._ctx.storage),
            self._ctx.mailer,
            clock=self._ctx.clock,
            secrets=self._ctx.mail_secrets,
            renderer=self._ctx.notifier.render_deferred,
        )
        return dispatcher.run_until_idle(max_batches=max_batches)

    def outbox(
        self, actor: Actor, status: DeliveryStatus | str | None = None
    ) -> list[OutboxRecord]:
        """Queued, sent and dead messages (admin), oldest first."""
        wanted = None
        if status is not None:
            wanted = enum_member(DeliveryStatus, status, path="status", what="le statut")
        with self._ctx.use_case(actor, Action.VIEW_OUTBOX, read_only=True) as tx:
            records = list(tx.uow.outbox.records(wanted))
        return [self._opened(record) for record in records]

    def _opened(self, record: OutboxRecord) -> OutboxRecord:
        """``record`` as the admin sees it: a pending message shows the email it will send
        (its sealed secrets opened, rendered if it was queued unrendered), the stored row
        keeps its secrets encrypted."""
        message = record.message
        if record.status is not DeliveryStatus.SENT:
            # A broken template: shown as queued (the dispatcher reports the error).
            with suppress(CanteenError):
                message = self._ctx.notifier.render_deferred(message)
        with suppress(SealedSecretsError):  # another key, or dropped: shown with placeholders
            message = open_message(message, self._ctx.mail_secrets)
        return record if message is record.message else attrs.evolve(record, message=message)
